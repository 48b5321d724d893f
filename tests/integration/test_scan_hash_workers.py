"""Small-file batches hashed in worker processes (odarchive.scan.hashworkers, smallfiles): the
same catalogue as hashing in the scanning process, outputs in order, a dead worker costing
nothing but a warning, and workers that leave Ctrl-C to the scan."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.progress import NullReporter
from odarchive.scan import ScanOptions, scan_source
from odarchive.scan import hashworkers as hashworkers_mod
from odarchive.scan import smallfiles as smallfiles_mod
from odarchive.scan.hashworkers import INLINE_BATCHES, HashWorkers
from tests.lib.trees import snapshot_listing, write

PARENT = os.getpid()
REPO = Path(__file__).resolve().parents[2]


def pid_and_job(job: int) -> tuple[int, int]:
    return os.getpid(), job


def die_in_a_worker(job: int) -> tuple[int, int]:
    if os.environ.get("ODARCHIVE_TEST_PARENT") != str(os.getpid()) and job == INLINE_BATCHES + 2:
        os._exit(1)  # a worker killed mid-batch (the OOM killer, kill -9)
    return os.getpid(), job


def sigint_disposition(job: int) -> str:
    handler = signal.getsignal(signal.SIGINT)
    return "ignored" if handler == signal.SIG_IGN else getattr(handler, "__name__", str(handler))


def run(work, jobs: int, processes: int = 1) -> tuple[list, list[str]]:
    got: list = []
    warnings: list[str] = []
    workers = HashWorkers(work, lambda key, out: got.append((key, out)), processes, warnings.append)
    try:
        for job in range(jobs):
            workers.submit(f"key{job}", job)
        workers.flush()
    finally:
        workers.close()
    return got, warnings


def test_batches_after_the_first_few_run_in_a_worker_and_come_back_in_order():
    got, warnings = run(pid_and_job, INLINE_BATCHES + 20)
    assert [key for key, _ in got] == [f"key{job}" for job in range(INLINE_BATCHES + 20)]
    assert [out[1] for _, out in got] == list(range(INLINE_BATCHES + 20))
    pids = [out[0] for _, out in got]
    assert pids[:INLINE_BATCHES] == [PARENT] * INLINE_BATCHES  # a small tree never starts a worker
    assert PARENT not in pids[INLINE_BATCHES:]
    assert warnings == []


def test_no_worker_with_zero_processes():
    got, _ = run(pid_and_job, INLINE_BATCHES + 5, processes=0)
    assert {out[0] for _, out in got} == {PARENT}


def test_a_worker_that_dies_costs_a_warning_and_its_batches_are_hashed_here(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ODARCHIVE_TEST_PARENT", str(PARENT))  # the workers inherit it
    got, warnings = run(die_in_a_worker, INLINE_BATCHES + 10)
    assert [out[1] for _, out in got] == list(range(INLINE_BATCHES + 10))  # nothing lost, still in order
    assert got[INLINE_BATCHES + 2][1][0] == PARENT
    assert [out[0] for _, out in got][-3:] == [PARENT] * 3  # the rest here too, not on a broken pool
    assert len(warnings) == 1 and "hashing worker" in warnings[0]


class NoWorkersHere:
    """A ProcessPoolExecutor where processes cannot start (as without /dev/shm)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def submit(self, *args: object) -> None:
        raise OSError(38, "Function not implemented")

    def shutdown(self, *args: object, **kwargs: object) -> None:
        pass


