"""Reading one disc image with every reader we test against: {path: SHA-256 hex} per view.

- pycdlib (our own reader): the UDF, ISO 9660 and Joliet trees;
- 7zz (7-Zip's UDF reader): the UDF tree, extracted (files over 4 GiB: listed, not written out);
- isoinfo: the ISO 9660 tree (`-l`, `-x` per file) and the Joliet tree (`-J`, names in Latin-1);
- xorriso -osirrox: the tree it loads (Joliet, as the images carry no Rock Ridge), extracted
  (files over 4 GiB: listed).

Paths are relative, without a leading slash; ISO 9660 paths keep their `;1`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

Listing = dict[str, str]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _walk_sha(top: Path) -> Listing:
    out: Listing = {}
    for dirpath, _dirs, files in os.walk(os.fsencode(top)):
        for name in files:
            path = os.path.join(dirpath, name)
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            out[os.fsdecode(os.path.relpath(path, os.fsencode(top)))] = h.hexdigest()
    return out


def pycdlib_views(image: Path) -> dict[str, Listing]:
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open(str(image))
    try:
        views: dict[str, Listing] = {}
        for view in ("udf", "iso", "joliet"):
            listing: Listing = {}
            stack = ["/"]
            while stack:
                d = stack.pop()
                for child in iso.list_children(**{f"{view}_path": d}):
                    if child is None:
                        continue
                    if view == "udf":
                        if child.file_ident is None or child.file_ident.is_parent():
                            continue
                        name = child.file_ident.fi.decode(child.file_ident.encoding)
                    else:
                        if child.is_dot() or child.is_dotdot():
                            continue
                        ident = child.file_identifier()
                        name = ident.decode("utf-16-be") if view == "joliet" else ident.decode()
                    path = d.rstrip("/") + "/" + name
                    if child.is_dir():
                        stack.append(path)
                        continue
                    if view == "iso" and listing.get(path.lstrip("/")):
                        continue  # the further extents of a multi-extent file
                    h = hashlib.sha256()
                    with iso.open_file_from_iso(**{f"{view}_path": path}) as f:
                        while chunk := f.read(1 << 20):
                            h.update(chunk)
                    listing[path.lstrip("/")] = h.hexdigest()
            views[view] = listing
        return views
    finally:
        iso.close()


def sevenzip_udf(image: Path, dest: Path, big: dict[str, int] | None = None) -> Listing:
    """Everything extracted and hashed, but the files in `big` (paths over 4 GiB): not written
    out, their size as 7zz lists it ("N bytes")."""
    big = big or {}
    subprocess.run(
        ["7zz", "x", "-y", "-tudf", f"-o{dest}", *(f"-x!{p}" for p in big), str(image)], check=True, capture_output=True
    )
    out = _walk_sha(dest)
    for path in big:
        info = subprocess.run(["7zz", "l", "-slt", "-tudf", str(image), path], check=True, capture_output=True).stdout
        out[path] = re.search(rb"^Size = (\d+)$", info, re.M).group(1).decode() + " bytes"  # type: ignore[union-attr]
    return out


def latin1_shown(path: str) -> str:
    """A Joliet path as isoinfo shows it: each UCS-2 unit beyond Latin-1 becomes '_'."""
    return "".join(c if ord(c) < 256 else "__" if ord(c) > 0xFFFF else "_" for c in path)


# "----------   0    0    0    5 Dec  1 2026 [    287 00]  NAME " (the first record of a
# multi-extent file shows its flags as "FFFF" and no "]"); each name ends with one space.
_ISOINFO_LINE = re.compile(r".*? \[\s*\d+ [0-9A-F]+\]?\s{1,2}(.*) $")


def isoinfo_view(image: Path, joliet: bool) -> list[tuple[str, str | None]]:
    """(path, SHA-256) of each file as `isoinfo -l` lists it (its 'd' flag tells directories),
    read with `-x`. isoinfo shows Joliet names in Latin-1 ('_' for other characters); a path
    shown more than once cannot be told apart by `-x`, so its hash is None. `-x` reads only
    the first extent of a multi-extent file (over 4 GiB): such a file gives
    "N extents, SIZE bytes" from the listing instead."""
    flags = ["-J"] if joliet else []
    listing = subprocess.run(["isoinfo", *flags, "-l", "-i", str(image)], check=True, capture_output=True).stdout
    paths: list[str] = []
    extents: dict[str, list[int]] = {}
    directory = "/"
    for line in listing.decode("latin-1").split("\n"):
        if line.startswith("Directory listing of "):
            directory = line[len("Directory listing of ") :]
        elif (m := _ISOINFO_LINE.match(line)) and not line.startswith("d"):
            path = directory + m.group(1)
            if not paths or paths[-1] != path:
                paths.append(path)
                extents[path] = []
            extents[path].append(int(line.split()[4]))
    out: list[tuple[str, str | None]] = []
    for path in paths:
        sha = None
        if len(extents[path]) > 1:
            sha = f"{len(extents[path])} extents, {sum(extents[path])} bytes"
        elif paths.count(path) == 1:
            data = subprocess.run(
                ["isoinfo", *flags, "-i", str(image), "-x", path.encode("latin-1")], check=True, capture_output=True
            ).stdout
            sha = _sha(data)
        out.append((path.lstrip("/"), sha))
    return sorted(out, key=lambda e: (e[0], e[1] or ""))


def isoinfo_expected(listing: Listing, joliet: bool, sizes: dict[str, int]) -> list[tuple[str, str | None]]:
    """What `isoinfo_view` must give for a view whose true listing is `listing`; `sizes` holds
    the size of every file over 4 GiB (its path in this view)."""
    chunk = 0xFFFFF800
    shown = [(p, f"{-(-sizes[p] // chunk)} extents, {sizes[p]} bytes" if p in sizes else h) for p, h in listing.items()]
    shown = [(latin1_shown(p) if joliet else p, h) for p, h in shown]
    counts: dict[str, int] = {}
    for p, _ in shown:
        counts[p] = counts.get(p, 0) + 1
    return sorted(
        ((p, h if counts[p] == 1 or " extents, " in (h or "") else None) for p, h in shown),
        key=lambda e: (e[0], e[1] or ""),
    )


def xorriso_tree(image: Path, dest: Path, files: list[str], big: dict[str, int] | None = None) -> Listing:
    """The `files` (paths in its tree) extracted and hashed, but those in `big` (over 4 GiB):
    their size as `xorriso -lsl` lists it ("N bytes")."""
    big = big or {}
    wanted = ["/" + p for p in files if p not in big]
    subprocess.run(
        [
            "xorriso",
            "-osirrox",
            "on",
            "-iso_rr_pattern",
            "off",
            "-indev",
            str(image),
            "-extract_l",
            "/",
            str(dest),
            *wanted,
            "--",
        ],
        check=True,
        capture_output=True,
    )
    out = _walk_sha(dest)
    for path in big:
        info = subprocess.run(
            ["xorriso", "-iso_rr_pattern", "off", "-indev", str(image), "-lsl", "/" + path],
            check=True,
            capture_output=True,
        ).stdout
        line = next(ln for ln in info.decode("utf-8", "replace").splitlines() if ln.startswith("-"))
        out[path] = line.split()[4] + " bytes"
    return out
