#!/usr/bin/python3
"""`cardsynth generate` end to end in one process: every storage makes a file that meets the
cardsynth/1 contract, `inspect` and `preview` read it, the output is a pure function of the
configuration and seed (not of the thread count, not of the run), and the printed [system],
[threads] and [weights] lines say what the process found.
"""
import os
import re
import shutil

import h5py

from cslib import (SMALL, SOURCE_DIR, TestFailure, attrs, check, check_same, dataset_differences, generate,
                   image_hashes, labels, run, run_tests, scratch, validate)


def made_file(out):
    check(os.path.isfile(out), f"'{out}' was not written")
    check(not os.path.exists(out + ".partial"), f"'{out}.partial' was left behind")


def check_storage(storage, *extra):
    d = scratch("storage_" + storage)
    out = os.path.join(d, f"{storage}.h5")
    r = generate(out, "-n", "8", "--storage", storage, *SMALL, *extra)
    made_file(out)
    validate(out)
    a = attrs(out)
    check(a["storage"] == storage, f"storage attribute is {a['storage']!r}, not {storage!r}")
    check(int(a["num_images"]) == 8 and int(a["width"]) == 320 and int(a["height"]) == 240,
          f"wrong size attributes: {a}")
    check(f"[done] 8 images in '{out}'" in r.stdout, "no [done] line: " + r.describe())
    with h5py.File(out, "r") as f:
        check(("masks" in f) == ("--masks" in extra), "/masks presence does not match --masks")
        if "masks" in f:
            check(f["masks"][()].max() > 0, "/masks is all background")
        check(int(f["labels/count"][()].min()) >= 8, "an image has fewer than min_cards 8 cards")

    ins = run(["inspect", out])
    check(ins.rc == 0, ins.describe())
    check(re.search(r"complete = 1", ins.stdout), "inspect does not say complete = 1:\n" + ins.stdout)
    check("cardsynth/1" in ins.stdout, "inspect does not print the schema:\n" + ins.stdout)
    check(storage in ins.stdout, "inspect does not print the storage:\n" + ins.stdout)

    sheet = os.path.join(d, "sheet.png")
    pre = run(["preview", out, "--out", sheet, "--count", "4"])
    check(pre.rc == 0, pre.describe())
    check(os.path.isfile(sheet) and os.path.getsize(sheet) > 0, f"no preview written to {sheet}")
    with open(sheet, "rb") as fh:
        check(fh.read(8) == b"\x89PNG\r\n\x1a\n", "the preview is not a PNG file")


def test_storage_raw():
    check_storage("raw")


def test_storage_jpeg():
    check_storage("jpeg")


def test_storage_png_with_masks():
    check_storage("png", "--masks")


def test_threads_do_not_change_output():
    d = scratch("threads")
    one, two = os.path.join(d, "t1.h5"), os.path.join(d, "t2.h5")
    common = ["-n", "8", "--seed", "5", "--storage", "jpeg", "--masks", *SMALL]
    r1 = generate(one, "--threads", "1", *common)
    r2 = generate(two, "--threads", "2", *common)
    check("threads per rank: 1" in r1.stdout, "--threads 1 not reported: " + r1.describe())
    check("threads per rank: 2" in r2.stdout, "--threads 2 not reported: " + r2.describe())
    validate(one)
    check_same(one, two)


def test_same_command_twice_is_identical():
    d = scratch("twice")
    a, b = os.path.join(d, "a.h5"), os.path.join(d, "b.h5")
    common = ["-n", "6", "--seed", "9", "--storage", "png", *SMALL]
    generate(a, *common)
    generate(b, *common)
    check_same(a, b)


def test_different_seed_differs():
    d = scratch("seeds")
    a, b = os.path.join(d, "a.h5"), os.path.join(d, "b.h5")
    common = ["-n", "6", "--storage", "raw", *SMALL]
    generate(a, "--seed", "1", *common)
    generate(b, "--seed", "2", *common)
    ha, hb = image_hashes(a), image_hashes(b)
    same = sum(x == y for x, y in zip(ha, hb))
    check(same == 0, f"{same} of {len(ha)} images are the same with seeds 1 and 2")
    check(not (labels(a)["corners"] == labels(b)["corners"]).all(), "labels equal across seeds")
    check(dataset_differences(a, b), "the two seeds gave equal datasets")


