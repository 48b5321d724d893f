"""How `odarchive status` describes a running service, from its `GET /api/status` snapshot.

The same information as the status page, as lines of text: the service, the changer's slots
by state and its faults, each drive (state, disc, lease holder, since when), the queue by
disc, the jobs (phase, percent, ETA, disc and drive; finished and failed), the mounts
with their cache figures, the burned discs out of the changer with where they are kept,
and the background scrub. Names (labels, clients, mount points) are shown as the status
gives them; the caller prints the lines through the escaping helper.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from odarchive.units import format_size

if TYPE_CHECKING:
    from odarchive.app.service.client import Reply

SLOT_WORDS = {
    "recorded": "recorded",
    "blank": "blank",
    "empty": "empty",
    "drive": "in a drive",
    "faulty": "faulty",
    "full": "full (not ours or unknown)",
}


def describe_service(s: Reply) -> list[str]:
    now = s.get("now") or 0.0
    svc = s.get("service") or {}
    listen = f", page http://{svc['listen']}/" if svc.get("listen") else ""
    up = f", up {_age(now - svc['started'])}" if svc.get("started") else ""
    lines = [f"service (pid {svc.get('pid', '?')}) on {svc.get('home', '?')}{listen}{up}"]
    lines += _changer(s.get("changer") or {})
    lines += [_drive(d, now) for d in s.get("drives") or []] or ["  no drives"]
    queue = s.get("queue") or []
    lines.append("  queue: nothing waits" if not queue else "  queue:")
    lines += [
        f"    disc {q.get('disc')}: {q.get('waiting', 0)} {q.get('kind', 'request')}(s) waiting,"
        f" oldest {_age(q.get('oldest_age_s'))}" + _clients(q.get("clients"))
        for q in queue
    ]
    lines += [_job(j, now) for j in s.get("jobs") or []]
    lines += [_mount(m) for m in s.get("mounts") or []]
    lines += offline_lines(s.get("offline_discs") or [])
    lines += _scrub(s.get("scrub"), now)
    return lines


def _scrub(sc: Reply | None, now: float) -> list[str]:
    """The background scrub (`[service] scrub`): its interval, what it reads now, its last result."""
    if not sc:
        return []
    if sc.get("every") in (None, "off"):
        return ["  background scrub: off" + (f" ({sc['why']})" if sc.get("why") else "")]
    text = (
        f"  background scrub: every {sc['every']}, {sc.get('scrubbed', 0)} disc(s) scrubbed,"
        f" gave way {sc.get('gave_way', 0)} time(s)"
    )
    c = sc.get("current")
    if c:
        text += f"; scrubbing disc {c.get('disc')} (set {c.get('set')}) on drive {c.get('drive')}"
        text += f" for {_age(now - c['since'])}" if c.get("since") else ""
    last = sc.get("last")
    if last:
        text += f"; last: disc {last.get('disc')} (set {last.get('set')}) {last.get('result')}"
        text += f" {_age(now - last['at'])} ago" if last.get("at") else ""
    skipped = [
        f"    skipped disc {k.get('disc')} copy {k.get('copy')}: {k.get('reason')}" for k in sc.get("skipped") or []
    ]
    attention = [
        f"    needs attention: disc {h.get('disc')} (set {h.get('set')}) {h.get('result')}"
        f" (`odarchive robot burn --replace {h.get('disc')}`)"
        for h in sc.get("attention") or []
    ]
    return [text, *skipped, *attention]


def offline_lines(discs: list[Reply]) -> list[str]:
    """Burned discs out of the changer and where they are kept ("insert disc 17 (set B): shelf 3")."""
    return ["  out of the changer:", *(f"    {d.get('text')}" for d in discs)] if discs else []


def _changer(c: Reply) -> list[str]:
    slots = c.get("slots") or []
    counts = Counter(slot.get("state", "unknown") for slot in slots)
    by_state = ", ".join(
        f"{counts[k]} {SLOT_WORDS.get(k, k)}"
        for k in [*SLOT_WORDS, *sorted(set(counts) - set(SLOT_WORDS))]
        if counts[k]
    )
    out = [f"  changer {c.get('driver', '?')}: {len(slots)} slots" + (f": {by_state}" if by_state else "")]
    for f in c.get("faults") or []:
        out.append(f"  FAULT: {f if isinstance(f, str) else f.get('message', f)}")
    return out


def _drive(d: Reply, now: float) -> str:
    text = f"  drive {d.get('drive')}: {d.get('state') or 'idle'}"
    if d.get("disc") is not None:
        text += f", disc {d['disc']}" + (f" ({d['label']})" if d.get("label") else "")
    lease = d.get("lease")
    if lease:
        text += f", lease {lease.get('kind', '?')} by {_client(lease.get('client'))}"
    if d.get("since"):
        text += f", since {_age(now - d['since'])}"
    if d.get("fault"):
        text += f", FAULT {d['fault']}"
    return text


def _job(j: Reply, now: float) -> str:
    params = j.get("params") or {}
    what = {"burn": f"burn discs {params.get('segments', '?')}", "rescan": f"rescan {params.get('source', '?')}"}
    head = f"  job {j.get('id')} {what.get(j.get('kind', ''), j.get('kind'))}: {j.get('state')}"
    if j.get("state") == "failed":
        return f"{head}: {j.get('error', '')}"
    if j.get("state") == "finished":
        burned = (j.get("result") or {}) if j.get("kind") == "burn" else (j.get("result") or {}).get("burn") or {}
        return f"{head} {_age(now - (j.get('finished') or now))} ago, {len(burned.get('burned', []))} disc(s) burned"
    if j.get("state") != "running":
        return head
    text = f"{head}, {j.get('step') or j.get('phase')}"
    if j.get("percent") is not None:
        text += f" {j['percent']:.1f}%"
    if j.get("eta_s") is not None:
        text += f", ETA {_age(j['eta_s'])}"
    if j.get("disc") is not None:
        text += f", disc {j['disc']}" + (f" on drive {j['drive']}" if j.get("drive") is not None else "")
    return text


def _mount(m: Reply) -> str:
    c = m.get("cache") or {}
    limit = f" of {format_size(c['max_bytes'])}" if c.get("max_bytes") else ""
    return (
        f"  mount {m.get('mountpoint', '?')}: hit ratio {c.get('hit_ratio', 0):.2f},"
        f" {m.get('disc_loads', 0)} disc loads, {m.get('disc_failures', 0)} failures,"
        f" cache {format_size(c.get('bytes_cached', 0))}{limit}"
    )


def _client(c: object) -> str:
    if isinstance(c, dict):
        return str(c.get("client") or c.get("name") or c)
    return c if isinstance(c, str) else str(c)


def _clients(cs: list[object] | None) -> str:
    return f" ({', '.join(_client(c) for c in cs)})" if cs else ""


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = max(0.0, float(seconds))
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
