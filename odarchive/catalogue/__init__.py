"""The catalogue: one SQLite file that knows every source, snapshot, entry, content and disc.

Layout of this package: `schema.sql` (the commented schema), `db` (open, create, migrate),
`catalogue` (the `Catalogue` object, transactions and small shared queries), `tree` (reading
snapshots: lookup by directory + name, listing, walking, paths), and one query module per
concern: `scanning`, `snapshots`, `contents`, `chunks`, `owners`, `xattrs`, `attributes` (what
a scan writes); `plans` (the planner), `images` (image build and verify), `discs` (facts of
one disc), `burns` (the burn record), `copies`, `health` (scrub history), `restoring`,
`rebuilding`, `seedimport` and `seedjson` (import_json), `browse` (the mount), `summary`
(get_info), `storage` (the file as a whole), `failures` (hints for SQLite's errors).

No SQL reaches the catalogue from outside this package: the rest of odarchive, the
benchmarks and the tests' fixtures call these modules (`tests/unit/test_sql_boundary.py`
fails otherwise, and an import-linter contract keeps `sqlite3` to this package and the
mount's cache). A new question gets a function in the module of its concern.

Threads: a `Catalogue` (one connection) is used by one thread at a time; other threads open
their own with `Catalogue.open(..., readonly=True)`.
"""

from odarchive.catalogue.catalogue import Catalogue, EntryRow, Snapshot, Source

__all__ = ["Catalogue", "EntryRow", "Snapshot", "Source"]
