"""Bounded in-memory caches of the mount: an LRU mapping, directory listings, verified bytes.

`Lru` and `Listings` are plain data structures without locks (`Vfs` holds its own lock
around every call); `VerifiedBuffers` (the reader's) has its own lock. Their bounds keep the
mount's memory flat whatever the size of the catalogue or of the files read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from fuse_mount.catalogue_view import Entry

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A mapping that forgets the least recently used key beyond `capacity` keys."""

    def __init__(self, capacity: int) -> None:
        self._data: OrderedDict[K, V] = OrderedDict()
        self._capacity = capacity

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._capacity:
            self._data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()


class Listings:
    """Whole directory listings by (directory node, snapshot), at most `max_entries` in all.

    A directory that is being walked (several names looked up in it one by one) is read
    once and its other names are then answered from memory: `stat` of every file of a tree
    costs one query per directory instead of one per file.
    """

    def __init__(self, max_entries: int) -> None:
        self._data: OrderedDict[tuple[int, int], dict[bytes, Entry]] = OrderedDict()
        self._entries = 0
        self.max_entries = max_entries

    def get(self, key: tuple[int, int]) -> dict[bytes, Entry] | None:
        listing = self._data.get(key)
        if listing is not None:
            self._data.move_to_end(key)
        return listing

    def put(self, key: tuple[int, int], listing: dict[bytes, Entry]) -> None:
        old = self._data.pop(key, None)
        self._entries += len(listing) - (len(old) if old is not None else 0)
        self._data[key] = listing
        while self._entries > self.max_entries and len(self._data) > 1:
            _, dropped = self._data.popitem(last=False)
            self._entries -= len(dropped)

    def clear(self) -> None:
        self._data.clear()
        self._entries = 0


class VerifiedBuffers:
    """Verified byte ranges of contents the cache had no room for, `max_bytes` in all (the
    newest is always kept, however large), so the reads that follow one need no disc."""

    def __init__(self, max_bytes: int) -> None:
        self._data: OrderedDict[tuple[int, int], bytes] = OrderedDict()  # (content id, offset) -> bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self.max_bytes = max_bytes

    def put(self, content_id: int, offset: int, data: bytes) -> None:
        with self._lock:
            old = self._data.pop((content_id, offset), None)
            self._bytes += len(data) - (len(old) if old is not None else 0)
            self._data[(content_id, offset)] = data
            while self._bytes > self.max_bytes and len(self._data) > 1:
                _, dropped = self._data.popitem(last=False)
                self._bytes -= len(dropped)

    def read(self, content_id: int, offset: int, size: int) -> bytes | None:
        """Bytes [offset, offset+size) if one buffer holds all of them."""
        with self._lock:
            for (cid, start), data in reversed(self._data.items()):
                if cid == content_id and start <= offset and offset + size <= start + len(data):
                    self._data.move_to_end((cid, start))
                    return data[offset - start : offset - start + size]
        return None
