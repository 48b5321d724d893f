"""The catalogue: one SQLite file that knows every source, snapshot, entry, content and disc.

Layout of this package: `schema.sql` (the commented schema), `db` (open, create, migrate),
`catalogue` (the `Catalogue` object, transactions and small shared queries), `tree` (reading
snapshots: lookup by directory + name, listing, walking, paths). Writers for one concern live
next to it (`odarchive.scan` writes entries and contents, `odarchive.plan` writes discs).

Threads: a `Catalogue` (one connection) is used by one thread at a time; other threads open
their own with `Catalogue.open(..., readonly=True)`.
"""

from odarchive.catalogue.catalogue import Catalogue, EntryRow, Snapshot, Source

__all__ = ["Catalogue", "EntryRow", "Snapshot", "Source"]
