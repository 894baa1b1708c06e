"""Shared helpers of the integration tests: run the binary, make scratch directories and card
images, read datasets with h5py, compare two datasets image by image, and a small test runner.

The tests get their environment from CTest (tests/CMakeLists.txt): CARDSYNTH_BIN (the binary),
CARDSYNTH_SOURCE_DIR, CARDSYNTH_MPIEXEC (mpiexec and its flags) and CARDSYNTH_TEST_TMP.
"""

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import h5py
import numpy as np

SKIP = 77
SOURCE_DIR = os.environ.get(
    "CARDSYNTH_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "python"))
import cardsynth  # noqa: E402
import validate_dataset  # noqa: E402

# Attributes that must agree between two runs of the same content (not created_utc).
CONTENT_ATTRS = ("schema", "seed", "num_images", "width", "height", "max_cards", "storage",
                 "masks", "channel_order", "complete")
# A small frame keeps every run to a second or two on a 2-core machine.
SMALL = ["--width", "320", "--height", "240"]
RUN_TIMEOUT_S = 170


class TestFailure(Exception):
    pass


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def binary():
    path = os.environ.get("CARDSYNTH_BIN")
    if not path:
        skip("CARDSYNTH_BIN is not set (run through ctest, or set it to the built cardsynth)")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"CARDSYNTH_BIN '{path}' is not an executable")
    return path


def mpiexec():
    """The mpiexec command and its flags, as a list; skips when there is none."""
    words = shlex.split(os.environ.get("CARDSYNTH_MPIEXEC", ""))
    if not words or not shutil.which(words[0]):
        skip("CARDSYNTH_MPIEXEC is not set or its mpiexec is not installed")
    return words


def scratch(name):
    """A fresh, empty directory for one test, under CARDSYNTH_TEST_TMP when it is set."""
    root = os.environ.get("CARDSYNTH_TEST_TMP") or tempfile.gettempdir()
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    path = os.path.join(root, "integration", script, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


class Result:
    def __init__(self, args, rc, stdout, stderr):
        self.args, self.rc, self.stdout, self.stderr = args, rc, stdout, stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def error_lines(self):
        return [l for l in self.stderr.splitlines() if l.startswith("cardsynth: error:")]

    def warning_lines(self):
        return [l for l in self.output.splitlines() if l.startswith("warning:")]

    def describe(self):
        tail = "\n".join((self.stdout + self.stderr).splitlines()[-15:])
        return f"`{' '.join(self.args)}` exited {self.rc}:\n{tail}"


def run(args, ranks=None, env=None, cwd=None, timeout=RUN_TIMEOUT_S, prefix=None):
    """Runs cardsynth with `args` (under mpiexec -n `ranks` when given); returns a Result."""
    cmd = list(prefix or [])
    if ranks is not None:
        cmd += mpiexec() + ["-n", str(ranks)]
    cmd += [binary()] + [str(a) for a in args]
    full_env = dict(os.environ)
    for k, v in (env or {}).items():  # None removes a variable
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    p = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=cwd,
                       timeout=timeout)
    return Result(cmd, p.returncode, p.stdout, p.stderr)


def generate(out, *args, ranks=None, env=None, cwd=None, quiet=True):
    """`cardsynth generate -o out args...` that must succeed; returns its Result."""
    r = run(["generate", "-o", out] + (["--quiet"] if quiet else []) + list(args), ranks=ranks,
            env=env, cwd=cwd)
    check(r.rc == 0, "generate failed: " + r.describe())
    return r


def validate(path):
    """Fails with the validator's problems unless `path` meets the cardsynth/1 contract."""
    problems = validate_dataset.validate(path)
    check(not problems, f"{path} does not validate: " + "; ".join(problems[:5]))


def stored_bytes(path):
    """Every image's stored bytes (the JPEG/PNG file, or the raw pixels), in index order."""
    with cardsynth.Dataset(path) as ds:
        return [ds.image_bytes(i) for i in range(len(ds))]


def image_hashes(path):
    return [hashlib.sha256(b).hexdigest() for b in stored_bytes(path)]


def labels(path):
    """path -> numpy array of every /labels array, whole."""
    with h5py.File(path, "r") as f:
        return {c["name"]: f["labels/" + c["name"]][()]
                for c in cardsynth.label_columns(f)}


def attrs(path):
    with h5py.File(path, "r") as f:
        return {k: cardsynth.text(f.attrs[k]) if isinstance(f.attrs[k], (bytes, np.bytes_))
                else f.attrs[k] for k in f.attrs}


