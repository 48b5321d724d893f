"""Drive scheduling: who gets which drive, and when. Plain Python, no robot, no clock of its own.

Clients ask for a **lease**: a drive holding disc N, to read it (`kind="read"`), or a drive
holding a blank, to burn disc N (`kind="burn"`). `decide(now)` looks at the waiting requests
and the drives and returns what to do next: grant a request on a drive that is ready for it,
move media (`Load` of a disc for its readers, `LoadBlank` for a burn), or fail requests that
waited too long. The service carries the motions out on the robot and reports back
(`loaded`, `load_failed`, `unloaded`); tests drive the same methods with a fake clock.

The rules (docs/service.md, after CERN CTA's mount policies):

1. Reads are grouped by disc: a disc already in a drive is served there first; otherwise
   one load serves everything waiting on that disc; discs are taken oldest request first
   (ties: disc number, so a batch submitted at once goes in disc order). Readers of a disc
   already leased share its drive unless other work waits. A read may ask for one copy of
   the disc (`copy`, scrub reads each copy); otherwise any copy serves.
2. A burn is never interrupted. While reads wait, burns may hold at most
   `drives - read_drives` drives; with no reads waiting burns use every drive.
3. Ageing: a burn that has waited `burn_max_wait_s` takes the next free drive even while
   reads wait. A read not granted within its timeout fails with an error naming the disc.
4. A failed motion fails only the requests it was for; the drive is marked with the fault
   and stays out until a successful motion or `reset_faults`; when every drive is out, the
   requests waiting fail at once (nothing could serve them until a reset). A blank that cannot be loaded
   puts the burn back in the queue (another blank is tried), up to `blank_attempts`.
5. Background reads (`background=True`: the service's own scrub) come last: one that has no
   drive yet fails ("gave way") as soon as any other request waits for a drive, and
   `wanted()` tells the holder of a background lease to give its drive back. They do not
   count as work in flight (`busy`).

Not thread-safe: the service calls it under its own lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

READ, BURN = "read", "burn"


@dataclass(eq=False)
class Request:
    id: int
    kind: str
    disc: int
    client: str
    pid: int | None
    created: float
    deadline: float | None  # reads: when they fail if not granted
    drive: int | None = None  # the drive being readied for it
    blank_failures: int = 0
    granted: float | None = None
    error: str | None = None  # set when it failed
    copy: int | None = None  # reads: this copy only (None: any); burns: the set being burned
    background: bool = False  # rule 5: the service's own scrub, which gives way to everything

    @property
    def key(self) -> tuple[int, int | None]:
        """What a read waits for: the disc, and the copy if it asked for one."""
        return self.disc, self.copy

    @property
    def waiting(self) -> bool:
        return self.granted is None and self.error is None


@dataclass
class DriveModel:
    drive: int
    disc: int | None = None  # the recorded disc in it, ready to read
    copy: int | None = None  # which copy of it (None: not known)
    blank_for: int | None = None  # a blank loaded for this burn request
    occupied: bool = False  # some medium is in it
    leases: list[Request] = field(default_factory=list)
    motion: str | None = None  # what the robot is doing with it
    fault: str | None = None
    since: float = 0.0

    @property
    def free(self) -> bool:
        return not self.leases and self.motion is None and self.fault is None


@dataclass(frozen=True)
class Grant:
    request: Request
    drive: int


@dataclass(frozen=True)
class Load:
    drive: int
    disc: int
    copy: int | None = None  # None: any copy


@dataclass(frozen=True)
class LoadBlank:
    drive: int
    request: Request


@dataclass(frozen=True)
class Fail:
    request: Request
    message: str


Action = Grant | Load | LoadBlank | Fail


class Scheduler:
    def __init__(
        self,
        drives: Iterable[int],
        read_drives: int = 1,
        burn_max_wait_s: float = 1800.0,
        blank_attempts: int = 3,
        describe: Callable[[int], str] = lambda d: f"disc {d}",
    ) -> None:
        self.drives = {n: DriveModel(n) for n in drives}
        self.read_drives = read_drives
        self.burn_max_wait_s = burn_max_wait_s
        self.blank_attempts = blank_attempts
        self.describe = describe
        self.requests: list[Request] = []  # waiting, oldest first
        self._next_id = 1

    @property
    def submitted(self) -> int:
        """Requests submitted so far (a number that changes whenever a client asks)."""
        return self._next_id - 1

    # ---- clients ----
    def submit(
        self,
        kind: str,
        disc: int,
        client: str,
        now: float,
        timeout_s: float | None = None,
        pid: int | None = None,
        copy: int | None = None,
        background: bool = False,
    ) -> Request:
        deadline = now + timeout_s if timeout_s is not None else None
        r = Request(self._next_id, kind, disc, client, pid, now, deadline, copy=copy, background=background)
        self._next_id += 1
        self.requests.append(r)
        return r

    def cancel(self, r: Request, message: str = "cancelled") -> None:
        """A waiting request goes away (its client left)."""
        if r in self.requests:  # a blank being loaded for it is put away when it arrives
            self.requests.remove(r)
            r.error = message

    def release(self, lease: Request) -> bool:
        """The client gives the drive back. True when a medium must be put away first (a burn:
        the service unloads it and calls `unloaded`)."""
        d = self.drives[lease.drive] if lease.drive is not None else None
        if d is None or lease not in d.leases:
            return False
        d.leases.remove(lease)
        if lease.kind == BURN:
            d.blank_for = None
            d.motion = "unloading"
            return True
        return False

    # ---- the robot reports ----
    def loaded(self, drive: int, disc: int, now: float, copy: int | None = None) -> None:
        d = self.drives[drive]
        d.motion, d.fault, d.disc, d.blank_for, d.occupied, d.since = None, None, disc, None, True, now
        d.copy = copy

    def blank_loaded(self, drive: int, request: Request, now: float) -> None:
        d = self.drives[drive]
        d.motion, d.fault, d.disc, d.blank_for, d.occupied, d.since = None, None, None, request.id, True, now
        d.copy = None

    def unloaded(self, drive: int, now: float) -> None:
        d = self.drives[drive]
        d.motion, d.disc, d.copy, d.blank_for, d.occupied, d.since = None, None, None, None, False, now

    def load_failed(
        self, drive: int, message: str, now: float, drive_fault: bool = True, retry: bool = True
    ) -> list[Request]:
        """A motion for `drive` failed: the requests it was for fail (a burn's goes back to
        the queue for another blank, up to `blank_attempts`, unless not `retry`: no blank is
        left); returns the failed ones. With `drive_fault` the drive is out until
        `reset_faults` (its contents are unknown); without (the disc is in no slot) it is
        left as it was."""
        d = self.drives[drive]
        d.motion = None
        if drive_fault:
            d.fault, d.disc, d.copy, d.blank_for, d.since = message, None, None, None, now
            d.occupied = True  # unknown: nothing is loaded into it until a reset or an unload works
        failed = []
        for r in [r for r in self.requests if r.drive == drive]:
            r.drive = None
            if r.kind == BURN and retry:
                r.blank_failures += 1
                if r.blank_failures < self.blank_attempts:
                    continue
            self.requests.remove(r)
            r.error = message
            failed.append(r)
        return failed

    def reset_faults(self, now: float) -> None:
        for d in self.drives.values():
            if d.fault is not None:
                d.fault, d.since = None, now

    def set_contents(self, drive: int, disc: int | None, occupied: bool, now: float, copy: int | None = None) -> None:
        """What a drive holds, from the changer (startup, reconciliation, a manual move)."""
        d = self.drives[drive]
        d.disc, d.copy, d.occupied, d.blank_for, d.since = disc, copy, occupied, None, now

    # ---- deciding ----
    def decide(self, now: float) -> list[Action]:
        actions: list[Action] = []
        for r in list(self.requests):  # rule 3: reads that waited too long
            if r.kind == READ and r.deadline is not None and now >= r.deadline:
                self.requests.remove(r)
                r.error = f"{self.describe(r.disc)} not available within {r.deadline - r.created:g} s"
                actions.append(Fail(r, r.error))
        faults = [d.fault for d in self.drives.values() if d.fault is not None]
        if faults and len(faults) == len(self.drives):  # rule 4: no drive left to wait for
            for r in [r for r in self.requests if r.drive is None]:
                self.requests.remove(r)
                r.error = f"every drive is out with a fault ({faults[0]}); clear it, then `odarchive robot reset`"
                actions.append(Fail(r, r.error))
        if self.wanted():  # rule 5: a background read without a drive gives way
            for r in [r for r in self.requests if r.background and r.drive is None]:
                self.requests.remove(r)
                r.error = "gave way to a read or burn"
                actions.append(Fail(r, r.error))
        for r in [r for r in self.requests if r.drive is None]:  # ready drives first
            d = self._ready_for(r)
            if d is not None:
                actions.append(self._grant(r, d, now))
        for r in list(self.requests):  # motions that completed
            if r.drive is None:
                continue
            d = self.drives[r.drive]
            if d.motion is None and d.fault is None and (_holds(d, r) if r.kind == READ else d.blank_for == r.id):
                actions.append(self._grant(r, d, now))
        actions += self._start_motions(now)
        return actions

    def _ready_for(self, r: Request) -> DriveModel | None:
        for d in self.drives.values():
            if d.motion is not None or d.fault is not None:
                continue
            if r.kind == READ and _holds(d, r):
                sharing = d.leases
                others_wait = any(o.key != r.key for o in self.requests if o.waiting and o.drive is None)
                if not sharing or (all(x.kind == READ for x in sharing) and not others_wait):
                    return d
        return None

    def _grant(self, r: Request, d: DriveModel, now: float) -> Grant:
        self.requests.remove(r)
        r.drive, r.granted = d.drive, now
        d.leases.append(r)
        return Grant(r, d.drive)

    def _start_motions(self, now: float) -> list[Action]:
        actions: list[Action] = []
        unassigned = [r for r in self.requests if r.drive is None]
        reads = [r for r in unassigned if r.kind == READ]
        burns = [r for r in unassigned if r.kind == BURN]
        reads_wait = any(r.kind == READ for r in self.requests)
        usable = [d for d in self.drives.values() if d.fault is None]
        aged = [b for b in burns if now - b.created >= self.burn_max_wait_s]
        for b in aged:  # rule 3: an aged burn takes the next free drive
            d = self._free_drive()
            if d is None:
                break
            actions.append(self._load_blank(d, b))
            burns.remove(b)
        loading = {r.key for r in self.requests if r.kind == READ and r.drive is not None}
        leased = [d for d in self.drives.values() if d.leases and d.disc is not None]
        for key in self._discs_in_order(reads):  # rule 1
            disc, copy = key
            if key in loading or any(d.disc == disc and (copy is None or d.copy == copy) for d in leased):
                continue  # its drive will serve it
            d = self._free_drive(avoid_wanted={r.disc for r in reads})
            if d is None:
                break
            d.motion = f"loading {self.describe(disc)}"
            for r in reads:
                if r.key == key:
                    r.drive = d.drive
            actions.append(Load(d.drive, disc, copy))
        for b in burns:  # rule 2
            burning = sum(
                1
                for d in usable
                if d.blank_for is not None
                or any(x.kind == BURN for x in d.leases)
                or (d.motion or "").startswith("loading a blank")
            )
            if reads_wait and burning >= len(usable) - self.read_drives:
                break
            d = self._free_drive()
            if d is None:
                break
            actions.append(self._load_blank(d, b))
        return actions

    def _load_blank(self, d: DriveModel, b: Request) -> LoadBlank:
        d.motion = f"loading a blank for {self.describe(b.disc)}"
        b.drive = d.drive
        return LoadBlank(d.drive, b)

    @staticmethod
    def _discs_in_order(reads: list[Request]) -> list[tuple[int, int | None]]:
        first: dict[tuple[int, int | None], tuple[bool, float]] = {}
        for r in reads:
            first[r.key] = min(first.get(r.key, (r.background, r.created)), (r.background, r.created))
        return sorted(first, key=lambda key: (first[key], key[0], -1 if key[1] is None else key[1]))

    def _free_drive(self, avoid_wanted: set[int] = frozenset()) -> DriveModel | None:  # type: ignore[assignment]
        """A drive nobody uses: an empty one first, else the one whose disc is unwanted and
        was loaded longest ago."""
        free = [d for d in self.drives.values() if d.free and d.blank_for is None and d.disc not in avoid_wanted]
        if not free:
            return None
        return min(free, key=lambda d: (d.occupied, d.since, d.drive))

    # ---- what is going on ----
    def reap(self, alive: Callable[[int], bool]) -> tuple[list[Request], list[Request]]:
        """Requests and leases of clients whose process died: (cancelled, released)."""
        cancelled = [r for r in self.requests if r.pid is not None and not alive(r.pid)]
        for r in cancelled:
            self.cancel(r, "the client died")
        released = [x for d in self.drives.values() for x in d.leases if x.pid is not None and not alive(x.pid)]
        return cancelled, released

    def wanted(self) -> bool:
        """Rule 5: a request other than a background read waits for a drive (a background
        lease should be given back). A read whose disc is being loaded, or is held by a
        reader that is not a background one, waits for that drive, not for another."""
        coming = {r.key for r in self.requests if r.kind == READ and r.drive is not None}
        held = [d for d in self.drives.values() if d.leases and not any(x.background for x in d.leases)]
        for r in self.requests:
            if r.background or r.drive is not None:
                continue
            if r.kind == READ and (r.key in coming or any(_holds(d, r) for d in held)):
                continue
            return True
        return False

    def busy(self) -> int:
        """Requests waiting and leases held, background reads left out."""
        return sum(not r.background for r in self.requests) + sum(
            not x.background for d in self.drives.values() for x in d.leases
        )


def _holds(d: DriveModel, r: Request) -> bool:
    """Drive `d` holds what read `r` wants (its copy, if it asked for one)."""
    return d.disc == r.disc and (r.copy is None or d.copy == r.copy)
