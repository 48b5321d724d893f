#!/usr/bin/env python3
"""Error correction and scrubbing: odarchive against dvdisaster alone, par2, and the drive's raw rate.

    flock /work/bench.lock .venv/bin/python benchmarks/bench_ecc.py [--mb 256] [--workdir DIR]
    .venv/bin/python benchmarks/bench_ecc.py --sizes                      # overhead per medium

1. ECC build at the default 15% (34 roots), the same image (an odarchive disc image of random
   files) each time: odarchive's path (`odarchive.ecc.tool.augment`: dvdisaster RS03 on one
   thread, the ECC file appended and hashed into the writer's SHA-256 of the file system, as
   `create_iso` does), split into dvdisaster's time and ours; `dvdisaster -mRS03 -o file -x 1`
   alone and with `-x 2` (faster on idle cores, but it races: odarchive.ecc.tool), the SHA-256
   of the whole image read again (what odarchive did before), dvdisaster RS02 alone (the format
   of discs planned before RS03), and par2 (`par2 create -r15 -t<cores>`, Debian `par2`, if
   installed).
2. Repair of the image with 5% of its sectors zeroed at random: odarchive's path
   (`tool.repair`: split, dvdisaster passes, join) against the README's procedure run by
   hand (dd, dvdisaster -f until clean); both must give back the exact image.
3. Scrub: `odarchive.app.scrub.read_back` (reads in a thread + SHA-256) from a simulated drive
   (the image as a stdio: pseudo-drive, through `OpticalDrive.read`; also paced to a real BD
   drive's 72 MB/s) against the drive's sequential rate (the same reads, no hashing) and the
   read-then-hash loop it replaced, page cache dropped before each.
Measures run alternating, best kept. Figures extrapolate to a 25 GB disc.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from odarchive.ecc import formats, tool  # noqa: E402
from odarchive.ecc.setting import roots_for  # noqa: E402
from odarchive.hashing import file_sha256  # noqa: E402
from odarchive.plan.media import MEDIA_SECTORS  # noqa: E402

SECTOR = 2048
GB25 = 25e9


def drop_caches() -> None:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        pass


def best(fn, runs: int = 2) -> float:
    times = []
    for _ in range(runs):
        times.append(fn())
    return min(times)


def sizes() -> None:
    roots = roots_for("15%")
    print(
        f"| medium | sectors | image room at 15% ({roots} roots), RS03 | ECC / image | / medium | RS02 room (before) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for m in ("cd", "dvd", "dvd-dl", "bluray", "bd-dl", "bd-xl", "bd-xx"):
        s = MEDIA_SECTORS[m]
        d = formats.max_data_bytes(s * SECTOR, roots, formats.RS03) // SECTOR
        a = formats.augmented_sectors(formats.RS03, d, roots)
        old = formats.max_data_bytes(s * SECTOR, roots, formats.RS02) // SECTOR
        print(f"| {m} | {s:,} | {d:,} | {100 * (a - d) / d:.1f}% | {100 * (s - d) / s:.1f}% | {old:,} |")


def make_image(work: Path, mb: int) -> Path:
    """An odarchive disc image (ECC off) of about `mb` MiB of random files."""
    src, home = work / "src", work / "home"
    src.mkdir()
    rnd = random.Random(1)
    for i in range(mb // 16):
        (src / f"f{i:04d}.bin").write_bytes(rnd.randbytes(16 << 20))
    env = dict(os.environ, ODARCHIVE_HOME=str(home), ODARCHIVE_ARCHIVE_ECC="off")
    odarchive = str(ROOT / ".venv/bin/odarchive")
    for args in (["create_db", str(src)], ["plan_iso", "bd"], ["create_iso", "0"]):
        subprocess.run([odarchive, *args], check=True, env=env, stdout=subprocess.DEVNULL)
    shutil.rmtree(src)
    return next((home / "isos").glob("*.iso"))


def damage(path: Path, seed: int = 5) -> None:
    n = path.stat().st_size // SECTOR
    with open(path, "r+b") as f:
        for s in random.Random(seed).sample(range(n), n // 20):
            f.seek(s * SECTOR)
            f.write(bytes(SECTOR))


def timed(args: list[str], cwd: Path | None = None) -> float:
    t0 = time.monotonic()
    subprocess.run(args, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def ecc_build(work: Path, image: Path, roots: int) -> tuple[Path, bytes]:
    size = image.stat().st_size
    ours, alone = work / "ours.iso", work / "alone.iso"

    written = hashlib.sha256(image.read_bytes())  # the writer hashes the file system as it writes it
    got: list[bytes] = []

    def ecc_ours() -> float:
        shutil.copyfile(image, ours)
        t0 = time.monotonic()
        digest = written.copy()
        tool.augment(ours, roots, formats.RS03, digest)
        got.append(digest.digest())
        return time.monotonic() - t0

    def ecc_alone(threads: int = tool.ENCODER_THREADS) -> float:
        (work / "alone.ecc").unlink(missing_ok=True)
        args = tool.rs03_encode_args(image, work / "alone.ecc", roots)
        args[args.index("-x") + 1] = str(threads)
        return timed(["dvdisaster", *args])

    def rehash() -> float:
        t0 = time.monotonic()
        file_sha256(ours)
        return time.monotonic() - t0

    def rs02_alone() -> float:
        shutil.copyfile(image, alone)
        return timed(["dvdisaster", *tool.rs02_augment_args(alone, roots)])

    t_alone, t_ours, t_two, t_rehash = [], [], [], []
    for _ in range(2):
        t_alone.append(ecc_alone())
        t_ours.append(ecc_ours())
        t_two.append(ecc_alone(2))
        t_rehash.append(rehash())
    good = file_sha256(ours)
    assert set(got) == {good}, "the hash continued over the ECC is not the image's SHA-256"
    (work / "alone.ecc").unlink()
    ecc_alone()
    assert good == hashlib.sha256(image.read_bytes() + (work / "alone.ecc").read_bytes()).digest(), "RS03 differs"
    rows = [
        ("odarchive (RS03 -x 1, appended, ECC hashed)", min(t_ours)),
        (f"dvdisaster RS03 -x {tool.ENCODER_THREADS} alone", min(t_alone)),
        ("dvdisaster RS03 -x 2 alone (races)", min(t_two)),
        ("SHA-256 of the whole image again (before)", min(t_rehash)),
        ("dvdisaster RS02 alone (before)", rs02_alone()),
    ]
    if shutil.which("par2"):
        for f in work.glob("p*.par2"):
            f.unlink()
        rows.append(
            (
                f"par2 create -r15 -t{tool.threads()}",
                timed(
                    [
                        "par2",
                        "create",
                        "-q",
                        "-r15",
                        f"-t{tool.threads()}",
                        "-s2048000",
                        str(work / "p.par2"),
                        str(image),
                    ]
                ),
            )
        )
    print(f"ECC build, {size / 1e6:.0f} MB image, {roots} roots ({os.cpu_count()} cores, load {os.getloadavg()}):")
    print(f"  odarchive's own part (append + hash the ECC): {min(t_ours) - min(t_alone):.2f} s")
    for name, t in rows:
        print(
            f"  {name}: {t:.1f} s, {size / t / 1e6:.0f} MB/s, per 25 GB disc {GB25 / size * t / 60:.1f} min;"
            f" ratio (its time / odarchive's) {t / min(t_ours):.2f}x"
        )
    return ours, good


def ecc_repair(work: Path, ours: Path, good: bytes, data_bytes: int) -> None:
    broken = work / "broken.iso"
    shutil.copyfile(ours, broken)
    damage(broken)
    aug = ours.stat().st_size

    def repair_ours() -> float:
        shutil.copyfile(broken, ours)
        t0 = time.monotonic()
        result = tool.repair(ours)
        elapsed = time.monotonic() - t0
        assert result.ok and file_sha256(ours) == good, "odarchive's repair did not give the exact image"
        return elapsed

    def repair_by_hand() -> float:
        hand = work / "hand"
        shutil.rmtree(hand, ignore_errors=True)
        hand.mkdir()
        shutil.copyfile(broken, hand / "disc.iso")
        n = data_bytes // SECTOR
        t0 = time.monotonic()
        subprocess.run(
            f"dd if=disc.iso of=disc.ecc bs=2048 skip={n} status=none && truncate -s {data_bytes} disc.iso",
            shell=True,
            check=True,
            cwd=hand,
        )
        fix = (
            f"dvdisaster -i disc.iso -e disc.ecc -x {tool.threads()} -f | tr '\\r' '\\n' | grep -a '^Repaired sectors'"
        )
        for _ in range(4):  # again until a pass repairs nothing more
            done = subprocess.run(
                fix, shell=True, cwd=hand, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            if not done.stdout.strip() or done.stdout.startswith("Repaired sectors: 0 "):
                break
        elapsed = time.monotonic() - t0
        whole = (hand / "disc.iso").read_bytes() + (hand / "disc.ecc").read_bytes()
        assert hashlib.sha256(whole).digest() == good, "the README's procedure did not give the exact image"
        return elapsed

    r_hand, r_ours = repair_by_hand(), repair_ours()
    print(
        f"repair of 5% random sectors: odarchive {r_ours:.1f} s ({aug / r_ours / 1e6:.1f} MB/s), the README's"
        f" procedure by hand {r_hand:.1f} s; ratio {r_hand / r_ours:.2f}x; per 25 GB disc: {GB25 / aug * r_ours / 60:.1f} min"
    )


class PacedDrive:
    """A drive that reads no faster than `rate` bytes/s (a real optical drive: BD 16x is about
    72 MB/s), around the pseudo-drive's reads."""

    def __init__(self, drive: object, rate: float) -> None:
        self.drive, self.rate, self.t0, self.done = drive, rate, 0.0, 0

    def read(self, offset: int, length: int) -> bytes:
        self.t0 = self.t0 or time.monotonic()  # the clock starts with the first read
        data = self.drive.read(offset, length)  # type: ignore[attr-defined]
        self.done += length
        ahead = self.t0 + self.done / self.rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        return data


