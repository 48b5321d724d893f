"""The drive scheduler as a model: a fake clock, simulated motions, no robot.

`Model` plays the robot and the clients: a load takes LOAD_S, a burn BURN_S, a read client
holds its lease READ_S. The rules under test are in odarchive/app/service/scheduler.py.
"""

from __future__ import annotations

import heapq
import random

from odarchive.app.service.scheduler import BURN, READ, Fail, Grant, Load, LoadBlank, Scheduler

LOAD_S, UNLOAD_S, BURN_S, READ_S = 3.0, 2.0, 60.0, 1.0


class Model:
    def __init__(self, drives: int = 2, **kw: object) -> None:
        self.s = Scheduler(range(drives), **kw)  # type: ignore[arg-type]
        self.now = 0.0
        self.events: list[tuple[float, int, str, object]] = []
        self.seq = 0
        self.loads: list[int] = []
        self.waits: dict[str, list[float]] = {READ: [], BURN: []}
        self.failed: list[Fail] = []
        self.burns_done = 0

    def at(self, t: float, what: str, arg: object) -> None:
        heapq.heappush(self.events, (t, self.seq, what, arg))
        self.seq += 1

    def submit(self, t: float, kind: str, disc: int, timeout_s: float | None = None) -> None:
        self.at(t, "submit", (kind, disc, timeout_s))

    def run(self, until: float = 1e9) -> None:
        self.step()
        while self.events and self.events[0][0] <= until:
            t, _, what, arg = heapq.heappop(self.events)
            self.now = t
            if what == "submit":
                kind, disc, timeout_s = arg  # type: ignore[misc]
                r = self.s.submit(kind, disc, "client", t, timeout_s)
                if timeout_s is not None:
                    self.at(t + timeout_s, "tick", None)
            elif what == "loaded":
                drive, disc = arg  # type: ignore[misc]
                self.s.loaded(drive, disc, t)
            elif what == "blank":
                drive, r = arg  # type: ignore[misc]
                self.s.blank_loaded(drive, r, t)
            elif what == "release":
                r = arg
                if self.s.release(r):  # type: ignore[arg-type]
                    self.at(t + UNLOAD_S, "unloaded", r.drive)  # type: ignore[attr-defined]
                if r.kind == BURN:  # type: ignore[attr-defined]
                    self.burns_done += 1
            elif what == "unloaded":
                self.s.unloaded(arg, t)  # type: ignore[arg-type]
            if not self.events or self.events[0][0] > t:  # decide once all that happened at t is in
                self.step()

    def step(self) -> None:
        for a in self.s.decide(self.now):
            if isinstance(a, Load):
                self.loads.append(a.disc)
                self.at(self.now + LOAD_S, "loaded", (a.drive, a.disc))
            elif isinstance(a, LoadBlank):
                self.at(self.now + LOAD_S, "blank", (a.drive, a.request))
            elif isinstance(a, Grant):
                self.waits[a.request.kind].append(self.now - a.request.created)
                self.at(self.now + (BURN_S if a.request.kind == BURN else READ_S), "release", a.request)
            else:
                self.failed.append(a)


def test_a_read_never_waits_behind_more_than_one_burn() -> None:
    m = Model(drives=2, read_drives=1)
    for disc in range(100, 140):  # 40 burns queued first: both drives start burning
        m.submit(0.0, BURN, disc)
    rng = random.Random(7)
    for i in range(60):  # reads of 6 discs arriving all along
        m.submit(5.0 + i * rng.uniform(5, 40), READ, rng.randrange(6))
    m.run()
    assert not m.failed
    one_swap = BURN_S + UNLOAD_S + LOAD_S  # the burn in the way, then a disc swap
    assert max(m.waits[READ]) <= one_swap + READ_S, max(m.waits[READ])
    assert m.burns_done == 40  # and the burns all happened meanwhile


def test_burns_use_every_drive_when_no_read_waits() -> None:
    m = Model(drives=3, read_drives=1)
    for disc in range(6):
        m.submit(0.0, BURN, disc)
    m.run(until=LOAD_S + 1)
    burning = [d for d in m.s.drives.values() if d.leases and d.leases[0].kind == BURN]
    assert len(burning) == 3