def test_system_and_weights_lines():
    d = scratch("lines")
    out = os.path.join(d, "w.h5")
    r = generate(out, "-n", "6", "--use-popularity-weights", *SMALL)
    lines = r.stdout.splitlines()
    check(any(l == "[system] No GPU detected, using CPU only" or
              re.match(r"\[system\] Detected \d+ GPU\(s\): .+", l) for l in lines),
          "no [system] GPU line: " + r.describe())
    check(any(re.fullmatch(r"\[system\] Available CPU cores: [1-9]\d*", l) for l in lines),
          "no [system] Available CPU cores line: " + r.describe())
    check(any(l.startswith("[weights] max/min weight ratio") for l in lines),
          "no [weights] max/min weight ratio line: " + r.describe())
    plan = [l for l in lines if l.startswith("[plan]")]
    check(len(plan) == 1 and "6 images" in plan[0] and "1 rank(s)" in plan[0],
          f"[plan] line is {plan}")
    # Uniform sampling is the default, and says so.
    out2 = os.path.join(d, "u.h5")
    r2 = generate(out2, "-n", "6", *SMALL)
    check(not any(l.startswith("[weights] max/min") for l in r2.stdout.splitlines()),
          "a max/min weight ratio printed without --use-popularity-weights")
    check(any(l.startswith("[weights]") and "uniform" in l for l in r2.stdout.splitlines()),
          "no [weights] line saying the sampling is uniform: " + r2.describe())
    with h5py.File(out, "r") as f, h5py.File(out2, "r") as g:
        w, u = f["cards/weight"][()], g["cards/weight"][()]
    check(w.max() > w.min(), "popularity weights are all equal")
    check(abs(u.max() - u.min()) < 1e-12, "uniform weights are not all equal")
    check(abs(w.sum() - 1) < 1e-6 and abs(u.sum() - 1) < 1e-6, "weights do not sum to 1")


def test_device_line_matches_the_setting():
    # With the default --device auto and no CUDA backend, the [device] line says why the CPU
    # renders; it must not speak of a --device cuda that nobody passed.
    d = scratch("device")
    r = generate(os.path.join(d, "d.h5"), "-n", "2", *SMALL)
    device = [l for l in r.stdout.splitlines() if l.startswith("[device]")]
    check(all("--device cuda" not in l for l in device), f"[device] line: {device}")
    r = run(["generate", "-o", os.path.join(d, "c.h5"), "-n", "2", *SMALL, "--device", "cpu",
             "--quiet"])
    check(r.rc == 0, r.describe())
    check(not any(l.startswith("[device]") for l in r.stdout.splitlines()),
          "--device cpu still explains the device: " + r.describe())
    check("renderer cpu" in r.stdout, "--device cpu does not render on the CPU: " + r.describe())


def info_value(result, prefix):
    for line in result.stdout.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise TestFailure(f"no line starting {prefix!r}: " + result.describe())


def test_info_lines():
    r = run(["info"], env={"OMP_NUM_THREADS": None})
    check(r.rc == 0, r.describe())
    cores = int(info_value(r, "[system] Available CPU cores:"))
    check(1 <= cores <= os.cpu_count(), f"{cores} cores reported, the machine has {os.cpu_count()}")
    check(cores == len(os.sched_getaffinity(0)) or cores < len(os.sched_getaffinity(0)),
          f"{cores} cores reported, the affinity mask has {len(os.sched_getaffinity(0))}")
    check(re.search(r"^\[system\] (No GPU detected, using CPU only|Detected \d+ GPU)", r.stdout,
                    re.M), "no [system] GPU line: " + r.describe())
    if shutil.which("taskset"):
        pinned = run(["info"], prefix=["taskset", "-c", "0"])
        check(pinned.rc == 0, pinned.describe())
        check("[system] Available CPU cores: 1" in pinned.stdout.splitlines(),
              "taskset -c 0 does not give 1 core: " + pinned.describe())
    else:
        print("note: taskset is not installed; the affinity check is skipped")


