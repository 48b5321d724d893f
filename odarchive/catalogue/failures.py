"""What a failed catalogue operation means to the user: a hint for each of SQLite's errors
(the command line turns it into the catalogue's exit code), so that nothing outside this
package needs to know the database's exception types."""

from __future__ import annotations

import sqlite3


def hint_for(e: BaseException) -> str | None:
    """The hint for a database error the catalogue raised (None: not a database error)."""
    if isinstance(e, sqlite3.OperationalError):
        text = str(e)
        if "locked" in text or "busy" in text:
            return "another odarchive process is writing the catalogue; try again when it is done"
        if "full" in text:
            return "the disk holding the home is full: free space and run again; work done is kept"
        return "the catalogue could not be written; check the home's disk"
    if isinstance(e, sqlite3.DatabaseError):
        return "the catalogue file is damaged: restore it or `odarchive rebuild` it from discs"
    return None
