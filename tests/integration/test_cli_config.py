#!/usr/bin/python3
"""Bad configuration through the command line stops `cardsynth generate` before anything is
written: exit 2, exactly one "cardsynth: error:" line on stderr that names the key (or flag),
and no output file. Each bad value is tried with --set KEY=VALUE and in a --config YAML file;
the flags themselves are checked too, with --help, --version and an unknown flag.
"""
import concurrent.futures
import os
import re

from cslib import SMALL, SOURCE_DIR, TestFailure, check, run, run_tests, scratch

QUICK = ["-n", "4", *SMALL, "--quiet"]

# (key, bad YAML value, text the error must contain besides the key)
BAD_VALUES = [
    ("scene.min_cards", "20", "scene.max_cards"),  # above max_cards 16
    ("frame.width", "0", "0"),
    ("frame.height", "20000", "20000"),
    ("output.jpeg_quality", "101", "101"),
    ("output.jpeg_quality", "0", "0"),
    ("scene.card_height", "[200, 100]", "200"),
    ("scene.rotation_deg", "[90, 10]", "90"),
    ("cards.weight_dampening_power", "0", "0"),
    ("cards.weight_dampening_power", "-1", "-1"),
    ("scene.perspective", "2", "2"),
    ("output.storage", "bmp", "bmp"),
    ("device", "tpu", "tpu"),
    ("threads", "0", "0"),
    ("threads", "many", "many"),
    ("scene.max_cards", "300", "300"),
    ("scene.blur_sigma", "[-1, 1]", "-1"),
    ("scene.blur_sigma", "[0, 100]", "100"),
    ("frame.width", "abc", "abc"),
    ("num_images", "0", "0"),
    ("num_images", "ten", "ten"),
    ("seed", "-1", "-1"),
    ("output.masks", "maybe", "maybe"),
    ("scene.card_height", "5", "5"),
    ("scene.overlap", "never", "never"),
    ("scene.kind", "circle", "circle"),
    ("scene.effects.glare", "2", "2"),
    ("scene.effects.noise", "-3", "-3"),
    ("scene.min_visible", "1.5", "1.5"),
    ("scene.same_deck", "2", "2"),
    ("cache_mb", "1", "1"),
    ("frame", "3", "frame"),
]


def expect_config_error(d, args, names, label, base_args=QUICK):
    out = os.path.join(d, "out.h5")
    r = run(["generate", "-o", out] + list(base_args) + list(args))
    check(r.rc == 2, f"{label}: exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1, f"{label}: {len(errors)} error lines, expected 1: " + r.describe())
    others = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("cardsynth: error:")]
    check(not others, f"{label}: other stderr lines: {others}")
    for name in names:
        check(name in errors[0], f"{label}: error does not name {name!r}: {errors[0]}")
    for p in (out, out + ".partial"):
        check(not os.path.exists(p), f"{label}: '{p}' was created")
    # Nothing is rendered before the configuration is checked.
    check("[plan]" not in r.stdout, f"{label}: the run got as far as its plan: " + r.describe())
    return errors[0]


def yaml_for(key, value, base=True):
    """A YAML document setting `key` (dotted) to `value`, over a small quick run (4 images of
    320x240) unless `base` is false, so that a case the program wrongly accepts stays quick."""
    tree = {"num_images": "4", "frame": {"width": "320", "height": "240"}} if base else {}
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value

    def emit(node, depth):
        lines = []
        for k, v in node.items():
            if isinstance(v, dict):
                lines.append("  " * depth + f"{k}:")
                lines += emit(v, depth + 1)
            else:
                lines.append("  " * depth + f"{k}: {v}")
        return lines

    return "\n".join(emit(tree, 0)) + "\n"


def expect_file_error(d, path, names, label):
    """expect_config_error for a --config file: no flag overrides what the file sets."""
    return expect_config_error(d, ["--config", path], names, label, base_args=["--quiet"])


