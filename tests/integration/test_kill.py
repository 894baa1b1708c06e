#!/usr/bin/env python3
"""kill -9 at random moments never costs more than a --resume.

Ten runs are killed at seeded random moments between 0.2 s and the clean run's duration, shared
among three ways to die (the single process, 4; mpiexec's whole process group with 2 ranks, 3;
one of the 2 ranks alone, after which mpiexec must abort the job, 3); scripts/soak-kill does 50. Each is then rerun with --resume until
it completes, and every image (stored bytes, mask, label rows) must equal the clean run's, and
the file must pass scripts/validate_dataset.py. Then a few kills right as OUT.partial appears,
before its first flush: what they leave must resume too.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crashlib as cl  # noqa: E402

KILLS = {"process": 4, "group": 3, "rank": 3}
SEED = 20240601
# Frames large enough that the first (probe) round covers only part of the run, so that kills
# also land after some images are done.
ARGS = ["-n", "60", "--width", "640", "--height", "480", "--storage", "jpeg", "--seed", "11",
        "--quiet"]

cl.binary()
WORK = cl.tmp_dir("kill")
STATS = cl.KillStats()


def loop(mode, seed):
    before = STATS.kills
    cl.kill_loop(mode, KILLS[mode], seed, ARGS, WORK, STATS)
    cl.check(STATS.kills - before == KILLS[mode], f"{STATS.kills - before} of {KILLS[mode]} kills done")


def test_kill_single_process():
    loop("process", SEED)


def test_kill_mpiexec_process_group():
    if cl.mpiexec() is None:
        raise cl.Failure("CARDSYNTH_MPIEXEC is not set or not found")
    loop("group", SEED + 1)


def test_kill_one_rank():
    if cl.mpiexec() is None:
        raise cl.Failure("CARDSYNTH_MPIEXEC is not set or not found")
    loop("rank", SEED + 2)


def test_kill_while_the_file_is_created():
    # The moment between creating OUT.partial and its first flush: a file a kill leaves there
    # must still resume (or not exist).
    clean = os.path.join(WORK, "clean-creation.h5")
    cl.run_ok(cl.generate_cmd(clean, ARGS))
    want = cl.image_hashes(clean)
    for k, after in enumerate((0.0, 0.0, 0.002, 0.005, 0.01)):
        out = os.path.join(WORK, f"creation-{k}.h5")
        left = cl.kill_at_creation(out, ARGS, after)
        cl.compare_hashes(cl.image_hashes(out), want,
                          f"killed {after * 1000:.0f} ms after creation")
        print(f"  creation kill {k}: {after * 1000:.0f} ms after OUT.partial appeared left {left}",
              flush=True)
        os.remove(out)
    os.remove(clean)


def test_kills_left_resumable_files():
    # The loops above prove nothing about resuming unless some kills left a partial file.
    print(f"  after {STATS.kills} kills: {STATS.summary()}", flush=True)
    partials = sum(v for k, v in STATS.states.items() if k.startswith("partial"))
    cl.check(partials > 0, f"no kill left a partial file ({STATS.summary()})")


if __name__ == "__main__":
    cl.run_tests([test_kill_single_process, test_kill_mpiexec_process_group, test_kill_one_rank,
                  test_kill_while_the_file_is_created, test_kills_left_resumable_files],
                 workdir=WORK)
