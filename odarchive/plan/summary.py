"""What get_info shows about discs: how many are planned, and a summary of each."""

from __future__ import annotations

from typing import Any

from odarchive.catalogue import Catalogue, images, plans


def disc_count(cat: Catalogue) -> int:
    return images.disc_count(cat.conn)


def disc_summaries(cat: Catalogue) -> list[dict[str, Any]]:
    """One dict per disc: id, label, state, capacity, used and data bytes, files, pieces, image."""
    rows = plans.disc_summaries(cat.conn)
    return [
        {
            "disc": r[0],
            "label": r[1],
            "state": r[2],
            "capacity_bytes": r[3],
            "used_bytes": r[4],
            "fill": round(r[4] / r[3], 4) if r[3] else 0.0,
            "image": r[5],
            "image_size": r[6],
            "files": r[7],
            "data_bytes": r[8],
            "pieces": r[9],
        }
        for r in rows
    ]