def dataset_differences(a, b, limit=5):
    """Where datasets `a` and `b` differ: attributes, card table, stored bytes of every image,
    every label array (bit for bit) and the masks; an empty list when they are equal."""
    found = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for k in CONTENT_ATTRS:
            va, vb = fa.attrs.get(k), fb.attrs.get(k)
            if not np.array_equal(np.asarray(va), np.asarray(vb)):
                found.append(f"attribute {k}: {va!r} vs {vb!r}")
        for name in ("cards/name", "cards/source", "cards/rank", "cards/weight"):
            if not np.array_equal(fa[name][()], fb[name][()]):
                found.append(f"/{name} differs")
        names = [c["name"] for c in cardsynth.label_columns(fa)]
        if names != [c["name"] for c in cardsynth.label_columns(fb)]:
            found.append("the label columns differ")
        for name in names:
            x, y = fa["labels/" + name][()], fb["labels/" + name][()]
            if x.shape != y.shape:
                found.append(f"/labels/{name}: shapes {x.shape} vs {y.shape}")
                continue
            # Bit for bit, so that -0.0 vs 0.0 or a last-digit change counts.
            xb = x.view(np.uint8).reshape(x.shape[0], -1)
            yb = y.view(np.uint8).reshape(y.shape[0], -1)
            rows = np.flatnonzero((xb != yb).any(axis=1))
            if rows.size:
                found.append(f"/labels/{name} differs in {rows.size} images (first: {rows[0]})")
        if ("masks" in fa) != ("masks" in fb):
            found.append("/masks present in only one file")
        elif "masks" in fa:
            rows = [i for i in range(fa["masks"].shape[0])
                    if not np.array_equal(fa["masks"][i], fb["masks"][i])]
            if rows:
                found.append(f"/masks differs in {len(rows)} images (first: {rows[0]})")
    ha, hb = image_hashes(a), image_hashes(b)
    if len(ha) != len(hb):
        found.append(f"{len(ha)} vs {len(hb)} images")
    else:
        rows = [i for i, (x, y) in enumerate(zip(ha, hb)) if x != y]
        if rows:
            found.append(f"stored image bytes differ in {len(rows)} of {len(ha)} images "
                         f"(first: {rows[0]})")
    return found[:limit]


def check_same(a, b):
    diff = dataset_differences(a, b)
    check(not diff, f"'{a}' and '{b}' differ: " + "; ".join(diff))


def make_card(path, color, size=(126, 176), kind=None):
    """A small card image: a coloured face with a stripe, so that it is not flat."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, size[0] - 9, 30], fill=(255 - color[0], 255 - color[1], 255 - color[2]))
    draw.ellipse([20, 50, size[0] - 20, size[1] - 40], outline=(0, 0, 0), width=3)
    image.save(path, format=kind)


def make_cards(directory, count=4, ext="png"):
    """`count` card images named card0.<ext>... in `directory`; returns their paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i in range(count):
        color = ((60 * i + 40) % 256, (90 * i + 120) % 256, (150 + 30 * i) % 256)
        p = os.path.join(directory, f"card{i}.{ext}")
        make_card(p, color, kind="JPEG" if ext in ("jpg", "jpeg") else "PNG")
        paths.append(p)
    return paths


def require_pil():
    try:
        import PIL  # noqa: F401
    except ImportError:
        skip("Pillow is missing for this python (Debian: apt-get install python3-pil)")


def run_tests(tests, expected_failures=None):
    """Runs each test function; prints PASS/FAIL per test and "N passed, M failed"; exits 1 when
    any failed. `expected_failures` maps a test name to the known bug that makes it fail: such a
    test prints XFAIL and does not fail the script, and prints XPASS once the bug is fixed."""
    expected_failures = expected_failures or {}
    # A test function written but left out of the list would never run, and pass unseen.
    listed = {test.__name__ for test in tests}
    script = vars(sys.modules["__main__"])
    unlisted = sorted(name for name, f in script.items() if name.startswith("test_") and
                      callable(f) and getattr(f, "__module__", None) == "__main__" and
                      name not in listed)
    if unlisted:
        print(f"FAIL run_tests: defined but not in the list given to run_tests: "
              f"{', '.join(unlisted)}", flush=True)
        sys.exit(1)
    binary()
    passed = failed = 0
    for test in tests:
        name = test.__name__
        t0 = time.monotonic()
        try:
            test()
        except Exception as e:  # a crash in a test is a failure of that test, not of the rest
            reason = str(e) if isinstance(e, TestFailure) else traceback.format_exc()
            if name in expected_failures:
                print(f"XFAIL {name}: {expected_failures[name]} ({reason.splitlines()[0]})",
                      flush=True)
                passed += 1
            else:
                print(f"FAIL {name}: {reason}", flush=True)
                failed += 1
            continue
        note = " (XPASS: the known bug is fixed; drop the expected failure)" \
            if name in expected_failures else ""
        print(f"PASS {name} ({time.monotonic() - t0:.1f} s){note}", flush=True)
        passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
