"""What every command gets: the home, the merged settings, and how to report."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from odarchive.config import Settings, load_settings
from odarchive.home import Home

if TYPE_CHECKING:
    from odarchive.catalogue import Catalogue


@dataclass(frozen=True)
class Context:
    home: Home
    settings: Settings
    as_json: bool

    @classmethod
    def create(cls, args: argparse.Namespace) -> Context:
        home = Home.resolve(args.home)
        return cls(home=home, settings=load_settings(home.config_file), as_json=bool(getattr(args, "json", False)))

    def open_catalogue(self, create: bool = False, readonly: bool = False) -> Catalogue:
        """The home's catalogue. Commands that only read pass `readonly`: they then work for any
        user who may read the files (a root-owned home read by another user, say)."""
        from odarchive.catalogue import Catalogue

        if create:
            self.home.ensure()
        return Catalogue.open(self.home.catalogue, create=create, readonly=readonly)

    @property
    def cwd(self) -> Path:
        return Path(os.getcwd())
