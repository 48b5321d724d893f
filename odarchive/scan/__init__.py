"""Scanning a source into the catalogue: walk (entries) then hash (contents).

`scan_source` is the whole job behind `odarchive create_db`. It is incremental (a re-scan
makes a new snapshot; only new or changed files are hashed), resumable (an interrupted scan
is continued by the next run of the same source) and bounded in memory.
"""

from odarchive.scan.scanner import ScanOptions, ScanSummary, check_source, scan_source

__all__ = ["ScanOptions", "ScanSummary", "check_source", "scan_source"]
