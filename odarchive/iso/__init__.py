"""Disc images: naming (`names`), the tree of a disc (`layout`), its exact size (`sizing`),
the self-describing files (`manifest`), building with pycdlib (`populate`, `feeder`, `build`),
and reading images back (`reader`: a disc's files and lists; `disc_catalogue`: its
catalogue.json parsed and validated for restore and rebuild; `verify`).

Imports pycdlib lazily (inside functions), so the command line starts without it.
Single-threaded: one build or read uses one `Catalogue` from one thread.
"""
