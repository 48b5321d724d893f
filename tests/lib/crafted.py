"""Hostile inputs made the way an adversary would: a disc image whose catalogue.json says
whatever the test wants (built with pycdlib, readable like any odarchive disc), a valid disc
catalogue to start from, and a fingerprint of a home to show that nothing in it changed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

from odarchive.catalogue import storage

DATA = b"hello"
SHA = hashlib.sha256(DATA).hexdigest()


def disc_doc(**head: Any) -> dict[str, Any]:
    """A disc catalogue.json that rebuild accepts: one file root/a holding DATA."""
    entry = {"sha256": SHA, "mode": 0o100644, "mtime_ns": 10**18, "iso": "/DATA/ROOT/A.;1", "joliet": "/DATA/root/a"}
    return {
        "version": 1,
        "files": {SHA: {"filenames": {"root/a": None}, "size": len(DATA), "mtime": 1.0}},
        "odarchive": {
            "format": 1,
            "archive_id": "x",
            "disc": 0,
            "label": "CRAFTED",
            "data_dir": "DATA",
            "chunk_size": 16777216,
            "paths": {"DATA/root/a": entry},
            "other_filenames_complete": True,
            "other_filenames": {SHA: [["root/b", 0o100600, 5]]},
            **head,
        },
    }


def disc_image(path: Path, catalogue_json: bytes) -> Path:
    """An image holding DATA at DATA/root/a and the given catalogue.json."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, udf="2.60")
    iso.add_fp(
        io.BytesIO(catalogue_json),
        len(catalogue_json),
        "/CATALOG.JSO;1",
        joliet_path="/catalogue.json",
        udf_path="/catalogue.json",
    )
    iso.add_directory("/DATA", joliet_path="/DATA", udf_path="/DATA")
    iso.add_directory("/DATA/ROOT", joliet_path="/DATA/root", udf_path="/DATA/root")
    iso.add_fp(io.BytesIO(DATA), len(DATA), "/DATA/ROOT/A.;1", joliet_path="/DATA/root/a", udf_path="/DATA/root/a")
    iso.write(str(path))
    iso.close()
    return path


def home_state(home: Path) -> tuple:
    """What a home holds: its file names and its catalogue's rows (not the bytes of SQLite's files,
    which a rolled-back transaction may touch)."""
    names = tuple(sorted(n for n in os.listdir(home) if not n.endswith(("-wal", "-shm")))) if home.exists() else None
    db = home / "catalogue.sqlite"
    if not db.exists():
        return names, None
    return names, storage.dump(db)