def test_workers_that_cannot_start_cost_a_warning_and_the_batches_are_hashed_here(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(hashworkers_mod, "ProcessPoolExecutor", NoWorkersHere)
    got, warnings = run(pid_and_job, INLINE_BATCHES + 5)
    assert [out for _, out in got] == [(PARENT, job) for job in range(INLINE_BATCHES + 5)]
    assert len(warnings) == 1 and "could not start" in warnings[0] and "Function not implemented" in warnings[0]


def slow_pid_and_job(job: int) -> tuple[int, int]:
    time.sleep(0.05)  # so that batches are still queued when a later one cannot be sent
    return os.getpid(), job


def test_batches_queued_when_the_workers_stop_taking_more_are_hashed_here_in_order(monkeypatch: pytest.MonkeyPatch):
    real_submit = ProcessPoolExecutor.submit
    sent: list[int] = []

    def fails_after_three(self: ProcessPoolExecutor, fn: object, job: int) -> object:
        if len(sent) == 3:
            raise RuntimeError("cannot schedule new futures after shutdown")
        sent.append(job)
        return real_submit(self, fn, job)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", fails_after_three)
    got, warnings = run(slow_pid_and_job, INLINE_BATCHES + 8)
    assert [out[1] for _, out in got] == list(range(INLINE_BATCHES + 8))  # every batch, in order
    assert [out[0] for _, out in got][INLINE_BATCHES + 3 :] == [PARENT] * 5
    assert len(warnings) == 1 and "could not start" in warnings[0]


def test_workers_leave_ctrl_c_to_the_scan():
    """In a scan that Ctrl-C stops (a fresh process: pytest-xdist's workers ignore SIGINT, and
    so would a fork server they start), the workers ignore it."""
    script = (
        "import signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from odarchive.scan.hashworkers import INLINE_BATCHES\n"
        "from tests.integration.test_scan_hash_workers import run, sigint_disposition\n"
        "got, _ = run(sigint_disposition, INLINE_BATCHES + 1)\n"
        "print(got[0][1], got[-1][1])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    here, worker = out.stdout.split()
    assert here == "default_int_handler"  # the first batches ran in the scan itself
    assert worker == "ignored"


def small_tree(root: Path, n: int) -> None:
    for i in range(n):
        write(root / f"d{i // 100:02d}" / f"f{i:05d}", b"%d" % (i % 700) * (i % 37))  # duplicates too


def scan(home: Path, src: Path, jobs: int) -> None:
    home.mkdir()
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src, ScanOptions(jobs=jobs), NullReporter())


def test_a_scan_hashed_in_workers_gives_the_catalogue_of_a_scan_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    n = (INLINE_BATCHES + 6) * smallfiles_mod.BATCH
    small_tree(tmp_path / "src", n)
    started: list[bool] = []
    real_close = HashWorkers.close

    def spy_close(self: HashWorkers) -> None:
        started.append(self.started)
        real_close(self)

    monkeypatch.setattr(HashWorkers, "close", spy_close)
    scan(tmp_path / "one", tmp_path / "src", jobs=1)
    scan(tmp_path / "two", tmp_path / "src", jobs=2)
    assert started == [False, True]
    one, two = snapshot_listing(tmp_path / "one"), snapshot_listing(tmp_path / "two")
    assert one == two
    files = {path: sha for path, kind, _size, sha, _t in two if kind == "f"}
    assert len(files) == n
    for i in (0, 1, n // 2, n - 1):
        data = b"%d" % (i % 700) * (i % 37)
        assert files[b"src/d%02d/f%05d" % (i // 100, i)] == hashlib.sha256(data).hexdigest()


def test_workers_end_when_the_scan_is_killed(tmp_path: Path):
    """kill -9 of the scan leaves no process behind (their queue would keep them waiting)."""
    script = (
        "import os, sys, time\n"
        "from odarchive.scan.hashworkers import INLINE_BATCHES, HashWorkers\n"
        "from tests.integration.test_scan_hash_workers import pid_and_job\n"
        "w = HashWorkers(pid_and_job, lambda k, out: print(out[0], flush=True), 1, print)\n"
        "for job in range(INLINE_BATCHES + 1): w.submit(job, job)\n"
        "w.flush()\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        pids = [int(proc.stdout.readline()) for _ in range(INLINE_BATCHES + 1)]
    finally:
        proc.kill()
        proc.wait()
    worker = pids[-1]
    assert worker != proc.pid
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and _not_zombie(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{worker}").exists() or not _not_zombie(worker), "the worker outlived the scan"


def _not_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
