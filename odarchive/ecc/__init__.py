"""Error correction of disc images: dvdisaster RS02 augmented images (a post-step on a
finished image), the arithmetic the planner needs to keep image + ECC within the medium,
and repair.

- `setting`: `[archive] ecc` ("15%", "off") -> Reed-Solomon roots.
- `rs02`: the RS02 layout arithmetic (how many sectors an augmented image has; the largest
  image that fits a medium with its ECC).
- `tool`: running dvdisaster (augment, repair, test) headless.

The file system of an augmented image is untouched (the ECC lies behind the end the ISO 9660
and UDF volume declare), so every reader still reads it; `dvdisaster -i IMAGE -f` repairs it.
"""
