"""Disc selections on the command line: `7`, `0-40`, `3,5,9-12` or `all` -> disc numbers.

One parser for every command that takes discs (`create_iso`, `robot burn --segments`,
`scrub --discs`), so they accept the same text and fail the same way: bad syntax is a
UsageError, a disc that is not planned is a DiscError naming it.
"""

from __future__ import annotations

from collections.abc import Iterable

from odarchive.errors import DiscError, UsageError

SYNTAX_HINT = "use N, A-B, a list such as 3,5,9-12, or all"


def parse_disc_selection(spec: str, known: Iterable[int], *, what: str = "disc selection") -> list[int]:
    """The sorted disc numbers `spec` names; every one must be in `known` (the planned discs)."""
    known_set = set(known)
    text = spec.strip().lower()
    if text == "all":
        return sorted(known_set)
    wanted: set[int] = set()
    for part in text.split(","):
        wanted.update(_part(part.strip(), spec, what))
    missing = sorted(wanted - known_set)
    if missing:
        shown = ", ".join(str(d) for d in missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise DiscError(
            f"no planned disc{'s' if len(missing) > 1 else ''} {shown} in the catalogue",
            hint="see `odarchive num_isos`; plan discs with `odarchive plan_iso SIZE`",
        )
    return sorted(wanted)


def _part(part: str, spec: str, what: str) -> range:
    lo_text, dash, hi_text = part.partition("-")
    try:
        lo = int(lo_text)
        hi = int(hi_text) if dash else lo
    except ValueError:
        raise UsageError(f"bad {what} {spec!r}", hint=SYNTAX_HINT) from None
    if lo < 0 or hi < lo or not lo_text.isdigit() or (dash and not hi_text.isdigit()):
        raise UsageError(f"bad {what} {spec!r}", hint=SYNTAX_HINT)
    return range(lo, hi + 1)
