"""The `[robot]` configuration and opening the configured changer and drives.

The one place that knows how a robot is opened, for `robot ...` and for the mount:
`open_robot(ctx)` returns a `Robot` (a changer and its drives by number). With the default
configuration (no `[robot]` table) the driver is the simulator: its process is started in the
background when needed (state in `<home>/robot`) and reused by later commands; it exits after
`[robot.simulator] idle_exit_s` without commands, or with `odarchive robot simulate --stop`.
Also here: reading a disc number from a volume label (`<plan label>_<NNNN>`).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from odarchive.app.context import Context
from odarchive.errors import UsageError

DRIVERS = ("simulator", "serial", "generic", "mtx", "manual")
LABEL = re.compile(r"^(?P<label>[0-9A-Za-z_]+)_(?P<disc>\d{4,})$")


@dataclass(frozen=True)
class RobotConfig:
    driver: str = "simulator"  # simulator | serial | generic | mtx | manual
    device: str = ""  # serial port, SCSI changer (/dev/sgN) for mtx, or the manual driver's drive
    drive_devices: tuple[str, ...] = ()  # drives in changer order: /dev/sr0, ... or stdio:FILE
    slots: int = 0  # simulator: number of slots (0: [robot.simulator] slots)
    drives: int = 0  # simulator: number of drives (0: [robot.simulator] drives)
    baudrate: int = 9600
    reply_timeout_s: float = 2.0
    motion_timeout_s: float = 180.0
    media_timeout_s: float = 120.0
    retries: int = 3
    reconnect_s: float = 10.0
    mtx_command: str = "mtx"
    xorriso: str = "xorriso"
    max_attempts: int = 3  # blanks tried per disc before `robot burn` gives up on it


@dataclass
class Robot:
    changer: Any  # robot_drivers.interfaces.Changer
    drives: dict[int, Any] = field(default_factory=dict)  # number -> robot_drivers Drive
    config: RobotConfig = field(default_factory=RobotConfig)
    sim_info: dict[str, Any] | None = None

    def close(self) -> None:
        self.changer.close()


def robot_config(ctx: Context) -> RobotConfig:
    conf = ctx.settings.build(RobotConfig, "robot")
    if conf.driver not in DRIVERS:
        raise UsageError(f"[robot] driver = {conf.driver!r} is not one of {', '.join(DRIVERS)}")
    return conf


def sim_config(ctx: Context, conf: RobotConfig | None = None) -> Any:
    from robot_drivers.simulator.config import SimConfig

    conf = conf or robot_config(ctx)
    geometry = {k: v for k, v in (("slots", conf.slots), ("drives", conf.drives)) if v}
    return ctx.settings.build(SimConfig, "robot.simulator", **geometry)


def ensure_simulator(ctx: Context, conf: RobotConfig) -> dict[str, Any]:
    """A simulator for this home with the configured settings: reused if it runs, else started."""
    from robot_drivers.simulator import control

    wanted = sim_config(ctx, conf)
    state = ctx.home.robot_state
    info = control.running(state)
    if info is not None and info.get("config") != json.loads(json.dumps(asdict(wanted))):
        control.stop(state)
        info = None
    return info or control.start(state, wanted)


def open_robot(ctx: Context, prompt: Any = None) -> Robot:
    """The configured changer and drives (nothing moves yet)."""
    from robot_drivers.drives.optical import OpticalDrive
    from robot_drivers.serial_link import SerialLink

    conf = robot_config(ctx)
    timeouts: dict[str, Any] = dict(
        reply_timeout_s=conf.reply_timeout_s, motion_timeout_s=conf.motion_timeout_s, retries=conf.retries
    )
    drives = [OpticalDrive.for_target(d, conf.xorriso) for d in conf.drive_devices]
    sim_info = None
    if conf.driver in ("simulator", "serial", "generic"):
        device = conf.device
        generic = conf.driver == "generic"
        if conf.driver == "simulator":
            sim_info = ensure_simulator(ctx, conf)
            device, generic = sim_info["tty"], sim_info["dialect"] == "generic"
            drives = drives or [OpticalDrive.for_target("stdio:" + p, conf.xorriso) for p in sim_info["drives"]]
        if not device:
            raise UsageError(f"[robot] driver = {conf.driver!r} needs [robot] device (e.g. /dev/odarchive-robot)")
        link = SerialLink(device, conf.baudrate, conf.reconnect_s)
        if generic:
            from robot_drivers.serial_generic import GenericChanger

            changer: Any = GenericChanger(link, **timeouts)
        else:
            from robot_drivers.serial_slot import SlotChanger

            changer = SlotChanger(link, **timeouts)
    elif conf.driver == "mtx":
        from robot_drivers.mtx_changer import MtxChanger

        if not conf.device:
            raise UsageError('[robot] driver = "mtx" needs [robot] device (the changer\'s /dev/sgN)')
        changer = MtxChanger(conf.device, shlex.split(conf.mtx_command), conf.motion_timeout_s)
        sim_state = Path(conf.device) / "state.json"  # the simulator's state directory as the device
        if not drives and sim_state.is_file():
            count = len(json.loads(sim_state.read_text())["drives"])
            drives = [
                OpticalDrive.for_target(f"stdio:{Path(conf.device) / 'drives' / f'drive{n}.img'}", conf.xorriso)
                for n in range(count)
            ]
    else:
        from robot_drivers.manual import ManualChanger

        drive = OpticalDrive.for_target(conf.device or "/dev/sr0", conf.xorriso)
        drives = [drive]
        changer = ManualChanger(
            drive, prompt or (lambda text: None), lambda n: expected_label(ctx, n), conf.media_timeout_s
        )
    return Robot(changer=changer, drives=dict(enumerate(drives)), config=conf, sim_info=sim_info)


def disc_from_label(label: str | None, plan_labels: set[str] | None = None) -> int | None:
    """The disc number in a volume label `<plan label>_<NNNN>` (odarchive.iso.build.volume_ident).

    With `plan_labels` (the labels in this catalogue's discs table), a label with another
    prefix is not one of ours and gives None.
    """
    m = LABEL.match(label or "")
    if not m or (plan_labels is not None and m["label"] not in plan_labels):
        return None
    return int(m["disc"])


def expected_label(ctx: Context, disc: int) -> str | None:
    """The volume label disc `disc` carries (odarchive.iso.build.volume_ident), if planned."""
    if not ctx.home.catalogue.exists():
        return None
    from odarchive.catalogue import discs as disc_rows
    from odarchive.iso.build import volume_ident

    with ctx.open_catalogue() as cat:
        label = disc_rows.label(cat.conn, disc)
    return volume_ident(label, disc) if label is not None else None
