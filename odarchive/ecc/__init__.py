"""Error correction of disc images: dvdisaster Reed-Solomon added to a finished image (a
post-step), the arithmetic the planner needs to keep image + ECC within the medium, and
repair.

- `setting`: `[archive] ecc` ("15%", "off") -> Reed-Solomon roots.
- `formats`: which format an image carries (RS03 for new discs, RS02 for discs planned
  before) and the largest image that fits a medium with its ECC.
- `rs03`, `rs02`: each format's layout arithmetic (tested against what dvdisaster makes).
- `tool`: running dvdisaster (augment, repair) headless.

The file system of an image with ECC is untouched (the ECC lies behind the end the ISO 9660
and UDF volume declare), so every reader still reads it.
"""
