#!/usr/bin/python3
"""The same seed and flags give the same dataset, image by image and label by label, whatever
the number of MPI ranks (1 to 4) and threads per rank: image i is a pure function of
(configuration, cards, seed, i). 23 images, not a multiple of any rank count, so that ranks
get uneven ranges. Runs under CARDSYNTH_MPIEXEC (with --oversubscribe: 4 ranks on 2 cores).
"""
import os
import re

from cslib import (SMALL, check, check_same, generate, mpiexec, run_tests, scratch, validate)

N = 23
COMMON = ["-n", str(N), "--seed", "3", "--min-cards", "3", "--max-cards", "10", *SMALL]


def summary_rows(stdout):
    """rank -> images, from the per-rank rows of the [summary] table."""
    rows = {}
    for line in stdout.splitlines():
        m = re.match(r"\[summary\]\s+(\d+)\s+\S+\s+(\d+)\s", line)
        if m:
            rows[int(m.group(1))] = int(m.group(2))
    return rows


def make(d, name, ranks, threads, *extra):
    out = os.path.join(d, f"{name}_np{ranks}_t{threads}.h5")
    r = generate(out, *COMMON, "--threads", str(threads), *extra, ranks=ranks)
    check(os.path.isfile(out) and not os.path.exists(out + ".partial"),
          f"{out}: no file, or its .partial left behind")
    rows = summary_rows(r.stdout)
    check(sorted(rows) == list(range(ranks)),
          f"{ranks} ranks but summary rows for ranks {sorted(rows)}: " + r.describe())
    check(sum(rows.values()) == N, f"summary rows add up to {sum(rows.values())}, not {N}")
    plan = [l for l in r.stdout.splitlines() if l.startswith("[plan]")]
    check(len(plan) == 1 and f"{ranks} rank(s)" in plan[0], f"[plan] line is {plan}")
    check(f"threads per rank: {','.join([str(threads)] * ranks)}" in r.stdout,
          f"threads per rank not {threads} on every rank: " + r.describe())
    return out, rows


def check_ranks(storage, rank_counts, *extra):
    d = scratch(storage)
    base, _ = make(d, storage, 1, 1, "--storage", storage, *extra)
    validate(base)
    for ranks in rank_counts:
        out, _ = make(d, storage, ranks, 1, "--storage", storage, *extra)
        validate(out)
        check_same(base, out)


def test_jpeg_1_to_4_ranks():
    check_ranks("jpeg", (2, 3, 4))


def test_png_with_masks_3_ranks():
    check_ranks("png", (3,), "--masks")


def test_raw_2_ranks():
    check_ranks("raw", (2,))


def test_2_ranks_2_threads():
    d = scratch("threads")
    base, _ = make(d, "jpeg", 1, 1, "--storage", "jpeg")
    out, _ = make(d, "jpeg", 2, 2, "--storage", "jpeg")
    validate(out)
    check_same(base, out)


def test_large_frames_uneven_split():
    # At 2560x1440 a rank's first-round share is about 10 images, so 23 images over 3 ranks
    # really are split (10, 10, 3): every rank renders and writes its own uneven range.
    d = scratch("large")
    big = ["--width", "2560", "--height", "1440", "--storage", "jpeg"]
    base = os.path.join(d, "np1.h5")
    generate(base, "-n", str(N), "--seed", "4", "--min-cards", "3", "--max-cards", "8",
             "--threads", "1", *big)
    out = os.path.join(d, "np3.h5")
    r = generate(out, "-n", str(N), "--seed", "4", "--min-cards", "3", "--max-cards", "8",
                 "--threads", "1", *big, ranks=3)
    rows = summary_rows(r.stdout)
    check(sum(rows.values()) == N, f"summary rows {rows} do not add up to {N}")
    check(sum(1 for n in rows.values() if n > 0) >= 2,
          f"images per rank {rows}: the ranks did not share the work")
    validate(out)
    check_same(base, out)


def test_work_is_shared_among_ranks():
    # 4 ranks on a small job: every rank gets a share, not rank 0 all of it.
    d = scratch("share")
    _, rows = make(d, "share", 4, 1, "--storage", "jpeg")
    busy = [r for r, n in rows.items() if n > 0]
    check(len(busy) >= 2, f"images per rank {rows}: only rank(s) {busy} made any")


if __name__ == "__main__":
    mpiexec()
    run_tests([
        test_jpeg_1_to_4_ranks,
        test_png_with_masks_3_ranks,
        test_raw_2_ranks,
        test_2_ranks_2_threads,
        test_large_frames_uneven_split,
        test_work_is_shared_among_ranks,
    ], expected_failures={
        "test_work_is_shared_among_ranks":
            "known bug: the coordinator's first round gives a rank its declared capacity "
            "(src/coordinator.cpp next_round), so a small job all goes to rank 0",
    })