def test_info_omp_num_threads():
    r = run(["info"], env={"OMP_NUM_THREADS": "3"})
    check(r.rc == 0, r.describe())
    auto = [l for l in r.stdout.splitlines() if l.startswith("[threads] auto:")]
    check(auto and re.match(r"\[threads\] auto: 3\b", auto[0]), f"auto line is {auto}")
    r = run(["info", "--threads", "5"], env={"OMP_NUM_THREADS": None})
    check(r.rc == 0, r.describe())
    check("[threads] --threads 5: 5" in r.stdout.splitlines(), "--threads 5 line:\n" + r.stdout)
    # Without OMP_NUM_THREADS, auto is this process's cores.
    cores = int(info_value(r, "[system] Available CPU cores:"))
    check(f"[threads] auto: {cores}" in r.stdout.splitlines(), "auto is not the core count:\n"
          + r.stdout)


def test_threads_flag_beats_omp_num_threads():
    d = scratch("omp")
    out = os.path.join(d, "o.h5")
    r = generate(out, "-n", "4", "--threads", "1", *SMALL, env={"OMP_NUM_THREADS": "2"})
    check("threads per rank: 1" in r.stdout, "--threads 1 not used: " + r.describe())
    out2 = os.path.join(d, "o2.h5")
    r = generate(out2, "-n", "4", *SMALL, env={"OMP_NUM_THREADS": "3"})
    check("threads per rank: 3" in r.stdout, "OMP_NUM_THREADS=3 not used: " + r.describe())


def test_table_scene_flag():
    d = scratch("table_flag")
    out = os.path.join(d, "t.h5")
    generate(out, "-n", "6", "--scene", "table", "--max-cards", "40", *SMALL)
    made_file(out)
    validate(out)
    with h5py.File(out, "r") as f:
        check("kind: table" in f["config"][()].decode(), "/config does not say kind: table")


def test_table_config_file():
    d = scratch("table_config")
    out = os.path.join(d, "t.h5")
    generate(out, "--config", os.path.join(SOURCE_DIR, "configs", "table.yaml"), "-n", "6",
             *SMALL)
    made_file(out)
    validate(out)
    a = attrs(out)
    check(int(a["max_cards"]) == 40 and int(a["masks"]) == 1 and a["storage"] == "jpeg",
          f"configs/table.yaml not applied: {a}")
    check(int(a["seed"]) == 11, f"seed is {a['seed']}, configs/table.yaml says 11")


def test_demo_config():
    d = scratch("demo")
    out = os.path.join(d, "demo.h5")
    generate(out, "--config", os.path.join(SOURCE_DIR, "configs", "demo.yaml"), "-n", "6")
    made_file(out)
    validate(out)
    a = attrs(out)
    check((int(a["width"]), int(a["height"]), int(a["max_cards"])) == (960, 540, 12),
          f"configs/demo.yaml not applied: {a}")


def test_relative_output_in_cwd():
    # The output path is relative to where the command runs, and the config file's own path
    # gives the default name (demo.h5 from configs/demo.yaml).
    d = scratch("cwd")
    r = run(["generate", "--config", os.path.join(SOURCE_DIR, "configs", "demo.yaml"), "-n", "2",
             *SMALL, "--quiet"], cwd=d)
    check(r.rc == 0, r.describe())
    made_file(os.path.join(d, "demo.h5"))


if __name__ == "__main__":
    run_tests([
        test_storage_raw,
        test_storage_jpeg,
        test_storage_png_with_masks,
        test_threads_do_not_change_output,
        test_same_command_twice_is_identical,
        test_different_seed_differs,
        test_system_and_weights_lines,
        test_info_lines,
        test_info_omp_num_threads,
        test_threads_flag_beats_omp_num_threads,
        test_table_scene_flag,
        test_table_config_file,
        test_demo_config,
        test_relative_output_in_cwd,
        test_device_line_matches_the_setting,
    ], expected_failures={
        "test_device_line_matches_the_setting":
            "known bug: src/renderer.cpp make_renderer under --device auto reuses the "
            "'--device cuda: this build has no CUDA backend' message",
    })
