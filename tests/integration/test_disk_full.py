#!/usr/bin/env python3
"""A full disk costs a clear error and a --resume, never the data already written.

On a small tmpfs: (a) a run whose estimated size exceeds the free space is refused before
anything is rendered, the message giving both numbers, and no file is left; (b) a run that passes
the estimate but fills the disk while writing (JPEG at quality 100 is larger than the estimate
assumes; should the estimate refuse that, a smaller run and a file that fills the disk once the
run has planned) fails with a clear error naming the file and leaves a readable OUT.partial; that
file
finishes with --resume both after being copied to a bigger place and, in place, after the tmpfs
is remounted bigger, and either way equals a clean run image by image.

Needs root and `mount -t tmpfs`; otherwise it prints why and exits 77.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crashlib as cl  # noqa: E402

SMALL_MB, BIG_MB = 8, 64
# Estimated (3 bits per pixel for JPEG) at about 4.5 MB: passes on 8 MB. Written: about 11 MB.
FILL_ARGS = ["-n", "150", "--width", "320", "--height", "240", "--storage", "jpeg",
             "--jpeg-quality", "100", "--seed", "9"]
# Raw frames are estimated exactly: 1000 x 320 x 240 x 3 bytes is far beyond 8 MB.
# Used when the estimate refuses FILL_ARGS: about 3 MB, and the disk filled from outside.
SMALLER_ARGS = ["-n", "40"] + FILL_ARGS[2:]
TOO_BIG_ARGS = ["-n", "1000", "--width", "320", "--height", "240", "--storage", "raw",
                "--seed", "9"]

if os.geteuid() != 0:
    cl.skip("mounting a small tmpfs needs root")
cl.binary()
WORK = cl.tmp_dir("diskfull")
MNT = os.path.join(WORK, "mnt")
os.makedirs(MNT)


def sh(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True)


mounted = sh("mount", "-t", "tmpfs", "-o", f"size={SMALL_MB}m", "tmpfs", MNT)
if mounted.returncode != 0:
    shutil.rmtree(WORK, ignore_errors=True)
    cl.skip(f"mount -t tmpfs failed: {mounted.stderr.strip()}")

FULL_OUT = os.path.join(MNT, "full.h5")
_failed_run = []


def test_estimate_beyond_free_space_is_refused_before_rendering():
    out = os.path.join(MNT, "too-big.h5")
    r = cl.run(cl.generate_cmd(out, TOO_BIG_ARGS))
    cl.check(r.rc != 0, "a run 30 times larger than the disk was not refused: " + r.describe())
    numbers = re.findall(r"\d+(?:\.\d+)? ?[KMGT]?i?B\b", r.err)
    cl.check("space" in r.err and len(numbers) >= 2,
             f"the refusal does not say 'space' with the needed and free sizes: {r.err.strip()}")
    cl.check("[plan]" not in r.out and "[progress]" not in r.out,
             "the refused run got as far as planning or rendering: " + r.out.strip())
    cl.check(not os.listdir(MNT), f"the refused run left files: {os.listdir(MNT)}")


def fill_after_plan():
    """A smaller run, with the disk filled by someone else once the run has passed its
    estimate: for when the estimate refuses FILL_ARGS up front."""
    p = cl.Started(cl.generate_cmd(FULL_OUT, SMALLER_ARGS))
    if p.wait_for_output("[plan]", 120):
        st = os.statvfs(MNT)
        with open(os.path.join(MNT, "filler"), "wb") as f:
            f.truncate(0)
            left = max(0, st.f_bavail * st.f_frsize - (256 << 10))
            f.write(b"\0" * left)
    return p.finish(timeout=300)


def failed_run():
    if not _failed_run:
        r = cl.run(cl.generate_cmd(FULL_OUT, FILL_ARGS))
        if r.rc != 0 and "[plan]" not in r.out:
            print(f"  refused by the estimate ({r.err.strip()}): filling the disk instead",
                  flush=True)
            r = fill_after_plan()
            _failed_run.append(r)
            _failed_run.append(SMALLER_ARGS)
        else:
            _failed_run.append(r)
            _failed_run.append(FILL_ARGS)
        print(f"  the filling run: exit {r.rc} after {r.seconds:.1f} s; stderr: {r.err.strip()}",
              flush=True)
    return _failed_run[0]


def failed_args():
    failed_run()
    return _failed_run[1]


def test_disk_filling_mid_run_fails_with_a_partial_file():
    r = failed_run()
    cl.check("[plan]" in r.out, "the run did not pass the estimate: " + r.describe())
    cl.check(r.rc == cl.EXIT_FAILURE, "expected exit 1 when the disk fills: " + r.describe())
    lines = [line for line in r.err.splitlines() if line.strip()]
    cl.check(len(lines) == 1 and lines[0].startswith("cardsynth: error:"),
             f"expected one 'cardsynth: error:' line on stderr: {lines}")
    cl.check(cl.partial(FULL_OUT) in lines[0], f"the error does not name the file: {lines[0]}")
    cl.check(not os.path.exists(FULL_OUT), "the failed run left a complete-looking OUT")
    cl.check(os.path.exists(cl.partial(FULL_OUT)), "the failed run left no OUT.partial")
    s = cl.state(cl.partial(FULL_OUT))
    cl.check(s["complete"] == 0, "the failed run's file says complete = 1")


def test_disk_full_error_says_the_disk_is_full():
    r = failed_run()
    cl.check(re.search(r"space|disk full|ENOSPC", r.err, re.I) is not None,
             f"the error does not say the disk is full: {r.err.strip()}")


_clean = []


def clean_hashes():
    if not _clean:
        path = os.path.join(WORK, "clean.h5")
        cl.run_ok(cl.generate_cmd(path, failed_args() + ["--quiet"]))
        _clean.extend(cl.image_hashes(path))
        os.remove(path)
    return _clean


def test_resume_after_copying_to_a_bigger_place():
    failed_run()
    if not os.path.exists(cl.partial(FULL_OUT)):
        raise cl.Failure("no partial file from the filling run")
    moved = os.path.join(WORK, "moved.h5")
    shutil.copyfile(cl.partial(FULL_OUT), cl.partial(moved))
    cl.run_ok(cl.generate_cmd(moved, failed_args() + ["--quiet"], resume=True))
    cl.compare_hashes(cl.image_hashes(moved), clean_hashes(), "copied elsewhere and resumed")
    cl.validate(moved)
    os.remove(moved)


def test_resume_in_place_after_the_disk_grows():
    failed_run()
    if not os.path.exists(cl.partial(FULL_OUT)):
        raise cl.Failure("no partial file from the filling run")
    if os.path.exists(os.path.join(MNT, "filler")):
        os.remove(os.path.join(MNT, "filler"))
    r = sh("mount", "-o", f"remount,size={BIG_MB}m", MNT)
    cl.check(r.returncode == 0, f"cannot remount the tmpfs bigger: {r.stderr.strip()}")
    cl.run_ok(cl.generate_cmd(FULL_OUT, failed_args() + ["--quiet"], resume=True))
    cl.compare_hashes(cl.image_hashes(FULL_OUT), clean_hashes(), "resumed in place")
    cl.validate(FULL_OUT)


if __name__ == "__main__":
    try:
        cl.run_tests([test_estimate_beyond_free_space_is_refused_before_rendering,
                      test_disk_filling_mid_run_fails_with_a_partial_file,
                      test_disk_full_error_says_the_disk_is_full,
                      test_resume_after_copying_to_a_bigger_place,
                      test_resume_in_place_after_the_disk_grows])
    finally:
        u = sh("umount", MNT)
        if u.returncode != 0:
            print(f"warning: umount {MNT} failed: {u.stderr.strip()}", flush=True)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
