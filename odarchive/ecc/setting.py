"""`[archive] ecc`: how much Reed-Solomon error correction each new disc carries.

"15%" (the default) means ECC of at least 15% of the image's data (dvdisaster's redundancy:
roots / (255 - roots)); "off" means none. Why 15%: RS02 corrects as many damaged sectors per
255-sector codeword as it has roots, and each codeword takes one sector from each of 255
layers spread over the whole image. With 5% of the sectors damaged at random, a codeword has
12.75 bad sectors on average; at 34 roots (15.4%) the chance that one of a 25 GB disc's
~55,000 codewords gets more than 34 is under 0.5% (binomial tail); at 10% (24 roots) some
60 codewords would fail. A contiguous scratch of 2% hits each codeword at most
ceil(0.02 * 255) = 6 times, far within any setting.
"""

from __future__ import annotations

from odarchive.errors import InputError

DEFAULT = "15%"
FIELD = 255  # GF(2^8) codewords
MIN_ROOTS, MAX_ROOTS = 8, 170  # what dvdisaster RS02 accepts


def roots_for(setting: str) -> int | None:
    """Reed-Solomon roots per 255-byte codeword for an ecc setting; None for "off"."""
    text = setting.strip().lower()
    if text in ("off", "none", "0", "0%"):
        return None
    if not text.endswith("%"):
        raise InputError(
            f"[archive] ecc = {setting!r} is neither a percentage nor off",
            hint='use e.g. ecc = "15%" (the default), "33%" or "off"',
        )
    try:
        percent = float(text[:-1])
    except ValueError:
        raise InputError(f"[archive] ecc = {setting!r} is not a percentage", hint='use e.g. "15%" or "off"') from None
    for roots in range(MIN_ROOTS, MAX_ROOTS + 1):
        if roots * 100.0 / (FIELD - roots) >= percent:
            return roots
    raise InputError(
        f"[archive] ecc = {setting!r} is more than dvdisaster's RS02 can give (200%)", hint='use at most "200%"'
    )


def redundancy_percent(roots: int) -> float:
    return round(roots * 100.0 / (FIELD - roots), 1)
