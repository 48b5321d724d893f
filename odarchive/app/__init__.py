"""The application layer: wires the core, `robot_drivers` and `fuse_mount` together.

`odarchive.cli` parses arguments and renders results; everything it needs that joins the
three packages lives here: the command context (`context`), opening the configured robot
(`robot_config`), the burn job's catalogue recorder (`robot_burn`), the robot's inventory
as the catalogue knows it (`robot_inventory`), the mount's configuration, catalogue view,
disc source and serving process (`mount_config`, `mount_adapter`, `mount_source`,
`mount_serve`) and mount points (`mountpoints`). The core packages never import this layer
(import-linter's layers contract in pyproject.toml checks it).
"""
