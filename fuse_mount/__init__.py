"""The read-only FUSE file system over the merged catalogue, its block cache and disc fetcher.

It reads the catalogue through a narrow interface it declares itself and reaches discs only
through `robot_drivers` (or a directory of images); it never imports `odarchive`.
"""
