#!/usr/bin/env python3
"""--resume refuses a file whose inputs changed since it was made.

A run over a card directory and a popularity table is interrupted (SIGTERM), leaving
OUT.partial. Then one input at a time is changed: a card's content with the same size and time,
a card's size, a card's modification time alone, a card added, a card removed, the popularity
table. Each --resume must exit 2 with one error line naming the card (the first that changed) or
the table, and leave OUT.partial as it was. With every input as it was, --resume finishes the
file to the very bytes of an uninterrupted run; the same holds for an existing complete OUT
(refused after a change, "already complete" without one), and a file made before inputs were
recorded is still compared by its list of cards.
"""
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crashlib as cl  # noqa: E402
from crashlib import h5py  # noqa: E402

N = 1500
cl.binary()
WORK = cl.tmp_dir("resume-inputs")
PRISTINE = os.path.join(WORK, "pristine")  # the inputs as the run read them
CARDS = os.path.join(WORK, "cards")
TABLE = os.path.join(WORK, "popularity.csv")
OUT = os.path.join(WORK, "out.h5")
CLEAN = os.path.join(WORK, "clean.h5")
SAVED = os.path.join(WORK, "interrupted.h5.partial")
ARGS = ["-n", str(N), "--width", "160", "--height", "120", "--storage", "jpeg", "--seed", "5",
        "--card-dirs", CARDS, "--popularity", TABLE, "--use-popularity-weights"]
CARD_SIZE = (60, 84)


