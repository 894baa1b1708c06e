#!/usr/bin/env python3
"""A SLURM job warned of its time limit requeues itself and resumes to the same dataset.

Starts a one-node SLURM (scripts/slurm-local), submits slurm/generate.sbatch with 2 ranks and,
once the job shows progress, sends the batch shell the warning SLURM sends before the time limit
(`scancel --batch --signal=USR1`). The ranks stop at a round boundary and exit 75, the script
requeues the job, and the second attempt (SLURM_RESTART_COUNT=1) runs with --resume and
completes. The result must equal, image by image (stored bytes) and label by label (bit for bit),
one plain process given the same arguments. Skips (exit 77) unless it runs as root on a machine
with SLURM and munge installed (scripts/install-deps --slurm).
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cslib  # noqa: E402
from cslib import check  # noqa: E402

NUM_IMAGES = 2400  # about 15 s on an idle 2-core machine: the signal must come before the end
ARGS = ["--num-images", str(NUM_IMAGES), "--width", "320", "--height", "240", "--storage", "png"]
# Another SLURM test may hold the machine's SLURM; this long at most is spent waiting for it.
OTHER_SLURM_WAIT_S = 600
PROGRESS_WAIT_S = 90
REQUEUE_WAIT_S = 60
FINISH_WAIT_S = 150
# How long an end state must last before it counts (SLURM shows some for a moment in a requeue).
SETTLE_S = 5.0
END_STATES = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
              "BOOT_FAIL", "DEADLINE", "PREEMPTED")

# What the SLURM part of the run found, for the checks that follow it.
job = {}


def require_slurm():
    if os.geteuid() != 0:
        cslib.skip("needs root to start a one-node SLURM (scripts/slurm-local)")
    for tool in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol", "scancel"):
        if shutil.which(tool) is None:
            cslib.skip(f"{tool} not found; scripts/install-deps --slurm installs SLURM")


def other_slurm_running():
    return any(subprocess.run(["pgrep", "-x", d], capture_output=True).returncode == 0
               for d in ("slurmctld", "slurmd"))


def wait_for_other_slurm():
    """Waits until no other SLURM daemons run (another test's cluster uses the same munge and
    the same node name); skips when they are still there after OTHER_SLURM_WAIT_S."""
    deadline = time.monotonic() + OTHER_SLURM_WAIT_S
    announced = False
    quiet_checks = 0
    while quiet_checks < 2:  # twice in a row: its munged stops just after them
        if time.monotonic() > deadline:
            cslib.skip(f"another SLURM still runs here after {OTHER_SLURM_WAIT_S} s")
        if other_slurm_running():
            quiet_checks = 0
            if not announced:
                print("waiting for another SLURM on this machine to stop", flush=True)
                announced = True
        else:
            quiet_checks += 1
        time.sleep(1)


def show_job(job_id, env):
    """`scontrol show job` as a dict of its KEY=VALUE words."""
    out = subprocess.run(["scontrol", "show", "job", job_id], env=env, capture_output=True,
                         text=True).stdout
    fields = {}
    for word in out.split():
        if "=" in word:
            key, value = word.split("=", 1)
            fields.setdefault(key, value)
    return fields


def read_log(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_until(what, seconds, probe):
    """Calls probe() every half second until it returns something true; returns that value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    raise cslib.TestFailure(f"{what}: not within {seconds} s")


