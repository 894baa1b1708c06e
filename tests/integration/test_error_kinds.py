#!/usr/bin/python3
"""An error keeps its kind, and so its exit code, wherever it is found: a bad input found on an
OpenMP thread or on the render thread still exits 2 with its one "cardsynth: error:" line, and a
failed MPI call is reported with the operation that failed and a non-zero exit, not ignored.
(test_errors.py covers bad inputs found while the catalog is checked.)
"""
import os
import shlex
import shutil
import signal
import subprocess

from cslib import (SMALL, Result, binary, check, make_card, make_cards, require_pil, run,
                   run_tests, scratch)

QUICK = ["-n", "4", *SMALL, "--quiet"]


def one_error_line(r, code):
    check(r.rc == code, f"exit {r.rc}, expected {code}: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1, f"{len(errors)} 'cardsynth: error:' lines, expected 1: "
          + r.describe())
    return errors[0]


def test_bad_background_found_on_a_worker_thread():
    # Playmats load on OpenMP threads; the first bad file in file order is the one reported.
    require_pil()
    d = scratch("background")
    mats = os.path.join(d, "playmats")
    os.makedirs(mats)
    for name in ("a_good.png", "d_good.png"):
        make_card(os.path.join(mats, name), (30, 90, 40), size=(400, 300))
    first_bad = os.path.join(mats, "b_bad.jpg")
    for path in (first_bad, os.path.join(mats, "c_bad.png")):
        with open(path, "wb") as fh:
            fh.write(b"not an image at all\n")
    r = run(["generate", "-o", os.path.join(d, "out.h5"), *QUICK, "--backgrounds", mats])
    error = one_error_line(r, 2)
    check(first_bad in error, f"the error line does not name {first_bad}: {error}")


def test_card_broken_after_the_check_fails_on_the_render_thread():
    # The catalog checks every card (--strict: any bad one is an error) before the run; a card
    # that breaks afterwards is found when the render thread first decodes it. The process is
    # stopped as soon as it reports its catalog, so the cards break before any is decoded.
    require_pil()
    d = scratch("render_thread")
    cards = make_cards(os.path.join(d, "cards"), 6)
    cmd = [binary(), "generate", "-o", os.path.join(d, "out.h5"), "-n", "200", *SMALL,
           "--strict", "--card-dirs", os.path.join(d, "cards")]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in p.stdout:
            seen.append(line)
            if line.startswith("[catalog]"):
                p.send_signal(signal.SIGSTOP)
                break
        check(seen and seen[-1].startswith("[catalog]"), f"no [catalog] line: {seen}")
        for path in cards:
            with open(path, "wb") as fh:
                fh.write(b"\x89PNG\r\n\x1a\n truncated")
        p.send_signal(signal.SIGCONT)
        stdout, stderr = p.communicate(timeout=170)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = Result(cmd, p.returncode, "".join(seen) + stdout, stderr)
    error = one_error_line(r, 2)
    check(any(f"card '{path}'" in error for path in cards),
          f"the error line names no card file: {error}")


def expect_mpi_failure(operation, ranks=None):
    d = scratch("mpi_failure" + (f"_np{ranks}" if ranks else ""))
    r = run(["generate", "-o", os.path.join(d, "out.h5"), *QUICK], ranks=ranks,
            env={"CARDSYNTH_FAIL_MPI": operation})
    error = one_error_line(r, 1)
    check(operation in error and "failed" in error and "CARDSYNTH_FAIL_MPI" in error,
          f"the error line does not say that {operation} failed: {error}")


def test_failed_mpi_call_is_reported():
    expect_mpi_failure("MPI_Allreduce of the first failing rank")
    expect_mpi_failure("MPI_Allgather")


def test_failed_mpi_call_is_reported_under_mpiexec():
    words = shlex.split(os.environ.get("CARDSYNTH_MPIEXEC", ""))
    if not words or not shutil.which(words[0]):
        print("note: no mpiexec; the MPI failure under mpiexec is skipped")
        return
    expect_mpi_failure("MPI_Allgather", ranks=2)


if __name__ == "__main__":
    run_tests([
        test_bad_background_found_on_a_worker_thread,
        test_card_broken_after_the_check_fails_on_the_render_thread,
        test_failed_mpi_call_is_reported,
        test_failed_mpi_call_is_reported_under_mpiexec,
    ])