def test_a_stream_of_reads_does_not_starve_burns() -> None:
    m = Model(drives=2, read_drives=2, burn_max_wait_s=300.0)  # reads may take every drive...
    m.submit(1.0, BURN, 50)
    for i in range(400):  # ...and some read always waits
        m.submit(i * 1.5, READ, i % 7)
    m.run(until=700.0)
    assert m.waits[BURN], "the burn never got a drive"
    assert 300.0 <= m.waits[BURN][0] <= 300.0 + (LOAD_S + READ_S) + LOAD_S  # the read in the way, then a blank


def test_each_disc_is_loaded_once_per_batch_in_disc_order() -> None:
    m = Model(drives=2, read_drives=1)
    rng = random.Random(3)
    discs = [rng.randrange(5) for _ in range(30)]
    for disc in discs:
        m.submit(0.0, READ, disc)
    m.run()
    assert sorted(m.loads) == sorted(set(discs)) and m.loads == sorted(m.loads)
    assert len(m.waits[READ]) == 30


def test_a_disc_already_in_a_drive_is_served_first_without_a_load() -> None:
    s = Scheduler(range(2))
    s.set_contents(1, 3, True, 0.0)
    old = s.submit(READ, 1, "a", 0.0)
    here = s.submit(READ, 3, "b", 1.0)
    actions = s.decide(1.0)
    assert Grant(here, 1) in actions
    assert Load(0, 1) in actions and old.drive == 0
    assert not any(isinstance(a, Load) and a.disc == 3 for a in actions)


def test_readers_of_a_leased_disc_share_its_drive_unless_others_wait() -> None:
    s = Scheduler(range(1))
    s.set_contents(0, 3, True, 0.0)
    a = s.submit(READ, 3, "mount", 0.0)
    assert s.decide(0.0) == [Grant(a, 0)]
    b = s.submit(READ, 3, "restore", 1.0)
    assert s.decide(1.0) == [Grant(b, 0)]  # nothing else waits: shared
    s.submit(READ, 4, "mount", 2.0)
    c = s.submit(READ, 3, "verify", 2.0)
    assert s.decide(2.0) == []  # disc 4 waits: no new sharers of disc 3's drive
    s.release(a)
    s.release(b)
    actions = s.decide(3.0)
    assert Grant(c, 0) in actions  # the one on the loaded disc goes first, then disc 4
    s.release(c)
    assert Load(0, 4) in s.decide(4.0)


def test_a_read_that_waits_too_long_fails_naming_its_disc() -> None:
    s = Scheduler(range(1), describe=lambda d: f"disc {d} (ARCH_{d:04d})")
    s.set_contents(0, None, False, 0.0)
    burn = s.submit(BURN, 9, "burn", 0.0)
    assert s.decide(0.0) == [LoadBlank(0, burn)]
    s.blank_loaded(0, burn, 3.0)
    assert s.decide(3.0) == [Grant(burn, 0)]
    read = s.submit(READ, 4, "mount", 4.0, timeout_s=10.0)
    assert s.decide(13.9) == []
    [fail] = s.decide(14.0)
    assert isinstance(fail, Fail) and fail.request is read
    assert fail.message == "disc 4 (ARCH_0004) not available within 10 s"


def test_a_failed_load_fails_only_the_reads_of_that_disc() -> None:
    s = Scheduler(range(2), read_drives=0)
    r3 = [s.submit(READ, 3, "a", 0.0) for _ in range(3)]
    r5 = s.submit(READ, 5, "b", 0.0)
    actions = s.decide(0.0)
    assert Load(0, 3) in actions and Load(1, 5) in actions
    failed = s.load_failed(0, "jammed", 1.0)
    assert failed == r3 and all(r.error == "jammed" for r in r3)
    s.loaded(1, 5, 2.0)
    assert s.decide(2.0) == [Grant(r5, 1)]
    burn = s.submit(BURN, 8, "burn", 3.0)
    assert s.decide(3.0) == []  # drive 0 is faulty until a reset; drive 1 is leased
    s.reset_faults(4.0)
    assert s.decide(4.0) == [LoadBlank(0, burn)]