def write_card(path, color, size=CARD_SIZE):
    """An uncompressed PNG: its byte size depends on its dimensions only, so a card can get
    other pixels and keep its size."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle([4, 4, size[0] - 5, 20], fill=(255 - color[0], 90, 40))
    image.save(path, format="PNG", compress_level=0)


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_inputs():
    os.makedirs(os.path.join(PRISTINE, "cards"))
    for i in range(5):
        write_card(os.path.join(PRISTINE, "cards", f"card{i}.png"), (40 * i + 20, 150, 200 - i))
    write_text(os.path.join(PRISTINE, "popularity.csv"),
               "name,rank\n" + "".join(f"card{i},{i + 1}\n" for i in range(5)))
    restore_inputs()


def restore_inputs():
    """The inputs exactly as the run read them: the same bytes and modification times."""
    shutil.rmtree(CARDS, ignore_errors=True)
    shutil.copytree(os.path.join(PRISTINE, "cards"), CARDS)  # copy2: times to the nanosecond
    shutil.copy2(os.path.join(PRISTINE, "popularity.csv"), TABLE)


def card(i):
    return os.path.join(CARDS, f"card{i}.png")


def keep_time(path, change):
    """Runs `change` on `path`, then gives the file its old modification time back."""
    st = os.stat(path)
    change()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def resume_refused(expected, not_expected=None):
    """--resume of the interrupted file must exit 2 with one error line holding every string of
    `expected` (and none of `not_expected`), and leave OUT.partial byte for byte as it was."""
    shutil.copyfile(SAVED, cl.partial(OUT))
    digest = cl.file_sha256(cl.partial(OUT))
    try:
        r = cl.run(cl.generate_cmd(OUT, ARGS + ["--quiet"], resume=True))
        errors = [l for l in r.err.splitlines() if l.startswith("cardsynth: error:")]
        cl.check(r.rc == cl.EXIT_USAGE, "expected exit 2: " + r.describe())
        cl.check(len(errors) == 1, f"expected one error line, got {errors}")
        for text in expected:
            cl.check(text in errors[0], f"the error does not say {text!r}: {errors[0]}")
        for text in not_expected or []:
            cl.check(text not in errors[0], f"the error names {text!r}: {errors[0]}")
        cl.check(not os.path.exists(OUT), "a refused --resume made OUT")
        cl.check(cl.file_sha256(cl.partial(OUT)) == digest,
                 "a refused --resume changed the bytes of OUT.partial")
    finally:  # the next test starts from the inputs of the interrupted run, and no output
        for path in (OUT, cl.partial(OUT)):
            if os.path.exists(path):
                os.remove(path)
        restore_inputs()


def test_interrupted_run_leaves_a_partial_file():
    make_inputs()
    p = cl.Started(cl.generate_cmd(OUT, ARGS))
    if not p.wait_for_output("[plan]", 120):
        raise cl.Failure("no [plan] line: " + p.finish().describe())
    time.sleep(0.3)
    p.send(signal.SIGTERM)
    r = p.finish(timeout=120)
    cl.check(r.rc == cl.EXIT_INTERRUPTED, "expected exit 75 after SIGTERM: " + r.describe())
    s = cl.state(cl.partial(OUT))
    cl.check(s["complete"] == 0 and 0 < s["done"] < N,
             f"the interrupted file has {s['done']} of {N} images done, complete {s['complete']}")
    shutil.move(cl.partial(OUT), SAVED)


def test_card_with_other_content_of_the_same_size_and_time_is_refused():
    before = os.path.getsize(card(1))
    keep_time(card(1), lambda: write_card(card(1), (250, 10, 10)))
    cl.check(os.path.getsize(card(1)) == before, "the rewritten card changed size")
    # A later card changed too: the error names the first.
    os.utime(card(3), ns=(0, os.stat(card(3)).st_mtime_ns + 10**9))
    resume_refused([card(1), "changed content"], [card(3)])


def test_card_of_another_size_is_refused():
    write_card(card(2), (10, 10, 10), size=(CARD_SIZE[0] + 2, CARD_SIZE[1]))
    resume_refused([card(2), "changed size"])


def test_card_touched_is_refused():
    st = os.stat(card(4))
    os.utime(card(4), ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    resume_refused([card(4), "changed modification time"])


def test_card_added_is_refused():
    write_card(os.path.join(CARDS, "card2b.png"), (1, 2, 3))
    resume_refused([os.path.join(CARDS, "card2b.png"), "was added"])


def test_card_removed_is_refused():
    os.remove(card(3))
    resume_refused([card(3), "was removed"])


def test_popularity_table_changed_is_refused():
    # The same size: only the hash can tell.
    keep_time(TABLE, lambda: write_text(
        TABLE, "name,rank\n" + "".join(f"card{i},{5 - i}\n" for i in range(5))))
    resume_refused(["popularity table", TABLE, "changed content"])


def test_unchanged_inputs_resume_to_the_clean_bytes():
    cl.run_ok(cl.generate_cmd(CLEAN, ARGS + ["--quiet"]))
    shutil.copyfile(SAVED, cl.partial(OUT))
    cl.run_ok(cl.generate_cmd(OUT, ARGS + ["--quiet"], resume=True))
    cl.compare_hashes(cl.image_hashes(OUT), cl.image_hashes(CLEAN), "resumed with the same inputs")
    cl.validate(OUT)


def test_complete_output_with_a_changed_card_is_refused():
    cl.check(os.path.exists(OUT), "no complete OUT (the previous test failed)")
    digest = cl.file_sha256(OUT)
    keep_time(card(0), lambda: write_card(card(0), (0, 0, 0)))
    try:
        r = cl.run(cl.generate_cmd(OUT, ARGS + ["--quiet"], resume=True))
    finally:
        restore_inputs()
    cl.check(r.rc == cl.EXIT_USAGE and card(0) in r.err and "changed content" in r.err,
             "expected exit 2 naming the changed card: " + r.describe())
    cl.check(cl.file_sha256(OUT) == digest, "a refused --resume changed OUT")
    r = cl.run_ok(cl.generate_cmd(OUT, ARGS, resume=True))
    cl.check("already complete" in r.out, "--resume of the complete OUT: " + r.describe())


def test_file_without_an_input_record_is_compared_by_its_cards():
    """A file made before inputs were recorded: its list of cards is all there is to compare."""
    old = os.path.join(WORK, "old.h5")
    shutil.copyfile(SAVED, cl.partial(old))
    with h5py.File(cl.partial(old), "r+") as f:
        for name in ("cards/file_size", "cards/file_mtime_ns", "cards/file_hash",
                     "cards/name_bytes", "cards/source_bytes", "popularity"):
            if name in f:
                del f[name]
    os.remove(card(3))
    try:
        r = cl.run(cl.generate_cmd(old, ARGS + ["--quiet"], resume=True))
    finally:
        restore_inputs()
    cl.check(r.rc == cl.EXIT_USAGE and card(3) in r.err and "was removed" in r.err,
             "expected exit 2 naming the removed card: " + r.describe())
    r = cl.run_ok(cl.generate_cmd(old, ARGS + ["--quiet"], resume=True))
    cl.check("only its list of cards was compared" in r.err,
             "no warning that the inputs were not all compared: " + r.describe())
    cl.compare_hashes(cl.image_hashes(old), cl.image_hashes(CLEAN), "an old file resumed")


if __name__ == "__main__":
    cl.run_tests([test_interrupted_run_leaves_a_partial_file,
                  test_card_with_other_content_of_the_same_size_and_time_is_refused,
                  test_card_of_another_size_is_refused, test_card_touched_is_refused,
                  test_card_added_is_refused, test_card_removed_is_refused,
                  test_popularity_table_changed_is_refused,
                  test_unchanged_inputs_resume_to_the_clean_bytes,
                  test_complete_output_with_a_changed_card_is_refused,
                  test_file_without_an_input_record_is_compared_by_its_cards], workdir=WORK)
