"""`import_json`: the seed's catalogue.json (version 1) read into the catalogue as a stream.

The file is parsed as a stream of events (`odarchive.jsonstream`) and written as it is read,
in one transaction: memory stays bounded whatever the file's size or the number of names of
one content. Every entry is checked as it comes (key, size and mtime of their type and range,
names safe, no path twice, sizes that agree with the catalogue's). After the first problem
nothing more is written, but the file is read to its end to count its problems; then the
transaction is rolled back: a file with any bad entry changes nothing. Directories are
implied by the paths (version 1 has none of its own).

A name read before its entry's size and mtime (the format does not fix the order of keys;
`export_json` writes size and mtime first) is written without them and given them when its
entry ends, so no entry is ever held in memory.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from odarchive.catalogue import contents, entryrows
from odarchive.catalogue.catalogue import Catalogue
from odarchive.catalogue.seedjson import TreeBuilder, path_problem
from odarchive.errors import InputError
from odarchive.jsonstream import JsonStreamError, events
from odarchive.limits import MAX_NESTING, count_problem, seconds_problem
from odarchive.shown import clip, quote

SHA_HEX = re.compile(r"[0-9a-fA-F]{64}\Z")
PROBLEMS_SHOWN = 20
Events = Iterator[tuple[str, Any]]
_CONTAINER = object()  # stands for an object or array where a number or a string belongs


def import_json_file(cat: Catalogue, path: Path) -> dict[str, int]:
    """Import `path` as one new complete snapshot per root name; returns counts, or raises
    InputError naming the bad entries (the catalogue is then unchanged)."""
    try:
        f = path.open("rb")
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror}", hint="give a catalogue.json written by odarchive"
        ) from None
    with f, cat.transaction() as conn:
        imp = _Importer(conn, time.time_ns())
        try:
            version, has_files = _document(events(f, MAX_NESTING), imp)
        except JsonStreamError as e:
            raise InputError(
                f"{path} is not valid JSON: {e}; nothing imported", hint="give a catalogue.json written by odarchive"
            ) from None
        if version != 1 or not has_files:
            raise InputError(
                f'{path} is not a version 1 catalogue.json (need {{"version": 1, "files": {{...}}}}); nothing imported'
            )
        if imp.count:
            shown = "\n  ".join(imp.problems)
            more = f"\n  ... and {imp.count - len(imp.problems)} more" if imp.count > len(imp.problems) else ""
            raise InputError(
                f"{path} has {imp.count} bad entr{'y' if imp.count == 1 else 'ies'}; nothing imported:\n  {shown}{more}"
            )
        imp.builder.complete()
    return {"files": imp.files, "new_contents": imp.contents, "sources": len(imp.builder.snapshots)}


class _Importer:
    """Writes the entries of `files` as they are read, until the first problem."""

    def __init__(self, conn: Any, now: int) -> None:
        self.conn = conn
        self.now = now
        self.builder = TreeBuilder(conn, now)
        self.problems: list[str] = []  # the first few, to show
        self.count = 0  # every problem
        self.files = self.contents = 0

    def problem(self, text: str) -> None:
        self.count += 1
        if len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append(text)

    def content(self, where: str, sha: str, size: int) -> int | None:
        """The content's id (created if new); None and a problem if the catalogue has it at another size."""
        raw = bytes.fromhex(sha)
        known = contents.size_of(self.conn, raw)
        if known is not None and known != size:
            self.problem(f"{where}.size: {size} in the file but {known} in the catalogue")
            return None
        ids, new = contents.ids_for(self.conn, [(raw, size)])
        self.contents += new
        return ids[0]

    def name(self, where: str, name: Any, size: int, mtime_ns: int, content: int | None) -> None:
        """One path of an entry: checked, then written (content None: given when the entry ends)."""
        error = path_problem(name)
        if error:
            shown = (
                quote(name)
                if isinstance(name, str)
                else "a " + ("container" if name is _CONTAINER else type(name).__name__)
            )
            self.problem(f"{where}.filenames[{shown}]: {error}")
        elif not self.count:
            try:
                self.builder.add_file(os.fsencode(name), size, mtime_ns, content)
            except InputError:
                self.problem(f"{where}.filenames[{quote(name)}]: listed twice, or both a file and a directory")
                return
            self.files += 1

    def complete_entry(self, first_id: int, size: int, mtime_ns: int, content: int) -> None:
        """Give the files written before their entry's size was read their size, mtime and content."""
        self.conn.execute(
            f"UPDATE entries SET size=?, mtime_ns=?, {entryrows.SET_CONTENT} WHERE id>=? AND kind='f' AND content_id IS NULL",
            (size, mtime_ns, content, first_id),
        )


