"""The home: the directory that holds one archive's state, and the paths inside it.

Resolution order: `--home`, then `$ODARCHIVE_HOME`, then the current directory. Nothing in
odarchive writes outside its home, an output directory it was given, or a restore target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, flag: str | os.PathLike[str] | None, environ: dict[str, str] | None = None) -> Home:
        env = os.environ if environ is None else environ
        chosen = flag if flag is not None else env.get("ODARCHIVE_HOME") or os.getcwd()
        return cls(Path(chosen).absolute())

    @property
    def catalogue(self) -> Path:
        return self.root / "catalogue.sqlite"

    @property
    def config_file(self) -> Path:
        return self.root / "odarchive.toml"

    @property
    def isos(self) -> Path:
        return self.root / "isos"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def jobs(self) -> Path:
        """Status records of running jobs (`odarchive status`)."""
        return self.root / "jobs"

    @property
    def robot_state(self) -> Path:
        """The simulated robot's state, when the simulator is used."""
        return self.root / "robot"

    @property
    def service_socket(self) -> Path:
        """The archive service's Unix socket (`odarchive serve`), mode 0600."""
        return self.root / "service.sock"

    @property
    def service_token(self) -> Path:
        """The token that state-changing requests to the service carry, mode 0600."""
        return self.root / "service.token"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
