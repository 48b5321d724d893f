#!/usr/bin/env python3
"""Error correction and scrubbing: odarchive against dvdisaster alone and the drive's raw rate.

    .venv/bin/python benchmarks/bench_ecc.py [--mb 256] [--workdir DIR]   # throughput
    .venv/bin/python benchmarks/bench_ecc.py --sizes                      # overhead per medium

1. ECC build: the same image (random data, an odarchive disc image) augmented by
   `odarchive.ecc.post`'s path (dvdisaster RS02 + the SHA-256 to record) and by
   `dvdisaster -c` alone, at the default 15% (34 roots).
2. Repair: the augmented image with 5% of its sectors zeroed at random, repaired by
   `odarchive repair`'s path (dvdisaster -f + the comparison with the recorded hash) and by
   `dvdisaster -f` alone; both must give back the exact image.
3. Scrub: `odarchive.app.scrub.read_back` (4 MiB reads + SHA-256) from a simulated drive (the
   image as a stdio: pseudo-drive, through `OpticalDrive.read`) against the drive's sequential
   rate (the same reads, no hashing), page cache dropped before each.
Each measure runs twice, alternating, best kept. Figures extrapolate to a 25 GB disc.
"""

from __future__ import annotations

import argparse
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

from odarchive.ecc import rs02, tool  # noqa: E402
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
    print(f"| medium | sectors | image room at 15% ({roots} roots) | ECC+CRC+headers / image | / medium |")
    print("|---|---:|---:|---:|---:|")
    for m in ("cd", "dvd", "dvd-dl", "bluray", "bd-dl", "bd-xl", "bd-xx"):
        s = MEDIA_SECTORS[m]
        d = rs02.max_data_bytes(s * SECTOR, roots) // SECTOR
        a = rs02.augmented_sectors(d, roots)
        print(f"| {m} | {s:,} | {d:,} | {100 * (a - d) / d:.1f}% | {100 * (s - d) / s:.1f}% |")


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


def throughput(work: Path, mb: int) -> None:
    from robot_drivers.drives.optical import OpticalDrive

    from odarchive.app.scrub import read_back

    image = make_image(work, mb)
    size = image.stat().st_size
    roots = roots_for("15%")
    ours, alone = work / "ours.iso", work / "alone.iso"

    def ecc_ours() -> float:
        shutil.copyfile(image, ours)
        t0 = time.monotonic()
        tool.augment(ours, roots)
        file_sha256(ours)
        return time.monotonic() - t0

    def ecc_alone() -> float:
        shutil.copyfile(image, alone)
        t0 = time.monotonic()
        subprocess.run(["dvdisaster", "-i", str(alone), "-mRS02", "-n", f"{roots} r", "-c"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - t0

    t_alone = best(ecc_alone)
    t_ours = best(ecc_ours)
    good = file_sha256(ours)
    assert good == file_sha256(alone), "the two augmented images differ"
    print(f"ECC build, {size / 1e6:.0f} MB image, {roots} roots: odarchive {t_ours:.1f} s ({size / t_ours / 1e6:.1f} MB/s),"
          f" dvdisaster alone {t_alone:.1f} s; ratio (dvdisaster time / ours) {t_alone / t_ours:.2f}x;"
          f" per 25 GB disc: {GB25 / size * t_ours / 60:.1f} min")

    broken = work / "broken.iso"
    shutil.copyfile(ours, broken)
    damage(broken)

    def repair_ours() -> float:
        shutil.copyfile(broken, ours)
        t0 = time.monotonic()
        result = tool.repair(ours)
        ok = result.ok and file_sha256(ours) == good
        assert ok, "odarchive's repair did not give the exact image"
        return time.monotonic() - t0

    def repair_alone() -> float:
        shutil.copyfile(broken, alone)
        t0 = time.monotonic()
        subprocess.run(["dvdisaster", "-i", str(alone), "-f"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.monotonic() - t0

    r_alone = best(repair_alone, 1)
    r_ours = best(repair_ours, 1)
    assert file_sha256(alone) == good, "dvdisaster alone did not give the exact image"
    aug = ours.stat().st_size
    print(f"repair of 5% random sectors: odarchive {r_ours:.1f} s ({aug / r_ours / 1e6:.1f} MB/s), dvdisaster alone"
          f" {r_alone:.1f} s; ratio {r_alone / r_ours:.2f}x; per 25 GB disc: {GB25 / aug * r_ours / 60:.1f} min")

    drive = OpticalDrive.for_target(f"stdio:{ours}")

    def scrub() -> float:
        drop_caches()
        t0 = time.monotonic()
        sha, bad, _ = read_back(drive, aug)
        assert sha == good and not bad
        return time.monotonic() - t0

    def raw() -> float:
        drop_caches()
        t0 = time.monotonic()
        offset = 0
        while offset < aug:
            n = min(4 << 20, aug - offset)
            drive.read(offset, n)
            offset += n
        return time.monotonic() - t0

    s_raw, s_scrub = min(raw(), raw()), min(scrub(), scrub())
    print(f"scrub read-back: {aug / s_scrub / 1e6:.0f} MB/s, the drive's sequential rate {aug / s_raw / 1e6:.0f} MB/s;"
          f" ratio {s_raw / s_scrub:.2f}x of the drive's rate")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=256, help="image size in MiB (default 256)")
    ap.add_argument("--workdir", type=Path, help="where to put the images (default a temporary directory)")
    ap.add_argument("--sizes", action="store_true", help="print the ECC overhead per medium and stop")
    args = ap.parse_args()
    if args.sizes:
        sizes()
        return 0
    if not tool.available():
        print("dvdisaster is not installed (scripts/install)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        throughput(Path(tmp), args.mb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