def run_requeued_job(work, env, source):
    out = os.path.join(work, "slurm.h5")
    log_pattern = os.path.join(work, "slurm-%j.log")
    # -c 1: two ranks fit a two-core machine; --overcommit lets them share one core.
    submit = subprocess.run(
        ["sbatch", "--parsable", "-n", "2", "-c", "1", "--overcommit", "--time=00:10:00",
         "--chdir", work, "--output", log_pattern, "slurm/generate.sbatch", *ARGS, "--out", out],
        cwd=source, env=env, capture_output=True, text=True)
    check(submit.returncode == 0, f"sbatch failed: {submit.stderr.strip()}")
    job_id = submit.stdout.strip().split(";")[0]
    job["id"] = job_id
    log = log_pattern.replace("%j", job_id)
    job["log_path"] = log
    print(f"submitted job {job_id}", flush=True)

    # Signalled once some images are made, so that the resume has work both behind and ahead
    # of it: at the first [progress] line, or (on a machine fast enough to finish before one,
    # 5 s in) a few rounds after the [plan] line, the first round being about a second long.
    planned_at = []

    def progressing():
        fields = show_job(job_id, env)
        if fields.get("JobState") not in ("PENDING", "CONFIGURING", "RUNNING"):
            raise cslib.TestFailure(f"job {job_id} ended ({fields.get('JobState')}) before it "
                                    f"was signalled:\n{read_log(log)}")
        text = read_log(log)
        if not planned_at and "[plan]" in text:
            planned_at.append(time.monotonic())
        return "[progress]" in text or (planned_at and time.monotonic() - planned_at[0] > 3.0)

    wait_until(f"job {job_id} shows progress in its log", PROGRESS_WAIT_S, progressing)
    signal = subprocess.run(["scancel", "--batch", "--signal=USR1", job_id], env=env,
                            capture_output=True, text=True)
    check(signal.returncode == 0, f"scancel --batch --signal=USR1 failed: {signal.stderr}")
    print(f"sent USR1 to the batch shell of job {job_id}", flush=True)

    # SLURM may show an end state for a moment before it counts the restart; only one that
    # lasts means that the job really ended instead of being requeued.
    ended_since = []

    def requeued():
        fields = show_job(job_id, env)
        if int(fields.get("Restarts", "0")) >= 1:
            return fields
        if fields.get("JobState") not in END_STATES:
            ended_since.clear()
        elif not ended_since:
            ended_since.append(time.monotonic())
        elif time.monotonic() - ended_since[0] > SETTLE_S:
            raise cslib.TestFailure(f"job {job_id} ended {fields.get('JobState')} "
                                    f"(exit code {fields.get('ExitCode')}) instead of being "
                                    f"requeued:\n{read_log(log)}")
        return None

    fields = wait_until(f"job {job_id} requeued after USR1", REQUEUE_WAIT_S, requeued)
    job["restarts"] = int(fields["Restarts"])
    job["partial_after_stop"] = os.path.exists(out + ".partial")
    job["out_after_stop"] = os.path.exists(out)

    # A requeued batch job gets a begin time about two minutes ahead; bring it forward so that
    # the test does not wait. Not at once: slurmd refuses ("Job credential revoked") a launch
    # whose credential is from the same second as the requeue. The first attempt may still be
    # COMPLETING when Restarts turns 1, so only an end state after PENDING counts.
    states = []
    pending_since = []

    def finished():
        fields = show_job(job_id, env)
        state = fields.get("JobState")
        if not states or states[-1] != state:
            states.append(state)
        if state == "PENDING":
            if not pending_since:
                pending_since.append(time.monotonic())
            elif time.monotonic() - pending_since[0] > 2.0 and len(pending_since) == 1:
                pending_since.append(time.monotonic())
                if "Held" in fields.get("Reason", ""):
                    subprocess.run(["scontrol", "release", job_id], env=env, capture_output=True)
                subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"],
                               env=env, capture_output=True)
        if state in END_STATES and "PENDING" in states:
            return fields
        return None

    try:
        fields = wait_until(f"requeued job {job_id} finishing", FINISH_WAIT_S, finished)
    finally:
        print(f"job {job_id} states after the requeue: {' -> '.join(map(str, states))}",
              flush=True)
    job["state"], job["exit_code"] = fields.get("JobState"), fields.get("ExitCode")
    job["final_restarts"] = int(fields.get("Restarts", "0"))
    job["log"] = read_log(log)
    job["out"] = out
    print(f"--- job {job_id} log (the job ended {job['state']}, exit code {job['exit_code']}, "
          f"Restarts={job['final_restarts']}) ---\n{job['log']}--- end of log ---", flush=True)


