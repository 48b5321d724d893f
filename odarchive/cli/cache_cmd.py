"""`odarchive cache stats|evict|pin|check|replay`: look at and steer the mount's cache.

The cache lives in `<home>/cache` unless `[cache] dir` says otherwise; these commands work on
it whether or not a mount is running (the index is shared through SQLite; files open in a
running mount are never evicted). PATH is a path in the archive as the mount shows it:
`photos/2019/a.jpg` (root name first; `.snapshots/<id>/...` for an earlier snapshot), or a
file under a running mount (`/archive/photos/2019/a.jpg`, identified by its
`user.odarchive.sha256` attribute).

The CacheConfig comes from `odarchive.app.mount_config.cache_config`, as for `odarchive mount`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from odarchive.app.context import Context
from odarchive.cli.json_flag import JSON
from odarchive.cli.render import make_reporter, print_json, say
from odarchive.errors import EXIT_FAILED, CatalogueError, InputError, UsageError
from odarchive.units import format_size, parse_duration, parse_size

if TYPE_CHECKING:
    from fuse_mount.cache import Cache, CacheConfig

XATTR_SHA256 = "user.odarchive.sha256"
_SNAPSHOTS = b".snapshots"
_RECORDED = ("max_bytes", "max_age_s", "min_free_bytes", "policy", "keep_heads_bytes")
"""Cache settings a running mount records (with its cache_dir) for these commands."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="cache_action", metavar="ACTION", required=True)
    s = sub.add_parser("stats", parents=[JSON], help="hits, misses, bytes, evictions, disc loads, waits")
    e = sub.add_parser("evict", parents=[JSON], help="drop a file's cached data, or everything with --all")
    e.add_argument("path", nargs="?", help="archived path or a path under the mount")
    e.add_argument("--all", action="store_true", help="every cached content that is not open or pinned")
    pin = sub.add_parser("pin", parents=[JSON], help="keep a file in the cache whatever the bounds (--remove to unpin)")
    pin.add_argument("path", help="archived path or a path under the mount")
    pin.add_argument("--remove", action="store_true", help="unpin instead")
    c = sub.add_parser(
        "check", parents=[JSON], help="verify every cached file against its hashes; drop what is corrupt"
    )
    r = sub.add_parser("replay", parents=[JSON], help="replay the access trace against policies and sizes (tuning)")
    r.add_argument("--policies", default=None, help="comma-separated (default: all)")
    r.add_argument(
        "--sizes", default=None, help="comma-separated max sizes, e.g. 512MiB,2G (default: 1/4, 1, 4 x max_bytes)"
    )
    r.add_argument(
        "--keep-heads", metavar="SIZE", help="replay with this head size instead of [cache] keep_heads_bytes"
    )
    r.add_argument(
        "--max-age", metavar="DURATION", help="replay with this max age instead of [cache] max_age_s (e.g. 30d)"
    )
    r.add_argument("--trace", type=Path, default=None, help="trace file (default: <cache dir>/trace.jsonl)")
    for action in (s, e, pin, c, r):
        action.add_argument("--cache-dir", help="the cache to look at (default: the running mount's, else [cache] dir)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from fuse_mount.cache import Cache
    from odarchive.app.mount_config import cache_config

    if args.cache_dir is not None:
        config = cache_config(ctx, dir=args.cache_dir)
    else:
        config = cache_config(ctx, **_running_mount_cache(ctx))
    if args.cache_action == "replay":
        return _replay(args, config)
    with Cache.open(config) as cache:
        if args.cache_action == "stats":
            return _stats(args, cache)
        if args.cache_action == "evict":
            return _evict(args, ctx, cache)
        if args.cache_action == "check":
            return _check(args, cache)
        return _pin(args, ctx, cache)


def _running_mount_cache(ctx: Context) -> dict[str, object]:
    """The cache settings of the mount running on this home (it records them), if any: so
    these commands look at the cache that mount uses whatever flags it was started with."""
    from odarchive.jobs import read_jobs

    mounts = [j.record for j in read_jobs(ctx.home.jobs) if j.alive and j.record.get("command") == "mount"]
    caches = {m["cache_dir"]: m for m in mounts if m.get("cache_dir")}
    if len(caches) > 1:
        names = ", ".join(f"{d} (mount on {m.get('mountpoint')})" for d, m in sorted(caches.items()))
        raise UsageError(f"mounts on this home use different caches: {names}", hint="name one with --cache-dir DIR")
    if not caches:
        return {}
    (record,) = caches.values()
    settings = record.get("cache_settings") or {}
    return {"dir": record["cache_dir"], **{k: settings[k] for k in _RECORDED if k in settings}}


def _stats(args: argparse.Namespace, cache: Cache) -> int:
    s = {"dir": str(cache.config.dir), **cache.stats().as_dict()}
    if args.json:
        print_json(s)
        return 0
    say(f"cache:        {cache.config.dir} (policy {s['policy']})")
    say(
        f"filled:       {format_size(s['bytes_cached'])} of {format_size(s['max_bytes']) if s['max_bytes'] else 'unbounded'}"
        f" in {s['contents']} contents ({s['chunks']} chunks, {s['heads']} heads);"
        f" {format_size(s['free_bytes'])} free on disk"
    )
    say(
        f"reads:        {s['hits']} hits, {s['misses']} misses, hit ratio {s['hit_ratio']:.1%};"
        f" {format_size(s['bytes_served'])} served from cache"
    )
    say(
        f"misses:       {s['disc_loads']} disc loads; wait per miss mean {s['mean_wait_s']:.2f} s, max {s['max_wait_s']:.2f} s"
    )
    say(
        f"evictions:    {s['evictions']} ({format_size(s['bytes_evicted'])});"
        f" {s['corrupt_drops']} corrupt dropped; {s['full_errors']} refused for a full disk"
    )
    say(f"kept:         {s['pinned']} pinned, {s['open_handles']} open")
    return 0


def _evict(args: argparse.Namespace, ctx: Context, cache: Cache) -> int:
    if args.all == bool(args.path):
        raise UsageError("give either PATH or --all")
    result: dict[str, object]
    if args.all:
        freed, result = cache.evict_all(), {"all": True}
    else:
        key, _ = resolve_path(ctx, args.path)
        freed, result = cache.evict(key), {"path": args.path, "sha256": key}
    result["bytes_freed"] = freed
    if args.json:
        print_json(result)
    else:
        say(f"evicted {format_size(freed)}")
    return 0


def _pin(args: argparse.Namespace, ctx: Context, cache: Cache) -> int:
    key, size = resolve_path(ctx, args.path)
    if args.remove:
        cache.unpin(key)
    else:
        cache.pin(key, size)
    cached = cache.is_cached(key)
    if args.json:
        print_json({"path": args.path, "sha256": key, "size": size, "pinned": not args.remove, "cached": cached})
    elif args.remove:
        say(f"unpinned {args.path}")
    else:
        note = "" if cached else "; not cached yet: read it through the mount to fetch it"
        say(f"pinned {args.path} ({format_size(size)}){note}")
    return 0


def _check(args: argparse.Namespace, cache: Cache) -> int:
    """Exit 1 if corrupt data was found (it is dropped and will be fetched again when read)."""
    s = cache.stats()
    reporter = make_reporter(args.json)
    reporter.start("check", total_items=s.chunks + s.heads, total_bytes=s.bytes_cached)
    checked, corrupt, missing = cache.check(lambda nbytes: reporter.advance(1, nbytes))
    reporter.finish()
    if args.json:
        print_json({"checked": checked, "corrupt": corrupt, "missing": missing})
    else:
        say(
            f"checked {checked} cached chunks and heads: {corrupt} corrupt, {missing} missing (dropped;"
            " they are fetched from the discs again when read)"
        )
    return EXIT_FAILED if corrupt else 0


def _replay(args: argparse.Namespace, config: CacheConfig) -> int:
    from fuse_mount.cache.policies import POLICIES, get_policy
    from fuse_mount.cache.replay import replay
    from fuse_mount.cache.trace import read_trace

    trace = args.trace or config.dir / "trace.jsonl"
    accesses = list(read_trace(trace))
    if not accesses:
        raise InputError(
            f"no accesses recorded in {trace}", hint="read files through the mount first ([cache] trace = true)"
        )
    base = config.max_bytes or 1 << 30
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else [base // 4, base, base * 4]
        heads = min(parse_size(args.keep_heads), config.chunk_bytes) if args.keep_heads else config.head_bytes
        max_age = parse_duration(args.max_age) if args.max_age else config.max_age_s
        policies = args.policies.split(",") if args.policies else list(POLICIES)
        for name in policies:
            get_policy(name)
    except ValueError as e:
        raise UsageError(str(e)) from None
    results = [
        replay(accesses, p, s, chunk_bytes=config.chunk_bytes, head_bytes=heads, max_age_s=max_age)
        for p in policies
        for s in sizes
    ]
    results.sort(key=lambda r: (-r.hit_ratio, r.bytes_fetched))
    rows = [vars(r) | {"current": r.policy == config.policy and r.max_bytes == config.max_bytes} for r in results]
    if args.json:
        print_json({"trace": str(trace), "accesses": len(accesses), "results": rows})
        return 0
    say(f"{len(accesses)} accesses from {trace}")
    for r in rows:
        mark = "  <- current" if r["current"] else ""
        say(
            f"{r['policy']:<6} max {format_size(r['max_bytes']):>9}: hit ratio {r['hit_ratio']:.1%},"
            f" {format_size(r['bytes_fetched'])} from discs, {r['evictions']} evictions{mark}"
        )
    return 0


def resolve_path(ctx: Context, path: str) -> tuple[str, int]:
    """(sha256 hex, size) of the file at PATH: under a running mount, or in the catalogue."""
    if os.path.lexists(path):
        try:
            key = os.getxattr(path, XATTR_SHA256).decode()
        except OSError:
            pass
        else:
            return key, os.stat(path).st_size
        if os.path.isabs(path):
            raise InputError(
                f"{path} is not a file in an odarchive mount", hint="give a path in the archive, e.g. photos/2019/a.jpg"
            )
    return _resolve_archived(ctx, os.fsencode(path))


def _resolve_archived(ctx: Context, path: bytes) -> tuple[str, int]:
    from odarchive.catalogue.tree import resolve

    parts = [p for p in path.split(b"/") if p and p != b"."]
    snap_id = None
    if len(parts) >= 2 and parts[0] == _SNAPSHOTS and parts[1].isdigit():
        snap_id, parts = int(parts[1]), parts[2:]
    shown = os.fsdecode(path)
    if not parts:
        raise InputError(f"{shown}: not a file in the archive")
    if not ctx.home.catalogue.exists():
        raise CatalogueError(
            f"no catalogue in {ctx.home.root}", hint="run `odarchive create_db SOURCE` first, or pass --home"
        )
    with ctx.open_catalogue(readonly=True) as cat:
        source = cat.source_by_name(parts[0])
        if snap_id is None:
            latest = cat.latest_snapshot(source.id) if source else None
            snap_id = latest.id if latest else None
        entry = resolve(cat, b"/".join(parts), snap_id) if snap_id is not None else None
        if entry is None:
            raise InputError(
                f"{shown}: no such file in the archive", hint="paths start with the root name, e.g. photos/2019/a.jpg"
            )
        if entry.kind != "f":
            raise InputError(f"{shown}: not a regular file")
        if entry.content_id is None:
            raise InputError(f"{shown}: not hashed yet", hint="run `odarchive create_db` again to finish the scan")
        sha, size = cat.content(entry.content_id)
    return sha.hex(), size
