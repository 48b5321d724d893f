"""`python -m robot_drivers.simulator serve|fault|stop --state DIR`: run or poke the simulator."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from robot_drivers import errors
from robot_drivers.simulator.config import SimConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robot_drivers.simulator")
    parser.add_argument("action", choices=["serve", "fault", "stop"])
    parser.add_argument("--state", required=True, help="state directory")
    parser.add_argument("--config-json", default="{}", help="SimConfig fields as JSON")
    parser.add_argument("fault", nargs="*", help="fault command (action `fault`)")
    args = parser.parse_args(argv)
    config = SimConfig(**json.loads(args.config_json))
    if args.action == "serve":
        from robot_drivers.simulator.server import PtyServer

        PtyServer(Path(args.state), config).serve()
        return 0
    if args.action == "stop":
        from robot_drivers.simulator.control import stop

        return 0 if stop(Path(args.state)) else 1
    from robot_drivers.simulator.faults import apply_fault
    from robot_drivers.simulator.mechanism import Mechanism

    try:
        with Mechanism(Path(args.state), config).store.locked() as st:
            print(apply_fault(st, " ".join(args.fault)))
    except errors.RobotError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
