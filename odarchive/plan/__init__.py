"""Disc planning: which content goes on which disc (`planner`), medium sizes (`media`), and
the incremental fill of one disc (`fill`). Writes the catalogue's `discs` and `placements`;
reads snapshots through `odarchive.catalogue.tree`. Uses `odarchive.iso` for exact sizes.
"""
