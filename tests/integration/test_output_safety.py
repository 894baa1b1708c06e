#!/usr/bin/python3
"""One output, one run, and only its own file: --resume accepts an existing OUT only when it is a
complete cardsynth dataset of the same configuration (a text file, another program's HDF5 or a
dataset of other settings is refused with exit 2, naming it); a run holds OUT.lock, so a second
run on the same -o (with or without --overwrite) is refused naming the first one's host and PID
while the first finishes intact; a lock left by a dead process is replaced with a warning. An
output that is a device, a FIFO, a directory, a dangling symlink or one of the run's own inputs is
refused before anything is written, even with --overwrite, and left as it was.
"""
import os
import socket
import stat
import subprocess
import time

import h5py

from cslib import (SMALL, binary, check, generate, make_cards, require_pil, run, run_tests,
                   scratch, validate)

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


def test_a_character_device_is_refused():
    expect_refusal(["generate", "-o", "/dev/null", "--overwrite"] + QUICK,
                   ["/dev/null", "character device"])
    check(stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is no longer a character device")


def test_a_fifo_is_refused():
    out = os.path.join(scratch("fifo"), "out.h5")
    os.mkfifo(out)
    expect_refusal(["generate", "-o", out, "--overwrite"] + QUICK, [out, "FIFO"])
    check(stat.S_ISFIFO(os.lstat(out).st_mode), "the FIFO was replaced")


def test_a_dangling_symlink_is_refused():
    d = scratch("dangling")
    out = os.path.join(d, "out.h5")
    os.symlink(os.path.join(d, "missing.h5"), out)
    expect_refusal(["generate", "-o", out, "--overwrite"] + QUICK, [out, "dangling"])
    check(os.path.islink(out) and not os.path.exists(out), "the dangling link was changed")
    check(not os.path.exists(os.path.join(d, "missing.h5")), "the link's target was made")


def test_a_symlink_to_a_regular_file_is_accepted():
    d = scratch("symlink_ok")
    target, out = os.path.join(d, "target.h5"), os.path.join(d, "out.h5")
    with open(target, "w") as f:
        f.write("old\n")
    os.symlink(target, out)
    generate(out, *QUICK, "--overwrite")
    validate(out)


def test_an_input_as_the_output_is_refused():
    require_pil()
    d = scratch("input")
    cards = make_cards(os.path.join(d, "cards"), count=2)
    with open(cards[0], "rb") as f:
        before = f.read()
    expect_refusal(["generate", "-o", cards[0], "--overwrite", "--card-dirs",
                    os.path.join(d, "cards")] + QUICK, [cards[0], "card image"])
    unchanged(cards[0], before)
    table = os.path.join(d, "popularity.csv")
    with open(table, "w") as f:
        f.write("name,rank\ncard0,1\ncard1,2\n")
    expect_refusal(["generate", "-o", table, "--overwrite", "--popularity", table] + QUICK,
                   [table, "popularity table"])
    unchanged(table, b"name,rank\ncard0,1\ncard1,2\n")
    config = os.path.join(d, "run.yaml")
    with open(config, "w") as f:
        f.write("seed: 3\n")
    expect_refusal(["generate", "-o", config, "--overwrite", "--config", config] + QUICK,
                   [config, "configuration file"])
    unchanged(config, b"seed: 3\n")


def test_a_directory_is_refused_at_once():
    out = os.path.join(scratch("directory"), "out.h5")
    os.makedirs(os.path.join(out, "inside"))
    t0 = time.monotonic()
    expect_refusal(["generate", "-o", out, "--overwrite", "-n", "5000", *SMALL, "--quiet"],
                   [out, "directory"])
    elapsed = time.monotonic() - t0
    check(elapsed < 5, f"refused only after {elapsed:.1f} s")
    check(os.path.isdir(os.path.join(out, "inside")), "the directory was changed")


if __name__ == "__main__":
    run_tests([test_resume_onto_a_text_file, test_resume_onto_a_foreign_hdf5,
               test_resume_onto_a_dataset_of_another_configuration,
               test_a_second_run_on_one_output_is_refused,
               test_a_stale_lock_is_replaced_with_a_warning,
               test_a_lock_of_another_host_is_refused, test_a_character_device_is_refused,
               test_a_fifo_is_refused, test_a_dangling_symlink_is_refused,
               test_a_symlink_to_a_regular_file_is_accepted,
               test_an_input_as_the_output_is_refused, test_a_directory_is_refused_at_once])
