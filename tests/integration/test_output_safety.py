#!/usr/bin/python3
"""One output, one run, and only its own file: --resume accepts an existing OUT only when it is a
complete cardsynth dataset of the same configuration (a text file, another program's HDF5 or a
dataset of other settings is refused with exit 2, naming it); a run holds OUT.lock, so a second
run on the same -o (with or without --overwrite) is refused naming the first one's host and PID
while the first finishes intact; a lock left by a dead process is replaced with a warning.
"""
import os
import socket
import subprocess
import time

import h5py

from cslib import (SMALL, binary, check, generate, run, run_tests, scratch, validate)

QUICK = ["-n", "4", *SMALL, "--quiet"]


def expect_refusal(args, names):
    r = run(args)
    check(r.rc == 2, f"exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1, f"{len(errors)} error lines, expected 1: " + r.describe())
    for name in names:
        check(name in errors[0], f"error line does not name {name!r}: {errors[0]}")
    return r


def unchanged(path, before):
    with open(path, "rb") as f:
        check(f.read() == before, f"'{path}' was changed")


def test_resume_onto_a_text_file():
    out = os.path.join(scratch("resume_text"), "out.h5")
    with open(out, "w") as f:
        f.write("not a dataset\n")
    expect_refusal(["generate", "-o", out, "--resume"] + QUICK, [out])
    unchanged(out, b"not a dataset\n")


def test_resume_onto_a_foreign_hdf5():
    out = os.path.join(scratch("resume_foreign"), "out.h5")
    with h5py.File(out, "w") as f:
        f["x"] = [1, 2, 3]
        f.attrs["complete"] = 1
    expect_refusal(["generate", "-o", out, "--resume"] + QUICK, [out])


def test_resume_onto_a_dataset_of_another_configuration():
    out = os.path.join(scratch("resume_other"), "out.h5")
    generate(out, *QUICK, "--seed", "1")
    with open(out, "rb") as f:
        before = f.read()
    expect_refusal(["generate", "-o", out, "--resume", "--seed", "2"] + QUICK, [out, "seed"])
    unchanged(out, before)
    r = run(["generate", "-o", out, "--resume", "--seed", "1"] + QUICK)
    check(r.rc == 0 and "already complete" in r.output, "same settings: " + r.describe())


def test_a_second_run_on_one_output_is_refused():
    out = os.path.join(scratch("concurrent"), "out.h5")
    lock = out + ".lock"
    first = subprocess.Popen([binary(), "generate", "-o", out, "-n", "400", *SMALL,
                              "--storage", "raw", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(lock) and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        check(os.path.exists(lock), "no OUT.lock while the first run works")
        for extra in ([], ["--overwrite"]):
            r = expect_refusal(["generate", "-o", out] + QUICK + extra,
                               [out, socket.gethostname(), f"PID {first.pid}"])
            check(first.poll() is None,
                  "the first run ended before the second was tried; make it longer: "
                  + r.describe())
        stdout, stderr = first.communicate(timeout=170)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    check(first.returncode == 0, f"the first run exited {first.returncode}: {stderr[-2000:]}")
    validate(out)
    with h5py.File(out, "r") as f:
        check(int(f.attrs["complete"]) == 1, "complete != 1")
        check(int(f.attrs["num_images"]) == 400, "not the first run's data")
    check(not os.path.exists(lock), "OUT.lock left behind")


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_stale_lock_is_replaced_with_a_warning():
    out = os.path.join(scratch("stale"), "out.h5")
    pid = dead_pid()
    with open(out + ".lock", "w") as f:
        f.write(f"{socket.gethostname()} {pid} 12345\n")
    r = generate(out, *QUICK)
    warnings = [w for w in r.warning_lines() if "stale lock" in w]
    check(len(warnings) == 1 and str(pid) in warnings[0], "no warning naming the stale lock: "
          + r.describe())
    check(not os.path.exists(out + ".lock"), "OUT.lock left behind")
    validate(out)


def test_a_lock_of_another_host_is_refused():
    out = os.path.join(scratch("other_host"), "out.h5")
    with open(out + ".lock", "w") as f:
        f.write("elsewhere.example 4242 999\n")
    expect_refusal(["generate", "-o", out] + QUICK, ["elsewhere.example", "PID 4242",
                                                      "cannot be checked"])
    check(not os.path.exists(out) and not os.path.exists(out + ".partial"), "output made")
    check(os.path.exists(out + ".lock"), "another host's lock was removed")


if __name__ == "__main__":
    run_tests([test_resume_onto_a_text_file, test_resume_onto_a_foreign_hdf5,
               test_resume_onto_a_dataset_of_another_configuration,
               test_a_second_run_on_one_output_is_refused,
               test_a_stale_lock_is_replaced_with_a_warning,
               test_a_lock_of_another_host_is_refused])
