"""Helpers of the crash-safety tests (test_resume, test_kill, test_signals, test_disk_full) and
of scripts/soak-kill: running cardsynth, stopping it, and comparing datasets image by image.

The tests are plain scripts: each calls run_tests() with its test functions, which prints
"PASS name" or "FAIL name: reason" for each and "N passed, M failed" at the end, and exits 1
when any failed. skip() prints the reason and exits 77.

Environment (set by ctest): CARDSYNTH_BIN, CARDSYNTH_SOURCE_DIR, CARDSYNTH_MPIEXEC (mpiexec and
its flags, split on spaces), CARDSYNTH_TEST_TMP (where the files go).
"""
import hashlib
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 75



# ----------------------------------------------------------------------------- environment

def _source_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("CARDSYNTH_SOURCE_DIR") or os.path.dirname(os.path.dirname(here))


SOURCE_DIR = _source_dir()
sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "python"))

try:
    import h5py  # noqa: E402
    import numpy as np  # noqa: E402

    import cardsynth  # noqa: E402
except ImportError as e:  # the skip reason is printed when a test starts
    h5py = None
    _IMPORT_ERROR = str(e)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def binary():
    path = os.environ.get("CARDSYNTH_BIN", "")
    if not path or not os.access(path, os.X_OK):
        skip(f"CARDSYNTH_BIN '{path}' is not an executable cardsynth")
    if h5py is None:
        skip(f"h5py and numpy are needed: {_IMPORT_ERROR}")
    return path


def mpiexec():
    """The mpiexec command as a list, or None when it is not usable."""
    text = os.environ.get("CARDSYNTH_MPIEXEC", "").strip()
    if not text:
        return None
    words = shlex.split(text)
    return words if shutil.which(words[0]) else None


