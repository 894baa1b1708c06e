#!/usr/bin/python3
"""Bounds on what a user can ask for: each request beyond them is refused at once with exit 2 and
one error line naming the key or file, or capped with a warning, never a hang, a crash or memory
running out. Cards too small to draw, thread counts far beyond the cores (--threads and
OMP_NUM_THREADS), a frame whose working set exceeds the memory (CARDSYNTH_TEST_MEMORY_BYTES is
the test hook that fakes the memory available), inputs that are not regular files (/dev/zero as
config or popularity table). SIGHUP stops a run like SIGTERM: exit 75 and a resumable file.
"""
import os
import signal
import time

import crashlib as cl
from cslib import SMALL, check, run, run_tests, scratch

QUICK = ["-n", "4", *SMALL, "--quiet"]
REFUSE_WITHIN_S = 20


def expect_refused(name, args, names, env=None):
    """generate with `args` must exit 2 within seconds, with one error line containing each of
    `names`, and leave no output."""
    out = os.path.join(scratch(name), "out.h5")
    t0 = time.monotonic()
    r = run(["generate", "-o", out, "--quiet"] + list(args), env=env, timeout=120)
    seconds = time.monotonic() - t0
    check(r.rc == 2, f"exit {r.rc}, expected 2: " + r.describe())
    check(seconds < REFUSE_WITHIN_S, f"refused only after {seconds:.1f} s")
    errors = r.error_lines()
    check(len(errors) == 1, f"{len(errors)} error lines, expected 1: " + r.describe())
    for n in names:
        check(n in errors[0], f"error line does not name {n!r}: {errors[0]}")
    for p in (out, out + ".partial"):
        check(not os.path.exists(p), f"'{p}' was left behind")
    return errors[0]


def test_tiny_cards_are_refused():
    expect_refused("tiny_cards", ["-n", "4", *SMALL, "--set", "scene.card_height=[0.001,0.001]"],
                   ["scene.card_height", "0.001"])


def expect_capped(name, args, env, value):
    out = os.path.join(scratch(name), "out.h5")
    r = run(["generate", "-o", out] + QUICK + list(args), env=env, timeout=120)
    check(r.rc == 0, "generate failed: " + r.describe())
    warnings = [w for w in r.warning_lines() if value in w]
    check(len(warnings) == 1, f"no warning naming {value}: " + r.describe())
    check("cap" in warnings[0], f"the warning does not give the cap: {warnings[0]}")


def test_threads_flag_far_beyond_the_cores_is_capped():
    expect_capped("threads_flag", ["--threads", "40000"], None, "40000")


def test_omp_num_threads_far_beyond_the_cores_is_capped():
    expect_capped("omp_env", [], {"OMP_NUM_THREADS": "1000000"}, "1000000")


def test_frame_beyond_the_memory_is_refused_before_rendering():
    eight_gib = str(8 << 30)
    why = expect_refused(
        "huge_frame",
        ["-n", "4", "--set", "frame.width=16384", "--set", "frame.height=16384"],
        ["16384x16384", "8 GiB", "frame.width", "threads", "cache_mb"],
        env={"CARDSYNTH_TEST_MEMORY_BYTES": eight_gib})
    check("GiB" in why.split("needs about")[1].split("(")[0], f"no estimate in: {why}")


def test_small_frame_beyond_a_tiny_memory_is_refused():
    expect_refused("tiny_memory", ["-n", "4", *SMALL], ["320x240", "1 MiB"],
                   env={"CARDSYNTH_TEST_MEMORY_BYTES": str(1 << 20)})


def test_dev_zero_config_is_refused():
    expect_refused("zero_config", ["-n", "4", *SMALL, "--config", "/dev/zero"],
                   ["/dev/zero", "config file"])


def test_dev_zero_popularity_is_refused():
    expect_refused("zero_popularity", ["-n", "4", *SMALL, "--popularity", "/dev/zero"],
                   ["/dev/zero", "popularity file"])


SIGNAL_ARGS = ["-n", "1600", "--width", "256", "--height", "192", "--storage", "jpeg",
               "--seed", "5"]


def test_sighup_stops_and_resume_finishes_identically():
    work = scratch("sighup")
    clean = os.path.join(work, "clean.h5")
    cl.run_ok(cl.generate_cmd(clean, SIGNAL_ARGS + ["--quiet"]))
    want = cl.image_hashes(clean)
    out = os.path.join(work, "hup.h5")
    p = cl.Started(cl.generate_cmd(out, SIGNAL_ARGS))
    if not p.wait_for_output("[plan]", 120):
        raise cl.Failure("no [plan] line: " + p.finish().describe())
    time.sleep(1.0)
    if not p.running():
        raise cl.Failure("the run ended before SIGHUP was sent: " + p.finish().describe())
    p.send(signal.SIGHUP)
    r = p.finish(timeout=120)
    check(r.rc == cl.EXIT_INTERRUPTED, "SIGHUP: expected exit 75: " + r.describe())
    lines = [line for line in r.err.splitlines() if "SIGHUP" in line]
    check(len(lines) == 1 and "--resume" in lines[0], f"SIGHUP message: {lines}")
    check(cl.state(cl.partial(out))["complete"] == 0, "the interrupted file says complete = 1")
    cl.run_ok(cl.generate_cmd(out, SIGNAL_ARGS + ["--quiet"], resume=True))
    cl.compare_hashes(cl.image_hashes(out), want, "resumed after SIGHUP")


if __name__ == "__main__":
    run_tests([
        test_tiny_cards_are_refused,
        test_threads_flag_far_beyond_the_cores_is_capped,
        test_omp_num_threads_far_beyond_the_cores_is_capped,
        test_frame_beyond_the_memory_is_refused_before_rendering,
        test_small_frame_beyond_a_tiny_memory_is_refused,
        test_dev_zero_config_is_refused,
        test_dev_zero_popularity_is_refused,
        test_sighup_stops_and_resume_finishes_identically,
    ])
