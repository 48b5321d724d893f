"""`odarchive num_isos`: the number of planned discs, as a bare integer."""

from __future__ import annotations

import argparse

from odarchive.app.context import Context


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.plan.summary import disc_count

    with ctx.open_catalogue(readonly=True) as cat:
        print(disc_count(cat))
    return 0
