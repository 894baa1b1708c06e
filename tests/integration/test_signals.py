#!/usr/bin/env python3
"""SIGTERM, SIGINT and SIGUSR1 stop a run cleanly: exit 75, one line on stderr that names the
signal and says --resume, and an OUT.partial that --resume finishes into the clean run's file.
Under mpiexec with 2 ranks, SIGUSR1 sent to mpiexec (which forwards it to the ranks) does the
same.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crashlib as cl  # noqa: E402

ARGS = ["-n", "1600", "--width", "256", "--height", "192", "--storage", "jpeg", "--seed", "5"]
SIGNAL_AFTER_PLAN_S = 1.0

cl.binary()
WORK = cl.tmp_dir("signals")
_clean = []


def clean_hashes():
    if not _clean:
        path = os.path.join(WORK, "clean.h5")
        cl.run_ok(cl.generate_cmd(path, ARGS + ["--quiet"]))
        _clean.extend(cl.image_hashes(path))
    return _clean


def stop_and_resume(sig, ranks=0):
    name = signal.Signals(sig).name
    want = clean_hashes()
    out = os.path.join(WORK, f"{name.lower()}-{ranks}.h5")
    p = cl.Started(cl.generate_cmd(out, ARGS, ranks=ranks))
    # [plan] comes after every rank installed its handlers; before that a signal kills.
    if not p.wait_for_output("[plan]", 120):
        raise cl.Failure("no [plan] line: " + p.finish().describe())
    time.sleep(SIGNAL_AFTER_PLAN_S)
    if not p.running():
        raise cl.Failure(f"the run ended before {name} was sent: " + p.finish().describe())
    p.send(sig)
    r = p.finish(timeout=120)
    cl.check(r.rc == cl.EXIT_INTERRUPTED, f"{name}: expected exit 75: " + r.describe())
    lines = [line for line in r.err.splitlines() if name in line]
    cl.check(len(lines) == 1, f"{name}: expected one stderr line naming it, got {lines}")
    cl.check("--resume" in lines[0], f"{name}: the message does not say --resume: {lines[0]}")
    cl.check(cl.partial(out) in lines[0] or os.path.basename(cl.partial(out)) in lines[0],
             f"{name}: the message does not name '{cl.partial(out)}': {lines[0]}")
    if not ranks:
        others = [line for line in r.err.splitlines() if line.strip() and name not in line]
        cl.check(not others, f"{name}: more on stderr than the one message: {others}")
    cl.check(not os.path.exists(out), f"{name}: '{out}' exists after the interrupt")
    s = cl.state(cl.partial(out))
    cl.check(s["complete"] == 0, f"{name}: the interrupted file says complete = 1")
    print(f"  {name}{' under mpiexec' if ranks else ''}: exit 75 after {r.seconds:.1f} s, "
          f"{s['done']}/{s['num_images']} images done", flush=True)
    cl.run_ok(cl.generate_cmd(out, ARGS + ["--quiet"], ranks=ranks, resume=True))
    cl.compare_hashes(cl.image_hashes(out), want, f"resumed after {name}")
    os.remove(out)


def test_sigterm():
    stop_and_resume(signal.SIGTERM)


def test_sigint():
    stop_and_resume(signal.SIGINT)


def test_sigusr1():
    stop_and_resume(signal.SIGUSR1)


def test_sigusr1_to_mpiexec_with_two_ranks():
    if cl.mpiexec() is None:
        raise cl.Failure("CARDSYNTH_MPIEXEC is not set or not found")
    stop_and_resume(signal.SIGUSR1, ranks=2)


if __name__ == "__main__":
    cl.run_tests([test_sigterm, test_sigint, test_sigusr1, test_sigusr1_to_mpiexec_with_two_ranks],
                 workdir=WORK)
