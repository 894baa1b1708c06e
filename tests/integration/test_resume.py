#!/usr/bin/env python3
"""An interrupted run resumes to the very file an uninterrupted run makes.

A run stopped by SIGTERM exits 75 at a round boundary, leaving OUT.partial (complete = 0, some
images not done) and no OUT; the same command with --resume finishes it, equal image by image
(stored bytes and label rows) to a clean run. --resume with a different num_images or
scene.max_cards is refused (exit 2, naming the key) and leaves OUT.partial as it was; --resume of
a complete OUT does nothing; --resume with no file starts a fresh run. A file whose /done bits
were cleared for some images, their bytes scribbled over, gets exactly those images remade; one
shorter than its superblock records (a run stopped during a flush) is made again whole.
"""
import os
import random
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crashlib as cl  # noqa: E402
from crashlib import h5py, np  # noqa: E402

N = 1200
BASE = ["--width", "320", "--height", "240", "--storage", "raw", "--seed", "7"]
ARGS = ["-n", str(N)] + BASE
JPEG_ARGS = ["-n", "60", "--width", "160", "--height", "120", "--storage", "jpeg", "--masks",
             "--seed", "8", "--quiet"]
# A signal ends the round under way: the run stops once the images started are made and written.
STOP_WITHIN_S = 8.0

cl.binary()
WORK = cl.tmp_dir("resume")
CLEAN = os.path.join(WORK, "clean.h5")
OUT = os.path.join(WORK, "out.h5")
SAVED = os.path.join(WORK, "interrupted.h5.partial")  # a copy of the interrupted file
_clean_hashes = []


def clean_hashes():
    if not _clean_hashes:
        cl.run_ok(cl.generate_cmd(CLEAN, ARGS + ["--quiet"]))
        _clean_hashes.extend(cl.image_hashes(CLEAN))
    return _clean_hashes


def test_sigterm_stops_at_a_round_boundary():
    clean_hashes()
    p = cl.Started(cl.generate_cmd(OUT, ARGS))
    if not p.wait_for_output("[plan]", 120):
        raise cl.Failure("no [plan] line: " + p.finish().describe())
    time.sleep(1.5)
    if not p.running():
        raise cl.Failure("the run ended within 1.5 s of its plan: " + p.finish().describe())
    sent = time.monotonic()
    p.send(signal.SIGTERM)
    r = p.finish(timeout=120)
    stopped_after = time.monotonic() - sent
    cl.check(r.rc == cl.EXIT_INTERRUPTED, "expected exit 75: " + r.describe())
    cl.check(not os.path.exists(OUT), f"'{OUT}' exists after an interrupted run")
    cl.check(os.path.exists(cl.partial(OUT)), f"no '{cl.partial(OUT)}' after the interrupt")
    s = cl.state(cl.partial(OUT))
    shutil.copyfile(cl.partial(OUT), SAVED)
    print(f"  stopped {stopped_after:.1f} s after SIGTERM with {s['done']}/{N} images done",
          flush=True)
    cl.check(s["complete"] == 0, "the interrupted file says complete = 1")
    cl.check(s["done"] < N, f"SIGTERM 1.5 s into a {N}-image run was acted on only after all "
                            f"{N} images were made ({stopped_after:.1f} s later): the first round "
                            "took the whole run")
    cl.check(stopped_after < STOP_WITHIN_S,
             f"the run stopped {stopped_after:.1f} s after SIGTERM, not within {STOP_WITHIN_S} s")


def test_resume_equals_clean_run():
    want = clean_hashes()
    if not os.path.exists(cl.partial(OUT)):
        raise cl.Failure("no interrupted file (test_sigterm_stops_at_a_round_boundary failed)")
    before = cl.state(cl.partial(OUT))
    r = cl.run_ok(cl.generate_cmd(OUT, ARGS, resume=True))
    m = re.search(r"\[plan\] (\d+) images, (\d+) to make", r.out)
    cl.check(m is not None, "no [plan] line in the resumed run: " + r.describe())
    cl.check(int(m.group(2)) == N - before["done"],
             f"--resume planned {m.group(2)} images, but {N - before['done']} were not done")
    cl.check(not os.path.exists(cl.partial(OUT)), "OUT.partial is still there after --resume")
    cl.compare_hashes(cl.image_hashes(OUT), want, "resumed file")
    cl.validate(OUT)


def refused(args, key):
    if not os.path.exists(SAVED):
        raise cl.Failure("no interrupted file (test_sigterm_stops_at_a_round_boundary failed)")
    out = os.path.join(WORK, "mismatch.h5")
    shutil.copyfile(SAVED, cl.partial(out))
    digest = cl.file_sha256(cl.partial(out))
    r = cl.run(cl.generate_cmd(out, args, resume=True))
    cl.check(r.rc == cl.EXIT_USAGE, "expected exit 2: " + r.describe())
    cl.check(f"'{key}'" in r.err, f"the refusal does not name '{key}': {r.err.strip()}")
    cl.check(r.err.strip().count("\n") == 0, f"expected one line on stderr: {r.err!r}")
    cl.check(os.path.exists(cl.partial(out)) and not os.path.exists(out),
             "the refused --resume moved or removed the partial file")
    cl.check(cl.file_sha256(cl.partial(out)) == digest,
             "the refused --resume changed the bytes of the partial file")
    os.remove(cl.partial(out))


