"""The one grammar for sizes and durations, parsed and printed the same everywhere.

Sizes (flags, `odarchive.toml`, `ODARCHIVE_*`, and every size a command prints), as rclone and
coreutils tell them apart:

    10G  = 10GB  = 10 * 1000**3   (decimal: k, M, G, T, P, with or without a trailing B)
    10GiB = 10Gi = 10 * 1024**3   (binary: Ki, Mi, Gi, Ti, Pi, with or without a trailing B)
    4096 = 4096 bytes             (a plain number; "_" may group digits: 64_000)

`format_size` prints a size so that `parse_size` reads it back: a whole number of a decimal
unit when the size is exactly that ("64 kB"), else a whole number (or tenths) of a binary unit
when it is exactly that (a 10 GiB cache prints "10 GiB"), else decimal units to one decimal
("25.0 GB" for a BD-R's 25,025,314,816 bytes).

Durations: a number with s, m, h, d or w, or several in a row ("1h30m"); a plain number is
seconds. `format_duration` prints the same way ("1h30m", "30d", "0.5s").
"""

from __future__ import annotations

import re

DECIMAL = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}
BINARY = {"ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4, "pi": 1024**5}
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([kmgtp]i?)?b?")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smhdw])")
SIZE_HELP = "10G = 10*10^9 bytes, 10GiB = 10*2^30"
DURATION_HELP = "90s, 15m, 12h, 30d, 2w, 1h30m"


def parse_size(text: str | int) -> int:
    """Bytes in `text` ("10G", "10GiB", "512k", "4096"); ValueError naming the grammar."""
    if isinstance(text, bool):
        raise ValueError(f"not a size: {text!r} (use e.g. 700M, 10G or 10GiB)")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"not a size: {text} (negative)")
        return text
    m = _SIZE.fullmatch(text.strip().lower().replace("_", ""))
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 700M, 10G or 10GiB: {SIZE_HELP})")
    unit = m.group(2) or ""
    return int(float(m.group(1)) * (BINARY[unit] if unit.endswith("i") else DECIMAL[unit]) + 0.5)


def format_size(n: float) -> str:
    """`n` bytes in the grammar `parse_size` reads: "512 B", "10 GiB", "1.5 MiB", "25.0 GB"."""
    n = int(n)
    sign, n = ("-", -n) if n < 0 else ("", n)
    if n < 1000:
        return f"{sign}{n} B"
    unit, factor = next((u, f) for u, f in reversed(DECIMAL.items()) if n >= f)
    name = f"{'k' if unit == 'k' else unit.upper()}B"
    if n % factor == 0:  # a whole number of its largest decimal unit: "64 kB", "10 GB"
        return f"{sign}{n // factor} {name}"
    binary = next(((u, f) for u, f in reversed(BINARY.items()) if n >= f), None)
    if binary and (n * 10) % binary[1] == 0:  # whole or tenths of its largest binary unit: "10 GiB"
        return f"{sign}{n / binary[1]:g} {binary[0][0].upper()}iB"
    return f"{sign}{n / factor:.1f} {name}"


def parse_duration(text: str | float) -> float:
    """Seconds in `text` ("90", "90s", "15m", "1h30m", "30d"); ValueError naming the grammar."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r} (use e.g. {DURATION_HELP})")
    if isinstance(text, (int, float)):
        if not 0 <= text < float("inf"):
            raise ValueError(f"not a duration: {text} (negative or not a number)")
        return float(text)
    s = text.strip().lower().replace(" ", "")
    try:
        return parse_duration(float(s))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(s)
    if not s or not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"not a duration: {text!r} (use e.g. {DURATION_HELP})")
    return sum(float(n) * SECONDS[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """`seconds` in the grammar `parse_duration` reads: "0s", "0.5s", "1h30m", "30d"."""
    if seconds < 60:
        return f"{seconds:g}s"
    out, rest = "", round(seconds)
    for unit, factor in sorted(SECONDS.items(), key=lambda kv: -kv[1]):
        if rest >= factor:
            out, rest = out + f"{rest // factor}{unit}", rest % factor
    return out