def scrub(ours: Path, good: bytes) -> None:
    from odarchive.app.scrub import READ_BLOCK, read_back
    from robot_drivers.drives.optical import OpticalDrive

    aug = ours.stat().st_size
    pseudo = OpticalDrive.for_target(f"stdio:{ours}")

    def scrubbed(drive: object) -> float:
        drop_caches()
        t0 = time.monotonic()
        sha, bad, _ = read_back(drive, aug)
        assert sha == good and not bad
        return time.monotonic() - t0

    def serial(drive: object) -> float:  # the read-back before: read a block, then hash it
        drop_caches()
        t0 = time.monotonic()
        digest = hashlib.sha256()
        for offset in range(0, aug, READ_BLOCK):
            digest.update(drive.read(offset, min(READ_BLOCK, aug - offset)))  # type: ignore[attr-defined]
        assert digest.digest() == good
        return time.monotonic() - t0

    def raw(drive: object) -> float:
        drop_caches()
        t0 = time.monotonic()
        for offset in range(0, aug, READ_BLOCK):
            drive.read(offset, min(READ_BLOCK, aug - offset))  # type: ignore[attr-defined]
        return time.monotonic() - t0

    drives = (
        ("pseudo-drive (SSD file)", lambda: pseudo),
        ("paced at 72 MB/s (BD 16x)", lambda: PacedDrive(pseudo, 72e6)),
    )
    for name, make in drives:
        s_raw, s_scrub, s_serial = [], [], []
        for _ in range(2 if "paced" in name else 3):
            s_raw.append(raw(make()))
            s_scrub.append(scrubbed(make()))
            s_serial.append(serial(make()))
        print(
            f"scrub read-back, {name}: {aug / min(s_scrub) / 1e6:.0f} MB/s (read then hash, as before:"
            f" {aug / min(s_serial) / 1e6:.0f} MB/s), the drive's sequential rate {aug / min(s_raw) / 1e6:.0f} MB/s;"
            f" ratio {min(s_raw) / min(s_scrub):.2f}x of the drive's rate (before: {min(s_raw) / min(s_serial):.2f}x)"
        )


def throughput(work: Path, mb: int, repair: bool = True) -> None:
    image = make_image(work, mb)
    roots = roots_for("15%")
    ours, good = ecc_build(work, image, roots)
    if repair:
        ecc_repair(work, ours, good, image.stat().st_size)
    scrub(ours, good)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=512, help="image size in MiB (default 512)")
    ap.add_argument("--workdir", type=Path, help="where to put the images (default a temporary directory)")
    ap.add_argument("--sizes", action="store_true", help="print the ECC overhead per medium and stop")
    ap.add_argument(
        "--no-repair", action="store_true", help="skip the repair measure (minutes: dvdisaster logs every byte)"
    )
    args = ap.parse_args()
    if args.sizes:
        sizes()
        return 0
    if not tool.available():
        print("dvdisaster is not installed (scripts/install)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        throughput(Path(tmp), args.mb, repair=not args.no_repair)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