def tmp_dir(prefix):
    """A fresh directory under CARDSYNTH_TEST_TMP (or the system's temp dir)."""
    base = os.environ.get("CARDSYNTH_TEST_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix + "-", dir=base)


# ----------------------------------------------------------------------------- test runner

class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run_tests(tests, workdir=None):
    """Runs the tests and exits; `workdir` is removed when all passed, kept for a look if not."""
    passed = failed = 0
    for test in tests:
        name = test.__name__
        try:
            test()
        except Failure as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:  # a crash of the test itself is a failure too
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
        else:
            passed += 1
            print(f"PASS {name}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    if workdir and not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    elif workdir:
        print(f"files kept in {workdir}", flush=True)
    sys.exit(1 if failed else 0)


# ----------------------------------------------------------------------------- running

def generate_cmd(out, args, ranks=0, resume=False):
    """cardsynth generate -o OUT ARGS [--resume], under mpiexec -np RANKS when RANKS > 0."""
    cmd = [binary(), "generate", "-o", out] + list(args) + (["--resume"] if resume else [])
    if ranks:
        launcher = mpiexec()
        if launcher is None:
            raise Failure("CARDSYNTH_MPIEXEC is not set or not found")
        cmd = launcher + ["-np", str(ranks)] + cmd
    return cmd


class Result:
    def __init__(self, cmd, rc, out, err, seconds):
        self.cmd, self.rc, self.out, self.err, self.seconds = cmd, rc, out, err, seconds

    def describe(self):
        tail = "\n".join((self.out + self.err).strip().splitlines()[-6:])
        return f"exit {self.rc} after {self.seconds:.1f} s of '{' '.join(self.cmd)}': {tail}"


def run(cmd, timeout=300):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"'{' '.join(cmd)}' still running after {timeout} s") from e
    return Result(cmd, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def run_ok(cmd, timeout=300):
    r = run(cmd, timeout)
    check(r.rc == 0, r.describe())
    return r


class Started:
    """A command running in its own session (process group = its pid), output collected."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.pid = self.proc.pid
        self.out_lines, self.err_lines = [], []
        self._readers = [threading.Thread(target=self._read, args=(s, l), daemon=True)
                         for s, l in ((self.proc.stdout, self.out_lines),
                                      (self.proc.stderr, self.err_lines))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line)

    def elapsed(self):
        return time.monotonic() - self.t0

    def running(self):
        return self.proc.poll() is None

    def wait_for_output(self, text, timeout=60):
        """True once a stdout line contains `text`; False when the process ended or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.out_lines)):
                return True
            if not self.running():
                time.sleep(0.05)  # let the reader drain the pipe
                return any(text in line for line in list(self.out_lines))
            time.sleep(0.02)
        return False

    def send(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill_group(self, sig=signal.SIGKILL):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def finish(self, timeout=120):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            self.proc.wait()
            raise Failure(f"'{' '.join(self.cmd)}' still running {timeout} s after it was "
                          "expected to end")
        for t in self._readers:
            t.join(5)
        return Result(self.cmd, rc, "".join(self.out_lines), "".join(self.err_lines),
                      self.elapsed())


# ----------------------------------------------------------------------------- processes

def _proc_stat(pid):
    """(ppid, comm) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None  # a zombie has exited; only its parent's wait is missing
    return int(fields[1]), comm


def descendants(pid):
    """Pids of every living process below `pid`."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st:
                children.setdefault(st[0], []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def cardsynth_ranks(pid):
    """Pids of the cardsynth processes below `pid` (the ranks of an mpiexec)."""
    name = os.path.basename(binary())[:15]
    ranks = []
    for p in descendants(pid):
        st = _proc_stat(p)
        if st and st[1] == name:
            ranks.append(p)
    return sorted(ranks)


def alive(pids):
    return [p for p in pids if _proc_stat(p) is not None]


def wait_gone(pids, timeout):
    """Pids still alive after `timeout` seconds (none, when all of them ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pids):
            return []
        time.sleep(0.05)
    return alive(pids)


def reap(pids):
    """Kills, by pid, processes this test started that outlived what should have ended them."""
    for p in alive(pids):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ----------------------------------------------------------------------------- datasets

def partial(out):
    return out + ".partial"


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def state(path):
    """complete, done count and N of a dataset file; raises Failure when HDF5 cannot read it."""
    try:
        with h5py.File(path, "r") as f:
            done = f["done"][()]
            return {"complete": int(f.attrs["complete"]), "done": int(np.count_nonzero(done)),
                    "num_images": int(f.attrs["num_images"])}
    except Failure:
        raise
    except Exception as e:
        raise Failure(f"cannot read '{path}' with h5py: {type(e).__name__}: {e}") from e


def image_hashes(path):
    """sha256 per image of its stored bytes (raw pixels or the JPEG/PNG file), its mask when
    present, and every label array's row (padding included); the file must be complete."""
    try:
        f = h5py.File(path, "r")
    except Exception as e:
        raise Failure(f"cannot open '{path}' with h5py: {e}") from e
    with f:
        check(int(f.attrs["complete"]) == 1, f"'{path}': complete is {f.attrs['complete']}")
        n = int(f.attrs["num_images"])
        done = f["done"][()]
        check(bool(np.all(done == 1)), f"'{path}': /done has {int(np.sum(done == 0))} zeros")
        columns = [c["name"] for c in cardsynth.label_columns(f)]
        labels = {name: f["labels/" + name][()] for name in columns}
        masks = f["masks"] if "masks" in f else None
        if "images" in f:
            images = f["images"]
            stored = lambda i: images[i].tobytes()  # noqa: E731
        else:
            blob = f["images_encoded"][()]
            off, size = f["images_offset"][()], f["images_size"][()]
            stored = lambda i: blob[int(off[i]):int(off[i]) + int(size[i])].tobytes()  # noqa: E731
        hashes = []
        for i in range(n):
            h = hashlib.sha256(stored(i))
            if masks is not None:
                h.update(masks[i].tobytes())
            for name in columns:
                h.update(name.encode())
                h.update(np.ascontiguousarray(labels[name][i]).tobytes())
            hashes.append(h.hexdigest())
        return hashes


def compare_hashes(got, want, what):
    check(len(got) == len(want), f"{what}: {len(got)} images, the clean run has {len(want)}")
    differ = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    check(not differ, f"{what}: {len(differ)} of {len(want)} images differ from the clean run "
                      f"(first: {differ[:8]})")


def validate(path):
    from validate_dataset import validate as contract_problems
    problems = contract_problems(path)
    check(not problems, f"'{path}' breaks the format contract: {'; '.join(problems[:5])}")


# ----------------------------------------------------------------------------- kill cycles

class KillStats:
    def __init__(self):
        self.kills = 0
        self.images = 0
        self.states = {}  # what a kill left behind -> how often

    def saw(self, what):
        self.states[what] = self.states.get(what, 0) + 1

    def summary(self):
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.states.items()))