def test_resume_with_other_num_images_is_refused():
    refused(["-n", str(N + 10)] + BASE, "num_images")


def test_resume_with_other_max_cards_is_refused():
    refused(ARGS + ["--set", "scene.max_cards=20"], "scene.max_cards")


def test_resume_of_complete_file_does_nothing():
    clean_hashes()
    out = os.path.join(WORK, "complete.h5")
    shutil.copyfile(CLEAN, out)
    digest = cl.file_sha256(out)
    r = cl.run_ok(cl.generate_cmd(out, ARGS, resume=True))
    cl.check("nothing" in r.out.lower(), f"no 'nothing to do' message: {r.out.strip()}")
    cl.check("[plan]" not in r.out, "a complete file was planned again")
    cl.check(cl.file_sha256(out) == digest, "--resume changed a complete file")
    cl.check(not os.path.exists(cl.partial(out)), "--resume of a complete file made OUT.partial")
    os.remove(out)


def test_resume_without_file_starts_fresh():
    want = clean_hashes()
    out = os.path.join(WORK, "fresh.h5")
    r = cl.run_ok(cl.generate_cmd(out, ARGS + ["--quiet"], resume=True))
    cl.check(f"{N} to make" in r.out, f"the fresh run did not plan {N} images: {r.out.strip()}")
    cl.compare_hashes(cl.image_hashes(out), want, "--resume with no file")
    os.remove(out)


def stop_during_a_flush(path, missing):
    """Leaves `path` as a writer stopped during a flush does: its superblock (version 0, 8-byte
    offsets) records an end of file `missing` bytes past the file's length."""
    cl.check(cl.superblock_end(path) is not None,
             f"'{path}' does not start with a version 0 superblock of 8-byte offsets")
    with open(path, "r+b") as f:
        f.seek(cl.SUPERBLOCK_EOF_AT)
        f.write((os.path.getsize(path) + missing).to_bytes(8, "little"))
    try:
        h5py.File(path, "r").close()
        cl.check(False, "the library opened a file shorter than its superblock records")
    except OSError as e:
        cl.check("truncated" in str(e), f"the library refused it for another reason: {e}")


def clear_and_resume(src, args, out, seed, missing=0):
    """Copies a complete file to OUT.partial, marks a random third of its images not done and
    scribbles over their bytes and labels; --resume must remake exactly those images. When
    `missing`, the file is left shorter than its superblock records: which images are whole
    cannot be told, and --resume must make them all again."""
    want = cl.image_hashes(src)
    n = len(want)
    shutil.copyfile(src, cl.partial(out))
    rng = random.Random(seed)
    cleared = sorted(rng.sample(range(n), n // 3))
    with h5py.File(cl.partial(out), "r+") as f:
        f.attrs["complete"] = np.uint8(0)
        done = f["done"][()]
        done[cleared] = 0
        f["done"][...] = done
        for i in cleared:
            if "images" in f:
                f["images"][i] = 255 - f["images"][i]
            else:
                f["images_size"][i] = 3
            if "masks" in f:
                f["masks"][i] = 7
            f["labels/count"][i] = 1
            f["labels/card_id"][i] = 12345
            f["labels/corners"][i] = -1.0
            f["labels/bbox"][i] = -1.0
    if missing:
        stop_during_a_flush(cl.partial(out), missing)
    r = cl.run_ok(cl.generate_cmd(out, args, resume=True))
    to_make = n if missing else len(cleared)
    cl.check(f"{to_make} to make" in r.out,
             f"--resume did not plan {to_make} images: {r.out.strip()}")
    if missing:
        cl.check("starting it again" in r.err, f"no warning that it starts again: {r.err.strip()}")
    cl.compare_hashes(cl.image_hashes(out), want, "file with cleared images, resumed")
    cl.validate(out)
    os.remove(out)


def test_resume_remakes_exactly_the_images_not_done_raw():
    clean_hashes()
    clear_and_resume(CLEAN, ARGS + ["--quiet"], os.path.join(WORK, "cleared.h5"), 1)


def test_resume_remakes_exactly_the_images_not_done_jpeg_masks():
    src = os.path.join(WORK, "clean-jpeg.h5")
    cl.run_ok(cl.generate_cmd(src, JPEG_ARGS))
    clear_and_resume(src, JPEG_ARGS, os.path.join(WORK, "cleared-jpeg.h5"), 2)


def test_resume_of_a_file_stopped_during_a_flush():
    src = os.path.join(WORK, "clean-jpeg.h5")
    if not os.path.exists(src):
        cl.run_ok(cl.generate_cmd(src, JPEG_ARGS))
    clear_and_resume(src, JPEG_ARGS, os.path.join(WORK, "short.h5"), 3, missing=1 << 20)


if __name__ == "__main__":
    cl.run_tests([test_sigterm_stops_at_a_round_boundary, test_resume_equals_clean_run,
                  test_resume_with_other_num_images_is_refused,
                  test_resume_with_other_max_cards_is_refused,
                  test_resume_of_complete_file_does_nothing, test_resume_without_file_starts_fresh,
                  test_resume_remakes_exactly_the_images_not_done_raw,
                  test_resume_remakes_exactly_the_images_not_done_jpeg_masks,
                  test_resume_of_a_file_stopped_during_a_flush], workdir=WORK)
