"""A rebuild's share of a disc's `attributes` section (odarchive/iso/extras.py): owners,
extended attributes and hard-link groups, checked like everything else a disc says, then
recorded on the entries the rebuild made. Discs written before the section existed have none:
their entries keep no owner (a restore then sets no owner and drops setuid/setgid bits)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from odarchive.catalogue import Catalogue, attributes
from odarchive.catalogue.owners import Owner
from odarchive.catalogue.xattrs import archived, encode
from odarchive.iso import names

MAX_ID = (1 << 32) - 1

Attrs = tuple[Owner | None, str | None, int | None]  # owner, encoded xattr set, hard-link inode


def parse(lines: Any, check: Callable[[bool, str], None]) -> dict[bytes, Attrs]:
    """{archived path: attributes} from the section's lines; `check` raises naming the problem."""
    check(isinstance(lines, list), "attributes is not a list")
    out: dict[bytes, Attrs] = {}
    for line in lines:
        what = f"attributes line {line!r:.80}"
        check(isinstance(line, list) and len(line) == 8, what)
        text, raw_hex, uid, gid, user, group, attrs, ino = line
        check(isinstance(text, str), what)
        if raw_hex is not None:
            check(isinstance(raw_hex, str) and bool(re.fullmatch(r"(?:[0-9a-f]{2})+", raw_hex)), what)
            raw = bytes.fromhex(raw_hex)
        else:
            raw = names.raw_from_udf_text(text)
        owner = None
        if uid is not None or gid is not None:
            check(all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_ID for v in (uid, gid)), what)
            check(all(v is None or (isinstance(v, str) and 0 < len(v) <= 256) for v in (user, group)), what)
            owner = Owner(uid, gid, user, group)
        encoded = None
        if attrs is not None:
            check(
                isinstance(attrs, dict)
                and all(isinstance(k, str) and archived(k) and isinstance(v, str) for k, v in attrs.items()),
                what,
            )
            try:
                encoded = encode({k: base64.b64decode(v, validate=True) for k, v in attrs.items()})
            except (binascii.Error, ValueError):
                check(False, what + ": value is not base64")
        check(ino is None or (isinstance(ino, int) and not isinstance(ino, bool) and ino >= 0), what)
        out[raw] = (owner, encoded, ino)
    return out


def record(cat: Catalogue, found: dict[bytes, Attrs]) -> None:
    """Set what the discs said on the entries of the latest snapshots (inside the caller's transaction)."""
    attributes.set_by_path(cat, ((path, *a) for path, a in found.items()))