SUPERBLOCK_EOF_AT = 40  # a version 0 superblock of 8-byte offsets keeps its end of file here


def superblock_end(path):
    """The end of file the superblock of `path` records (version 0, 8-byte offsets, as cardsynth
    writes), or None when it holds another kind."""
    with open(path, "rb") as f:
        sb = f.read(SUPERBLOCK_EOF_AT + 8)
    if len(sb) < SUPERBLOCK_EOF_AT + 8 or sb[:8] != b"\x89HDF\r\n\x1a\n" or sb[8] != 0 \
            or sb[13] != 8:
        return None
    return int.from_bytes(sb[SUPERBLOCK_EOF_AT:], "little")


def after_kill_state(out):
    """What a killed run left: 'nothing', 'complete', 'partial, done 0', 'partial, done k<N'..."""
    if os.path.exists(partial(out)):
        end = superblock_end(partial(out))
        if end is not None and end > os.path.getsize(partial(out)):
            # The library refuses it as truncated; --resume makes it again.
            return "partial, shorter than its superblock records (killed during a flush)"
        s = state(partial(out))
        check(s["complete"] == 0, f"'{partial(out)}' says complete = 1")
        if s["done"] == 0:
            return "partial, no image done"
        if s["done"] < s["num_images"]:
            return "partial, some images done"
        return "partial, every image done"
    if os.path.exists(out):
        check(state(out)["complete"] == 1, f"'{out}' exists but complete is 0")
        return "complete before the kill"
    return "no file yet"


def kill_once(mode, out, args, delay, rng, ranks=2):
    """Starts the run and kill -9s it `delay` seconds later: mode 'process' (one process),
    'group' (the process group of mpiexec, ranks included) or 'rank' (one rank of mpiexec).
    Returns a short description of the kill. Fails when a process outlives its kill."""
    cmd = generate_cmd(out, args, ranks=0 if mode == "process" else ranks)
    p = Started(cmd)
    seen = set()
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and p.running():
        if mode != "process":
            seen.update(cardsynth_ranks(p.pid))
        time.sleep(0.02)
    if not p.running():
        r = p.finish()
        check(r.rc == 0, "run meant to be killed failed first: " + r.describe())
        return "finished before the kill"
    if mode == "process":
        seen.add(p.pid)
        p.kill_group()
        what = "kill -9 of the process"
    elif mode == "group":
        seen.update(cardsynth_ranks(p.pid))
        seen.update(descendants(p.pid))
        p.kill_group()
        what = "kill -9 of mpiexec's process group"
    else:
        # One rank; when the ranks have not started yet, wait for them (a few seconds at most).
        ranks_now = cardsynth_ranks(p.pid)
        wait_until = time.monotonic() + 10
        while len(ranks_now) < ranks and p.running() and time.monotonic() < wait_until:
            time.sleep(0.02)
            ranks_now = cardsynth_ranks(p.pid)
        if not p.running():
            r = p.finish()
            check(r.rc == 0, "run meant to be killed failed first: " + r.describe())
            return "finished before the kill"
        check(len(ranks_now) == ranks,
              f"found {len(ranks_now)} cardsynth ranks below mpiexec {p.pid}, expected {ranks}")
        seen.update(ranks_now)
        victim = rng.choice(ranks_now)
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
        what = f"kill -9 of rank pid {victim} (rank {ranks_now.index(victim)} by pid order)"
    try:
        r = p.finish(timeout=60)
    except Failure:
        reap(seen)
        raise Failure(f"{what}: mpiexec did not end within 60 s")
    survivors = wait_gone(list(seen), 20)
    if survivors:
        reap(survivors)
        raise Failure(f"{what}: processes {survivors} still alive 20 s later")
    if mode == "rank":
        check(r.rc != 0, f"{what}: mpiexec exited 0 after losing a rank")
    return what