def test_usr1_requeues_the_job():
    require_slurm()
    source = os.environ["CARDSYNTH_SOURCE_DIR"]
    work = cslib.scratch("job")
    env = dict(os.environ)
    # Short, because slurmd puts socket paths under it.
    env["CARDSYNTH_SLURM_DIR"] = f"/tmp/cs-slurm-rq.{os.getpid()}"
    env["SLURM_CONF"] = os.path.join(env["CARDSYNTH_SLURM_DIR"], "slurm.conf")
    env["CARDSYNTH_BIN"] = os.path.abspath(cslib.binary())
    env.pop("CARDSYNTH_HOME", None)  # the batch script must find the repository itself
    env.pop("CARDSYNTH_LAUNCHER", None)
    slurm_local = os.path.join(source, "scripts", "slurm-local")

    wait_for_other_slurm()
    try:
        start = subprocess.run([slurm_local, "start"], env=env, capture_output=True, text=True)
        check(start.returncode == 0, f"slurm-local start failed: {start.stderr.strip()}")
        run_requeued_job(work, env, source)
    finally:
        if "id" in job and "state" not in job:
            subprocess.run(["scancel", job["id"]], env=env, capture_output=True)
            if "log" not in job and "log_path" in job:
                print(f"--- job log ---\n{read_log(job['log_path'])}--- end of log ---")
        subprocess.run([slurm_local, "stop"], env=env)
        shutil.rmtree(env["CARDSYNTH_SLURM_DIR"], ignore_errors=True)

    log = job["log"]
    check(job["restarts"] == 1 and job["final_restarts"] == 1,
          f"scontrol shows Restarts={job['restarts']} after the requeue and "
          f"{job['final_restarts']} at the end, not 1")
    check(job["partial_after_stop"] and not job["out_after_stop"],
          "after the stop the output should be only a .partial file")
    stopped = re.search(r"cardsynth: error: stopped by SIGUSR1 after (\d+) images; '([^']*)' "
                        r"is resumable", log)
    check(stopped, "no 'stopped by SIGUSR1 ... is resumable' (exit 75) message in the log")
    made = int(stopped.group(1))
    check(0 < made < NUM_IMAGES, f"the first attempt stopped after {made} images, not part way")
    check(stopped.group(2) == job["out"] + ".partial",
          f"the stop message names '{stopped.group(2)}', not the output's .partial file")
    # The script's own line can lose the race with the requeue's kill of the batch shell;
    # slurmstepd's notice says the same.
    check(f"job {job['id']} requeued to resume" in log or "DUE TO JOB REQUEUE" in log,
          "the log does not say that the job was requeued")
    job["made_before_stop"] = made


def test_requeued_job_resumes_and_completes():
    check("log" in job, "the SLURM job did not run (see the test before)")
    log = job["log"]
    check(f"cardsynth: restart 1 of job {job['id']}; resuming" in log,
          "the log has no 'restart 1 ... resuming' line (SLURM_RESTART_COUNT=1)")
    commands = [l for l in log.splitlines() if re.match(r"cardsynth: .* generate ", l)]
    check(len(commands) == 2, f"expected 2 launch lines in the log, found {len(commands)}")
    check("--resume" not in commands[0].split(), "the first attempt ran with --resume")
    check("--resume" in commands[1].split(), "the requeued attempt ran without --resume")
    plans = re.findall(r"\[plan\] (\d+) images, (\d+) to make", log)
    check(len(plans) == 2, f"expected 2 [plan] lines in the log, found {len(plans)}")
    check(int(plans[0][1]) == NUM_IMAGES, f"the first attempt planned {plans[0][1]} images")
    check(int(plans[1][1]) == NUM_IMAGES - job["made_before_stop"],
          f"the resumed attempt planned {plans[1][1]} images, not the "
          f"{NUM_IMAGES - job['made_before_stop']} the first attempt left")
    check(job["state"] == "COMPLETED" and job["exit_code"] == "0:0",
          f"job {job['id']} ended {job['state']} with exit code {job['exit_code']}")
    out = job["out"]
    check(os.path.exists(out), f"'{out}' is missing")
    check(not os.path.exists(out + ".partial"), f"'{out}.partial' was left behind")
    check(int(cslib.attrs(out)["complete"]) == 1, f"'{out}' does not have complete = 1")
    cslib.validate(out)


def test_same_as_one_process():
    check("out" in job and os.path.exists(job["out"]), "the SLURM job made no output")
    one = os.path.join(cslib.scratch("one"), "one.h5")
    cslib.generate(one, *ARGS)
    cslib.check_same(job["out"], one)


if __name__ == "__main__":
    require_slurm()
    cslib.run_tests([test_usr1_requeues_the_job, test_requeued_job_resumes_and_completes,
                     test_same_as_one_process])