def _document(stream: Events, imp: _Importer) -> tuple[Any, bool]:
    """The top-level object: (its version, whether it had `files`)."""
    event, _ = next(stream)
    if event != "start_map":
        return None, False
    version: Any = None
    has_files = False
    for event, key in stream:
        if event == "end_map":
            break
        if key == "version":
            version = _scalar(stream)
        elif key == "files" and not has_files:
            has_files = True
            if next(stream)[0] != "start_map":
                return version, False
            for ev, sha in stream:
                if ev == "end_map":
                    break
                _entry(stream, sha, imp)
        else:
            _scalar(stream)
    return (version if type(version) is int else None), has_files


def _entry(stream: Events, key: str, imp: _Importer) -> None:
    """One `files` entry, read from its value's first event on."""
    where = f"files[{quote(key, 80)}]"
    event, _ = next(stream)
    if event != "start_map":
        imp.problem(f"{where}: not an object")
        if event == "start_array":
            _skip(stream)
        return
    good_key = bool(SHA_HEX.match(key))
    if not good_key:
        imp.problem(f"{where}: key is not a SHA-256 in hex")
    numbers: dict[str, Any] = {}  # "size", "mtime" once read and valid
    bad: set[str] = set()  # "size", "mtime" read and refused
    content: int | None = None
    first_id: int | None = None  # the first file written before its size was known
    names = 0
    for event, field in stream:
        if event == "end_map":
            break
        if field in ("size", "mtime"):
            value = _scalar(stream)
            problem = count_problem(value) if field == "size" else None if value is None else seconds_problem(value)
            if problem:
                shown = (
                    "an object or array"
                    if value is _CONTAINER
                    else (quote(value, 40) if isinstance(value, str) else clip(repr(value), 40))
                )
                imp.problem(f"{where}.{field}: {shown} is {problem}")
                bad.add(field)
            else:
                numbers[field] = value
        elif field == "filenames":
            kind = next(stream)[0]
            if kind not in ("start_map", "start_array"):
                imp.problem(f"{where}.filenames: not an object or a list of paths")
                names = -1  # said once
                continue
            known = good_key and "size" in numbers and "mtime" in numbers and not imp.count
            if known and content is None:
                content = imp.content(where, key.lower(), numbers["size"])
            for ev, name in stream:
                if ev in ("end_map", "end_array"):
                    break
                if kind == "start_map":
                    _scalar(stream)  # {path: null}: the value says nothing
                elif ev in ("start_map", "start_array"):
                    _skip(stream)
                    name = _CONTAINER
                names += 1
                if content is None and first_id is None and not imp.count:
                    first_id = entryrows.next_id(imp.conn)
                size = numbers["size"] if content is not None else 0
                imp.name(where, name, size, _ns(numbers.get("mtime"), imp.now), content)
        else:
            _scalar(stream)  # a key version 1 does not know: skipped
    if names == 0:
        imp.problem(f"{where}.filenames: missing or empty")
    if "size" not in numbers and "size" not in bad:
        imp.problem(f"{where}.size: missing")
    if imp.count:
        return
    if content is None:
        content = imp.content(where, key.lower(), numbers["size"])
    if first_id is not None and content is not None:
        imp.complete_entry(first_id, numbers["size"], _ns(numbers.get("mtime"), imp.now), content)


def _ns(mtime: Any, now: int) -> int:
    return int(mtime * 1e9) if mtime is not None else now


def _scalar(stream: Events) -> Any:
    """The next value if it is a number, a string, a boolean or null; else skips it (_CONTAINER)."""
    event, value = next(stream)
    if event in ("start_map", "start_array"):
        _skip(stream)
        return _CONTAINER
    return value


def _skip(stream: Events) -> None:
    """Skip the rest of an object or array whose first event was just read."""
    depth = 1
    for event, _ in stream:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return
