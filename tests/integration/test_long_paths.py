#!/usr/bin/python3
"""Long output paths work, with 1 and 2 ranks, through creation, --resume and the final rename.

Open MPI's MPI-IO formats "<path>.locktest.<rank>" into a 256-byte buffer when it opens a file,
so any output of 233 bytes or more (OUT.partial.new is 12 more) used to abort the run ("buffer
overflow detected", exit 134). Paths here go up to 4,000 bytes in directories of 255-byte names,
and file names of 255 bytes (whose OUT.partial would not fit the file system: the run's own files
get a short name in the same directory). Every file must equal, image by image, one made under a
short name. A path over the system's limits is refused with one line and exit 2, before anything
is written.
"""
import glob
import os
import signal
import subprocess
import time

from cslib import (binary, check, check_same, generate, mpiexec, run, run_tests, scratch,
                   validate)

NAME_MAX = 255
PATH_MAX = 4095  # bytes, without the terminating NUL
BASE = ["--width", "160", "--height", "120", "--min-cards", "1", "--max-cards", "3", "--seed", "5",
        "--threads", "1"]
ARGS = ["-n", "6"] + BASE
_baseline = []


def baseline():
    if not _baseline:
        out = os.path.join(scratch("baseline"), "short.h5")
        generate(out, *ARGS)
        _baseline.append(out)
    return _baseline[0]


def long_path(base, total, name_len=NAME_MAX):
    """A path of exactly `total` bytes under `base`, made of directories with 255-byte names (the
    last one shorter) and a file name of `name_len` bytes ending in .h5; makes the directories."""
    d = base
    i = 0
    # Room for one more full directory, and for a last one of at least one byte.
    while len(d) + (1 + NAME_MAX) + 2 + 1 + name_len <= total:
        d = os.path.join(d, chr(ord("a") + i % 26) * NAME_MAX)
        i += 1
    last = total - len(d) - 1 - 1 - name_len
    if last > 0:
        d = os.path.join(d, "z" * last)
    else:
        name_len = total - len(d) - 1
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "n" * (name_len - 3) + ".h5")
    check(len(path) == total, f"test bug: path of {len(path)} bytes, not {total}")
    return path


def check_alone(out):
    """OUT is the only file left in its directory: no .partial, .partial.new or .lock."""
    left = sorted(set(os.listdir(os.path.dirname(out))) - {os.path.basename(out)})
    left = [n for n in left if os.path.isfile(os.path.join(os.path.dirname(out), n))]
    check(not left, f"files left beside '{out[-40:]}': {[n[-40:] for n in left]}")


def make_and_compare(out, ranks):
    generate(out, *ARGS, ranks=ranks)
    check(os.path.isfile(out), f"no output at the {len(out)}-byte path")
    check_alone(out)
    validate(out)
    check_same(baseline(), out)


def test_paths_around_the_old_abort_2_ranks():
    # 232 bytes was the longest that worked; 233 to 243 aborted inside MPI_File_open.
    d = scratch("around")
    for total in (233, 240, 250):
        make_and_compare(long_path(d, total, name_len=20), ranks=2)


def test_255_byte_file_name_1_rank():
    d = scratch("name255")
    make_and_compare(long_path(d, len(d) + 1 + NAME_MAX), ranks=None)


def test_4000_byte_path_1_and_2_ranks():
    for ranks in (None, 2):
        d = scratch(f"path4000_np{ranks or 1}")
        make_and_compare(long_path(d, 4000), ranks=ranks)


def test_resume_at_a_4000_byte_path_2_ranks():
    d = scratch("resume")
    out = long_path(d, 4000)
    # Enough images that the other rank is still making them when the signal comes 2 s in (it
    # makes about 300 a second on an idle machine): with 40 it finished them all first, and the
    # run completed instead of stopping.
    images = "3000"
    cmd = mpiexec() + ["-n", "2", binary(), "generate", "-o", out, "-n", images, *BASE]
    env = dict(os.environ, CARDSYNTH_TEST_SLOW_RANK="0:40")
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if "[plan]" in line:
            break
    time.sleep(2.0)
    check(p.poll() is None, "the run ended before it could be stopped: " + "".join(lines)[-800:])
    p.send_signal(signal.SIGUSR1)  # mpiexec passes it on to the ranks
    rest, _ = p.communicate(timeout=120)
    text = "".join(lines) + rest
    check(p.returncode == 75, f"expected exit 75 after SIGUSR1, got {p.returncode}: {text[-800:]}")
    partials = glob.glob(os.path.join(glob.escape(os.path.dirname(out)), "*.partial"))
    check(len(partials) == 1 and not os.path.exists(out),
          f"after the interrupt: partial files {[p[-40:] for p in partials]}, "
          f"OUT exists: {os.path.exists(out)}")
    check(len(os.path.basename(partials[0])) <= NAME_MAX, "the partial's name is too long")
    check(os.path.basename(partials[0]) in text, "the stop message does not name the partial file")
    r = run(["generate", "-o", out, "-n", images, *BASE, "--resume", "--quiet"], ranks=2)
    check(r.rc == 0, "--resume failed: " + r.describe())
    check(os.path.isfile(out), "no output after --resume")
    check_alone(out)
    full = os.path.join(scratch("resume_clean"), "clean.h5")
    generate(full, "-n", images, *BASE)
    check_same(full, out)


def expect_refused(out, words):
    r = run(["generate", "-o", out, *ARGS, "--quiet"])
    errors = r.error_lines()
    check(r.rc == 2 and len(errors) == 1, f"expected exit 2 and one error line: {r.describe()}")
    for w in words:
        check(w in errors[0], f"the error does not say '{w}': {errors[0][:300]}")
    check("Aborted" not in r.output and "overflow" not in r.output, r.describe())


def test_paths_over_the_limits_are_refused():
    d = scratch("over")
    # The path itself over PATH_MAX (its last directory is not made: nothing can make it).
    over = os.path.dirname(long_path(d, 3900))
    over = os.path.join(over, "y" * 250, "n" * 250 + ".h5")
    check(len(over) > PATH_MAX, "test bug: path not over PATH_MAX")
    expect_refused(over, ["PATH_MAX", str(PATH_MAX)])
    # A path that fits, but not with the run's ".partial.new" after it.
    near = long_path(d, PATH_MAX - 5, name_len=20)
    expect_refused(near, ["PATH_MAX"])
    check(not os.listdir(os.path.dirname(near)), "files were made for a refused path")
    # A file name over NAME_MAX.
    expect_refused(os.path.join(d, "n" * (NAME_MAX + 1)), ["NAME_MAX", str(NAME_MAX + 1)])


if __name__ == "__main__":
    run_tests([test_paths_around_the_old_abort_2_ranks, test_255_byte_file_name_1_rank,
               test_4000_byte_path_1_and_2_ranks, test_resume_at_a_4000_byte_path_2_ranks,
               test_paths_over_the_limits_are_refused])
