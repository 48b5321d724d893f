"""odarchive core: catalogue, scan and hash, disc planning, images, verify and restore.

The core never imports `fuse_mount`, a FUSE library or pyserial; only the wiring layer `odarchive.app` (used by `odarchive.cli`) wires
the core, `robot_drivers` and `fuse_mount` together (see DESIGN.md, "Layout").
"""

__version__ = "0.1.0"