def recover(out, args, ranks, attempts=3):
    """Reruns the command with --resume until it completes; returns the runs' results."""
    results = []
    for _ in range(attempts):
        r = run(generate_cmd(out, args, ranks=ranks, resume=True), timeout=300)
        results.append(r)
        if r.rc == 0:
            check(os.path.exists(out) and not os.path.exists(partial(out)),
                  f"--resume exited 0 but left '{out}' missing or '{partial(out)}' behind")
            return results
        check(r.rc != EXIT_USAGE, "--resume refused: " + r.describe())
    raise Failure(f"--resume did not complete in {attempts} tries: " + results[-1].describe())


def kill_loop(mode, kills, seed, args, workdir, stats, ranks=2, log=print):
    """The clean run, then `kills` runs killed at seeded random moments in [0.2 s, clean run's
    wall time], each resumed to completion and compared image by image with the clean run."""
    use_ranks = 0 if mode == "process" else ranks
    clean = os.path.join(workdir, f"clean-{mode}.h5")
    r = run_ok(generate_cmd(clean, args, ranks=use_ranks))
    duration = max(r.seconds, 0.5)
    want = image_hashes(clean)
    rng = random.Random(seed)
    for k in range(kills):
        delay = rng.uniform(0.2, duration)
        out = os.path.join(workdir, f"{mode}-{k}.h5")
        what = kill_once(mode, out, args, delay, rng, ranks=ranks)
        try:
            left = after_kill_state(out)
        except Failure as e:
            r = run(generate_cmd(out, args, ranks=use_ranks, resume=True))
            raise Failure(f"{mode} kill {k}: {what} at {delay:.2f} s: {e}; --resume then gives "
                          f"exit {r.rc}: {r.err.strip()}") from e
        results = recover(out, args, use_ranks)
        try:
            compare_hashes(image_hashes(out), want, f"{mode} kill {k} at {delay:.2f} s ({left})")
        except Failure as e:
            raise Failure(f"{e}; {what}") from e
        validate(out)
        stats.kills += 1
        stats.images += len(want)
        stats.saw(left)
        log(f"  {mode} kill {k}: {what} at {delay:.2f} s left {left}; "
            f"{len(results)} resume run(s)", flush=True)
        for path in (out, partial(out)):
            if os.path.exists(path):
                os.remove(path)
    os.remove(clean)


def kill_at_creation(out, args, after_s):
    """kill -9 `after_s` seconds after OUT.partial appears (a busy wait, so as soon as it can),
    then --resume until complete. Returns what the kill left."""
    p = Started(generate_cmd(out, args))
    while p.running() and not os.path.exists(partial(out)):
        pass
    if after_s:
        time.sleep(after_s)
    if not p.running():
        r = p.finish()
        check(r.rc == 0, "run meant to be killed failed first: " + r.describe())
        return "finished before the kill"
    p.kill_group()
    p.finish()
    size = os.path.getsize(partial(out)) if os.path.exists(partial(out)) else -1
    try:
        left = after_kill_state(out)
    except Failure as e:
        r = run(generate_cmd(out, args, resume=True))
        raise Failure(f"kill -9 {after_s * 1000:.0f} ms after '{partial(out)}' appeared left it "
                      f"unreadable ({size} bytes; {e}); --resume then gives exit {r.rc}: "
                      f"{r.err.strip()}") from e
    recover(out, args, 0)
    return left
