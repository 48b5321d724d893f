"""Names on a disc: the UDF, ISO 9660 (level 3) and Joliet name of every file and directory.

UDF carries the original names. A name is decoded as UTF-8; a byte that is not part of valid
UTF-8 is written as the private-use character U+F700 + byte (so b"caf\\xe9" becomes
"caf\\uf7e9"), which is reversible. UDF allows 253 Latin-1 or 126 UTF-16 characters, and a
name must stay within 255 bytes as UTF-8 to be extracted on Linux; a longer name is shortened
and given a short hash of the original (`~1a2b3c4d`). Every name whose UDF form is not simply
its UTF-8 text is recorded with its raw bytes in the disc's catalogue.json.

ISO 9660 level 3 names use A-Z 0-9 _ only, at most 30 characters for files (plus ";1") and 31
for directories, at most 7 levels; Joliet names are at most 64 UTF-8 bytes (pycdlib's limit)
without * / : ; ? \\. Both are always mapped (collisions get `_N`/`~N` suffixes) and the
mapping of every file is recorded in catalogue.json, so no view ever fails to build.
"""

from __future__ import annotations

import hashlib
import re

PUA_BASE = 0xF700
UDF_MAX_LATIN1 = 253
UDF_MAX_UTF16 = 126
ISO_FILE_MAX = 30
ISO_DIR_MAX = 31
JOLIET_MAX_BYTES = 64
_NOT_D_CHARS = re.compile(r"[^A-Z0-9_]")
_PUA_BYTES = re.compile("[\uf780-\uf7ff]")
_JOLIET_CLEAN = {ord(c): "_" for c in "*/:;?\\"} | {c: "_" for c in range(32)}
_JOLIET_BAD = re.compile(r"[*/:;?\\\x00-\x1f]")


def udf_text(raw: bytes) -> str:
    """The lossless text form of a raw name: UTF-8, bad bytes as U+F700+byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
    return "".join(chr(PUA_BASE + ord(c) - 0xDC00) if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)


def raw_from_udf_text(text: str) -> bytes:
    """The inverse of `udf_text` (for names that were not shortened)."""
    if not _PUA_BYTES.search(text):
        return text.encode("utf-8")
    return "".join(chr(ord(c) - PUA_BASE + 0xDC00) if 0xF780 <= ord(c) <= 0xF7FF else c for c in text).encode(
        "utf-8", "surrogateescape"
    )


def udf_fits(text: str) -> bool:
    """Within UDF's limits, and at most 255 bytes as UTF-8 (so that a reader can extract it
    onto a POSIX file system: a byte that is not UTF-8 takes three bytes as U+F7xx)."""
    if len(text.encode("utf-8", "surrogatepass")) > 255:
        return False
    try:
        return len(text.encode("latin-1")) <= UDF_MAX_LATIN1
    except UnicodeEncodeError:
        return len(text.encode("utf-16-be")) // 2 <= UDF_MAX_UTF16


def udf_fi_length(text: str) -> int:
    """Bytes of a UDF file identifier (compression id + characters), as pycdlib writes it."""
    try:
        return 1 + len(text.encode("latin-1"))
    except UnicodeEncodeError:
        return 1 + len(text.encode("utf-16-be"))


def _split_ext(text: str, max_ext: int) -> tuple[str, str]:
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > max_ext:
        return text, ""
    return stem, "." + ext


def udf_name(raw: bytes, taken: set[str]) -> str:
    """The UDF name of raw name `raw`, unique among `taken` (which it is added to)."""
    if len(raw) <= UDF_MAX_LATIN1 and raw.isascii():  # the usual name: itself, within every limit
        text = raw.decode("ascii")
        if text not in taken:
            taken.add(text)
            return text
    text = udf_text(raw)
    if not udf_fits(text) or text in taken:
        stem, ext = _split_ext(text, 16)
        tag = "~" + hashlib.sha256(raw).hexdigest()[:8]
        n = 0
        while True:
            suffix = tag + (f"_{n}" if n else "") + ext
            cut = len(stem)
            while cut > 0 and not udf_fits(stem[:cut] + suffix):
                cut -= 1
            text = stem[:cut] + suffix
            if text not in taken:
                break
            n += 1
    taken.add(text)
    return text


def _iso_chars(text: str) -> str:
    return _NOT_D_CHARS.sub("_", text.upper())


def iso_file_name(text: str, taken: set[str]) -> str:
    """An ISO 9660 level 3 file identifier ("NAME.EXT;1"), unique among `taken`."""
    stem, ext = _split_ext(text, 8)
    ext = _iso_chars(ext[1:]) if ext else ""
    base = _iso_chars(stem)[: ISO_FILE_MAX - len(ext) - 1] or "_"
    n = 0
    while True:
        suffix = f"_{n}" if n else ""
        ident = f"{base[: ISO_FILE_MAX - len(ext) - 1 - len(suffix)]}{suffix}.{ext};1"
        if ident not in taken:
            taken.add(ident)
            return ident
        n += 1


def iso_dir_name(text: str, taken: set[str]) -> str:
    """An ISO 9660 directory identifier, unique among `taken`."""
    base = _iso_chars(text)[:ISO_DIR_MAX] or "_"
    n = 0
    while True:
        suffix = f"_{n}" if n else ""
        ident = base[: ISO_DIR_MAX - len(suffix)] + suffix
        if ident not in taken:
            taken.add(ident)
            return ident
        n += 1


def _utf8_cut(text: str, max_bytes: int) -> str:
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    return text


def joliet_name(text: str, taken: set[str]) -> str:
    """A Joliet name (at most 64 UTF-8 bytes, no * / : ; ? \\ or controls), unique among `taken`.

    `taken` holds case-folded names, since Windows (Joliet's main reader) ignores case.
    """
    clean = text.translate(_JOLIET_CLEAN) if _JOLIET_BAD.search(text) else text  # (udf_text yields no surrogates)
    stem, ext = _split_ext(clean, 16)
    n = 0
    while True:
        suffix = f"~{n}" if n else ""
        if not suffix and len(clean.encode("utf-8")) <= JOLIET_MAX_BYTES:
            name = clean
        else:
            name = _utf8_cut(stem, JOLIET_MAX_BYTES - len((suffix + ext).encode("utf-8"))) + suffix + ext
            if len(name.encode("utf-8")) > JOLIET_MAX_BYTES:  # the extension alone is too long
                name = _utf8_cut(clean, JOLIET_MAX_BYTES - len(suffix.encode())) + suffix
        if name.casefold() not in taken:
            taken.add(name.casefold())
            return name
        n += 1
