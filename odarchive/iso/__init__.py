"""Disc images: naming (`names`), the tree of a disc (`layout`), its exact size (`sizing`),
the self-describing files (`manifest`, `extras`, spooled by `spool`), building (`build`:
`blocks` lays the image out, `writer` writes it front to back with the records of `ecma119`
and `ecma167`, `feeder` checks every source byte, `outfile` holds the image file), and
reading images back with pycdlib (`reader`, `verify`; `odarchive.rebuild` validates a
disc's catalogue.json for recovery).

Imports pycdlib lazily (inside functions), so the command line starts without it.
One build or read uses one `Catalogue` from one thread; a build hashes on two helper threads
(`feeder`: chunk hashes, `outfile`: the image hash) that touch no shared state but their
hash objects.
"""