def test_a_blank_that_cannot_be_loaded_is_retried_then_the_burn_fails() -> None:
    s = Scheduler(range(1), blank_attempts=2)
    burn = s.submit(BURN, 8, "burn", 0.0)
    assert s.decide(0.0) == [LoadBlank(0, burn)]
    assert s.load_failed(0, "slot 6 is empty", 1.0) == []
    s.reset_faults(1.0)
    assert s.decide(1.0) == [LoadBlank(0, burn)]  # another blank
    assert s.load_failed(0, "slot 7 is empty", 2.0) == [burn]


def test_requests_and_leases_of_dead_clients_are_given_back() -> None:
    s = Scheduler(range(1))
    s.set_contents(0, 2, True, 0.0)
    held = s.submit(READ, 2, "dead", 0.0, pid=111)
    s.decide(0.0)
    waiting = s.submit(READ, 4, "dead", 0.0, pid=111)
    live = s.submit(READ, 2, "alive", 0.0, pid=222)
    cancelled, released = s.reap(lambda pid: pid != 111)
    assert cancelled == [waiting] and released == [held]
    s.release(held)
    assert s.decide(1.0) == [Grant(live, 0)]
    assert s.busy() == 1


def test_no_blank_left_fails_the_burn_at_once_and_no_drive_left_fails_what_waits() -> None:
    s = Scheduler(range(2), blank_attempts=3)
    burn = s.submit(BURN, 8, "burn", 0.0)
    [load] = s.decide(0.0)
    assert s.load_failed(load.drive, "no blank medium left", 1.0, drive_fault=False, retry=False) == [burn]
    assert burn.error == "no blank medium left" and s.requests == []
    s.load_failed(0, "jammed", 2.0)  # both drives out with a fault
    s.load_failed(1, "jammed", 2.0)
    waiting = [s.submit(BURN, 9, "burn", 3.0), s.submit(READ, 4, "mount", 3.0, timeout_s=600)]
    failed = s.decide(3.0)
    assert [a.request for a in failed if isinstance(a, Fail)] == waiting  # not a wait of forever (burns) or 600 s
    assert all("every drive is out" in r.error and "robot reset" in r.error for r in waiting)


def test_a_background_read_gives_way_before_and_after_it_has_a_drive() -> None:
    """Rule 5: the scrub's background read comes after every other request, fails when one
    waits before it has a drive, and once granted is told (`wanted`) to give its drive back;
    it never counts as busy."""
    s = Scheduler([0])
    bg = s.submit(READ, 5, "background scrub", 0.0, copy=1, background=True)
    [load] = s.decide(0.0)
    assert isinstance(load, Load) and (load.disc, load.copy) == (5, 1) and s.busy() == 0
    s.loaded(0, 5, 1.0, copy=1)
    [grant] = s.decide(1.0)
    assert isinstance(grant, Grant) and grant.request is bg and not s.wanted()
    same = s.submit(READ, 5, "reader of the same disc", 2.0)
    assert [a.request for a in s.decide(2.0) if isinstance(a, Grant)] == [same] and not s.wanted()  # shares it
    s.release(same)
    other = s.submit(READ, 7, "reader", 3.0)
    assert s.decide(3.0) == [] and s.wanted() and s.busy() == 1  # the scrub must give drive 0 back
    s.release(bg)
    [load] = s.decide(3.1)
    assert isinstance(load, Load) and load.disc == 7
    late = s.submit(READ, 6, "background scrub", 3.2, background=True)
    assert s.decide(3.2) == [] and late.waiting  # disc 7's reader has its drive coming: nothing else waits
    s.submit(BURN, 8, "burner", 3.3)
    [fail] = s.decide(3.3)  # a burn waits for a drive: the background read without one gives way
    assert isinstance(fail, Fail) and fail.request is late and late.error == "gave way to a read or burn"
    assert other.waiting and other.drive == 0 and s.busy() == 2


def test_background_reads_are_loaded_after_every_other_read() -> None:
    s = Scheduler([0, 1])
    s.submit(READ, 1, "background scrub", 0.0, background=True)
    s.submit(READ, 2, "reader", 1.0)
    s.submit(READ, 3, "reader", 2.0)
    loads = [a.disc for a in s.decide(2.0) if isinstance(a, Load)]
    assert loads == [2, 3]  # the foreground reads first, though the background one is older
    assert not s.wanted()  # both are being loaded: nothing waits for the background's drive
