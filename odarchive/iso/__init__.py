"""Disc images: naming (`names`), the tree of a disc (`layout`), its exact size (`sizing`),
the self-describing files (`manifest`), building with pycdlib (`populate`, `feeder`, `build`),
and reading images back (`reader`, `verify`; `odarchive.rebuild` validates a disc's
catalogue.json for recovery).

Imports pycdlib lazily (inside functions), so the command line starts without it.
One build or read uses one `Catalogue` from one thread; a build hashes on two helper threads
(`feeder`: chunk hashes, `outfile`: the image hash) that touch no shared state but their
hash objects.
"""
