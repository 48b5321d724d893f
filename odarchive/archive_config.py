"""The `[archive]` table of odarchive.toml: what every new disc of the archive gets.

- `ecc`: error correction added to each image ("15%" by default, or "off"; `odarchive.ecc`).
- `copies`: how many discs are burned of each image, one per set (A, B, ...; `odarchive.copies`).
"""

from __future__ import annotations

from dataclasses import dataclass

from odarchive.ecc.setting import DEFAULT as DEFAULT_ECC


@dataclass(frozen=True)
class ArchiveConfig:
    ecc: str = DEFAULT_ECC
    copies: int = 1
