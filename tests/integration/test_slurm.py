#!/usr/bin/env python3
"""A SLURM batch job gives the same dataset as one process.

Starts a one-node SLURM (scripts/slurm-local), submits slurm/generate.sbatch with 2 ranks, then
runs the same generate command as one plain process and compares the two files image by image
(decoded pixels) and label by label. Skips (exit 77) unless it runs as root on a machine with
SLURM and munge installed (scripts/install-deps --slurm).
"""
import io
import os
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np
from PIL import Image

SKIP = 77
JOB_TIMEOUT_S = 300


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(cmd, **kwargs):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def job_field(job_id, field, env):
    out = subprocess.run(["scontrol", "show", "job", job_id], env=env, capture_output=True,
                         text=True).stdout
    for word in out.split():
        if word.startswith(field + "="):
            return word.split("=", 1)[1]
    return ""


def wait_for_job(job_id, env):
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        state = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], env=env,
                               capture_output=True, text=True).stdout.strip()
        if state not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING"):
            return job_field(job_id, "JobState", env), job_field(job_id, "ExitCode", env)
        time.sleep(1)
    fail(f"job {job_id} still not done after {JOB_TIMEOUT_S} s")


def decoded_images(f):
    """Every image of the file as an array, whatever its storage."""
    if "images" in f:
        return [f["images"][i] for i in range(f["images"].shape[0])]
    blob = f["images_encoded"][()]
    return [np.asarray(Image.open(io.BytesIO(blob[o:o + s].tobytes())))
            for o, s in zip(f["images_offset"][()], f["images_size"][()])]


def compare(slurm_path, one_path, num_images):
    with h5py.File(slurm_path, "r") as a, h5py.File(one_path, "r") as b:
        for name, f in (("slurm", a), ("one", b)):
            if int(f.attrs["complete"]) != 1:
                fail(f"{name}: attribute complete is {f.attrs['complete']}, not 1")
            if int(f.attrs["num_images"]) != num_images:
                fail(f"{name}: num_images is {f.attrs['num_images']}, not {num_images}")
            if not np.all(f["done"][()] == 1):
                fail(f"{name}: /done has zeros: {f['done'][()]}")
        images_a, images_b = decoded_images(a), decoded_images(b)
        if len(images_a) != num_images or len(images_b) != num_images:
            fail(f"image counts {len(images_a)} and {len(images_b)}, not {num_images}")
        for i, (x, y) in enumerate(zip(images_a, images_b)):
            if x.shape != y.shape or not np.array_equal(x, y):
                fail(f"image {i} differs between the SLURM job and one process")
        for group in ("labels", "cards"):
            for key in a[group]:
                x, y = a[group][key][()], b[group][key][()]
                same = (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                        else np.array_equal(x, y))
                if not same:
                    fail(f"/{group}/{key} differs between the SLURM job and one process")
    print(f"{num_images} images and their labels are identical")


def main():
    if os.geteuid() != 0:
        skip("needs root to start a one-node SLURM (scripts/slurm-local)")
    for tool in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol"):
        if shutil.which(tool) is None:
            skip(f"{tool} not found; scripts/install-deps --slurm installs SLURM")

    binary = os.environ["CARDSYNTH_BIN"]
    source = os.environ["CARDSYNTH_SOURCE_DIR"]
    tmp = os.path.join(os.environ["CARDSYNTH_TEST_TMP"], "slurm")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)

    env = dict(os.environ)
    # Short, because slurmd puts socket paths under it.
    env["CARDSYNTH_SLURM_DIR"] = f"/tmp/cs-slurm-test.{os.getpid()}"
    env["SLURM_CONF"] = os.path.join(env["CARDSYNTH_SLURM_DIR"], "slurm.conf")
    env["CARDSYNTH_BIN"] = binary
    env.pop("CARDSYNTH_HOME", None)  # the batch script must find the repository itself
    env.pop("CARDSYNTH_LAUNCHER", None)
    slurm_local = os.path.join(source, "scripts", "slurm-local")

    num_images = 12
    args = ["--num-images", str(num_images), "--width", "320", "--height", "240",
            "--storage", "png"]
    job_id = None
    try:
        run([slurm_local, "start"], env=env)
        # -c 1: two ranks fit a two-core machine; --overcommit lets them share one core.
        submit = run(["sbatch", "--parsable", "-n", "2", "-c", "1", "--overcommit",
                      "--time=00:10:00", "--chdir", tmp,
                      "--output", os.path.join(tmp, "slurm-%j.log"),
                      "slurm/generate.sbatch", *args, "--out", os.path.join(tmp, "slurm.h5")],
                     cwd=source, env=env, capture_output=True, text=True)
        job_id = submit.stdout.strip().split(";")[0]
        state, exit_code = wait_for_job(job_id, env)
        log = os.path.join(tmp, f"slurm-{job_id}.log")
        if os.path.exists(log):
            with open(log) as f:
                print(f"--- job {job_id} log ---\n{f.read()}--- end of log ---")
        if state != "COMPLETED" or exit_code != "0:0":
            fail(f"job {job_id} ended {state} with exit code {exit_code}")
        job_id = None
    finally:
        if job_id:
            subprocess.run(["scancel", job_id], env=env)
        subprocess.run([slurm_local, "stop"], env=env)
        shutil.rmtree(env["CARDSYNTH_SLURM_DIR"], ignore_errors=True)

    run([binary, "generate", *args, "--out", os.path.join(tmp, "one.h5")], cwd=tmp,
        timeout=JOB_TIMEOUT_S)
    for name in ("slurm.h5", "one.h5"):
        path = os.path.join(tmp, name)
        if not os.path.exists(path) or os.path.exists(path + ".partial"):
            fail(f"{path} missing or left as .partial")
    compare(os.path.join(tmp, "slurm.h5"), os.path.join(tmp, "one.h5"), num_images)


if __name__ == "__main__":
    main()