def run_cases(cases):
    """Runs the cases (functions of no argument) a few at a time: most of a failing run is
    MPI start-up, spent waiting. Fails with every failure found."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(case) for case in cases]
        failures = []
        for f in futures:
            try:
                f.result()
            except TestFailure as e:
                failures.append(str(e))
    check(not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures))


def test_bad_values_with_set():
    d = scratch("set")
    check(len(BAD_VALUES) >= 20, "fewer than 20 cases")

    def case(i, key, value, text):
        sub = os.path.join(d, f"case{i}")
        os.makedirs(sub)
        return lambda: expect_config_error(sub, ["--set", f"{key}={value}"], [key, text],
                                           f"--set {key}={value}")

    run_cases([case(i, *c) for i, c in enumerate(BAD_VALUES)])


def test_bad_values_in_config_file():
    d = scratch("file")

    def case(i, key, value, text):
        sub = os.path.join(d, f"case{i}")
        os.makedirs(sub)
        path = os.path.join(sub, "config.yaml")
        with open(path, "w") as fh:
            fh.write(yaml_for(key, value))
        return lambda: expect_file_error(sub, path, [key, text], f"{path} ({key}: {value})")

    run_cases([case(i, *c) for i, c in enumerate(BAD_VALUES)])


def test_unknown_key_suggests():
    d = scratch("unknown")
    for bad, good in (("scene.min_cardz", "scene.min_cards"), ("frame.widht", "frame.width"),
                      ("output.storag", "output.storage"), ("sed", "seed")):
        line = expect_config_error(d, ["--set", f"{bad}=3"], [bad, good], f"--set {bad}")
        check("did you mean" in line, f"no suggestion: {line}")
        path = os.path.join(d, "unknown.yaml")
        with open(path, "w") as fh:
            fh.write(yaml_for(bad, "3"))
        line = expect_file_error(d, path, [bad, good, path], f"{path}: {bad}")
        check("did you mean" in line, f"no suggestion: {line}")


def test_malformed_yaml_names_line_and_column():
    d = scratch("malformed")
    path = os.path.join(d, "bad.yaml")
    with open(path, "w") as fh:
        fh.write("seed: 3\nscene:\n  card_height: [100, 200\n  max_cards: 9\n")
    line = expect_config_error(d, ["--config", path], [path], "malformed YAML")
    check(re.search(re.escape(path) + r":\d+:\d+", line), f"no file:line:column in: {line}")
    path2 = os.path.join(d, "tabs.yaml")
    with open(path2, "w") as fh:
        fh.write("scene:\n  min_cards: 3\n max_cards: 5\n")
    line = expect_config_error(d, ["--config", path2], [path2], "bad indentation")
    check(re.search(re.escape(path2) + r":\d+:\d+", line), f"no file:line:column in: {line}")


def test_malformed_set():
    d = scratch("bad_set")
    for bad in ("noequals", "=3", "scene.blur_sigma=[0,"):
        expect_config_error(d, ["--set", bad], [], f"--set {bad}")


def test_bad_flag_values():
    d = scratch("flags")
    cases = [
        (["--storage", "bmp"], ["--storage", "bmp"]),
        (["--device", "tpu"], ["--device", "tpu"]),
        (["--threads", "0"], ["--threads", "0"]),
        (["--threads", "-2"], ["--threads"]),
        (["--jpeg-quality", "101"], ["jpeg_quality", "101"]),
        (["--min-cards", "20"], ["min_cards"]),
        (["--max-cards", "300"], ["max_cards", "300"]),
        (["--dampening", "0"], ["weight_dampening_power"]),
        (["--scene", "circle"], ["circle"]),
        (["--cache-mb", "2"], ["cache_mb"]),
    ]
    for args, names in cases:
        expect_config_error(d, args, names, " ".join(args))


def test_scene_flag_error_names_the_flag():
    # The user typed --scene, not --set: the message must not send them looking for a --set.
    d = scratch("scene_flag")
    line = expect_config_error(d, ["--scene", "circle"], ["circle"], "--scene circle")
    check("--set" not in line and "--scene" in line, f"error names the wrong source: {line}")


def test_set_beats_flags_and_config():
    # Precedence: defaults < --config < flags < --set; a --set that fixes a bad flag wins.
    d = scratch("precedence")
    config = os.path.join(d, "c.yaml")
    with open(config, "w") as fh:
        fh.write("scene:\n  max_cards: 5\n")
    # The file's max_cards 5 is below the default min_cards 8: an error naming both.
    expect_config_error(d, ["--config", config], ["scene.min_cards", "5"], "file max_cards 5")
    out = os.path.join(d, "ok.h5")
    r = run(["generate", "-o", out, "--config", config, "--min-cards", "2"] + QUICK)
    check(r.rc == 0, "--min-cards 2 over a file's max_cards 5: " + r.describe())
    out2 = os.path.join(d, "ok2.h5")
    r = run(["generate", "-o", out2, "--jpeg-quality", "101", "--set", "output.jpeg_quality=80"]
            + QUICK)
    check(r.rc == 0, "--set did not override the flag: " + r.describe())


def test_help_lists_readme_flags():
    r = run(["generate", "--help"])
    check(r.rc == 0, r.describe())
    with open(os.path.join(SOURCE_DIR, "README.md")) as fh:
        readme = fh.read()
    table = [l for l in readme.splitlines() if l.startswith("| `-")]
    flags = set()
    for row in table:
        first = row.split("|")[1]
        flags.update(re.findall(r"`(--[a-z][a-z-]*)", first))
    check(len(flags) >= 25, f"only {len(flags)} flags found in the README table")
    missing = sorted(f for f in flags if not re.search(re.escape(f) + r"\b", r.stdout))
    check(not missing, f"generate --help does not list {missing}")
    for f in ("--use-popularity-weights", "--popularity-max", "--card-dirs", "--resume",
              "--threads", "--storage", "--masks"):
        check(f in flags and f in r.stdout, f"{f} missing")


def test_version_and_bad_flag():
    r = run(["--version"])
    check(r.rc == 0, r.describe())
    check(re.search(r"cardsynth \d+\.\d+\.\d+", r.stdout), "no version: " + r.describe())
    r = run(["generate", "--no-such-flag"])
    check(r.rc == 2, f"a bad flag exits {r.rc}, expected 2: " + r.describe())
    check("--no-such-flag" in r.stderr, "the bad flag is not named: " + r.describe())
    r = run(["no-such-command"])
    check(r.rc == 2, f"a bad subcommand exits {r.rc}, expected 2: " + r.describe())
    r = run([])
    check(r.rc == 2, f"no subcommand exits {r.rc}, expected 2: " + r.describe())
    d = scratch("missing_config")
    missing = os.path.join(d, "nope.yaml")
    r = run(["generate", "--config", missing, "-o", os.path.join(d, "o.h5")])
    check(r.rc == 2 and missing in r.stderr, "a missing --config file: " + r.describe())
    check(not os.path.exists(os.path.join(d, "o.h5")), "output created")


if __name__ == "__main__":
    run_tests([
        test_bad_values_with_set,
        test_bad_values_in_config_file,
        test_unknown_key_suggests,
        test_malformed_yaml_names_line_and_column,
        test_malformed_set,
        test_bad_flag_values,
        test_scene_flag_error_names_the_flag,
        test_set_beats_flags_and_config,
        test_help_lists_readme_flags,
        test_version_and_bad_flag,
    ], expected_failures={
        "test_scene_flag_error_names_the_flag":
            "known bug: src/cli/main.cpp applies --scene as apply_set(\"scene.kind=...\"), so a "
            "bad value is reported as 'scene.kind in --set'",
    })
