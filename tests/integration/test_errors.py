#!/usr/bin/python3
"""Bad inputs stop `cardsynth generate` clearly: a non-zero exit (2 for a usage, configuration
or input error), exactly one "cardsynth: error:" line on stderr naming the culprit (directory,
file, file:line, key), warnings naming each skipped file, and no output left behind (neither
OUT nor OUT.partial). An existing output is never replaced without --overwrite.
"""
import hashlib
import os
import shlex
import shutil

from cslib import (SMALL, check, generate, make_cards, require_pil, run, run_tests, scratch,
                   validate)

QUICK = ["-n", "4", *SMALL, "--quiet"]


def no_output(out):
    for p in (out, out + ".partial"):
        check(not os.path.exists(p), f"'{p}' was left behind")


def expect_error(out, args, names, code=2):
    """Runs generate into `out` expecting exit `code`, one error line containing every string
    of `names`, and no output file; returns the Result."""
    r = run(["generate", "-o", out] + QUICK + list(args))
    check(r.rc == code, f"exit {r.rc}, expected {code}: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1, f"{len(errors)} 'cardsynth: error:' lines, expected 1: "
          + r.describe())
    for name in names:
        check(name in errors[0], f"error line does not name {name!r}: {errors[0]}")
    no_output(out)
    return r


def test_missing_card_dir():
    d = scratch("missing_dir")
    missing = os.path.join(d, "no_such_cards")
    expect_error(os.path.join(d, "out.h5"), ["--card-dirs", missing], [missing])


def test_card_dir_without_images():
    d = scratch("no_images")
    cards = os.path.join(d, "cards")
    os.makedirs(cards)
    with open(os.path.join(cards, "readme.txt"), "w") as fh:
        fh.write("not a card\n")
    expect_error(os.path.join(d, "out.h5"), ["--card-dirs", cards], [cards, "no usable"])


def broken_cards(directory):
    os.makedirs(directory, exist_ok=True)
    empty = os.path.join(directory, "empty.jpg")
    open(empty, "wb").close()
    text = os.path.join(directory, "text.png")
    with open(text, "w") as fh:
        fh.write("this is not a PNG file\n")
    return [empty, text]


def test_only_broken_images():
    d = scratch("broken")
    cards = os.path.join(d, "cards")
    bad = broken_cards(cards)
    r = expect_error(os.path.join(d, "out.h5"), ["--card-dirs", cards], [cards])
    warnings = r.warning_lines()
    for path in bad:
        check(any(path in w for w in warnings), f"no warning names '{path}': {warnings}")


def test_strict_with_one_bad_file():
    require_pil()
    d = scratch("strict")
    cards = os.path.join(d, "cards")
    make_cards(cards, 3)
    bad = os.path.join(cards, "zz_bad.jpg")
    open(bad, "wb").close()
    expect_error(os.path.join(d, "out.h5"), ["--card-dirs", cards, "--strict"], [bad])


def test_bad_file_without_strict_warns():
    require_pil()
    d = scratch("lenient")
    cards = os.path.join(d, "cards")
    good = make_cards(cards, 3)
    bad = os.path.join(cards, "zz_bad.jpg")
    open(bad, "wb").close()
    out = os.path.join(d, "out.h5")
    r = generate(out, "-n", "4", *SMALL, "--card-dirs", cards)
    check(any(bad in w for w in r.warning_lines()), "no warning names the bad file: "
          + r.describe())
    check(not r.error_lines(), "an error line on a successful run: " + r.describe())
    validate(out)
    from cslib import cardsynth
    with cardsynth.Dataset(out) as ds:
        sources = ds.cards["source"]
    check(len(sources) == len(good), f"catalog has {len(sources)} cards, expected {len(good)}")
    check(all(os.path.basename(s).startswith("card") for s in sources),
          f"catalog sources are {sources}")


def test_missing_popularity_file():
    require_pil()
    d = scratch("popularity_missing")
    cards = os.path.join(d, "cards")
    make_cards(cards, 2)
    missing = os.path.join(d, "no_such_popularity.csv")
    expect_error(os.path.join(d, "out.h5"), ["--card-dirs", cards, "--popularity", missing],
                 [missing])


def test_malformed_popularity_csv():
    require_pil()
    d = scratch("popularity_bad")
    cards = os.path.join(d, "cards")
    make_cards(cards, 3)
    csv = os.path.join(d, "popularity.csv")
    with open(csv, "w") as fh:
        fh.write("file,rank\ncard0.png,1\ncard1.png,not-a-rank\ncard2.png,3\n")
    expect_error(os.path.join(d, "out.h5"), ["--card-dirs", cards, "--popularity", csv],
                 [f"{csv}:3", "not-a-rank"])


def test_bad_key_in_config_file():
    d = scratch("config_key")
    config = os.path.join(d, "run.yaml")
    with open(config, "w") as fh:
        fh.write("seed: 3\nscene:\n  max_cardz: 9\n")
    r = expect_error(os.path.join(d, "out.h5"), ["--config", config],
                     ["scene.max_cardz", "scene.max_cards", config])
    check("did you mean" in r.error_lines()[0], "no did-you-mean: " + r.error_lines()[0])


def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_existing_output_needs_overwrite():
    d = scratch("exists")
    out = os.path.join(d, "out.h5")
    generate(out, "-n", "3", *SMALL, "--seed", "1")
    before, mtime = digest(out), os.stat(out).st_mtime_ns
    r = run(["generate", "-o", out, "--seed", "2"] + QUICK)
    check(r.rc == 2, f"exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1 and out in errors[0] and "--overwrite" in errors[0],
          f"error lines {errors}")
    check(digest(out) == before and os.stat(out).st_mtime_ns == mtime,
          "the existing output was modified")
    check(not os.path.exists(out + ".partial"), "a .partial was created")

    r = generate(out, "-n", "5", *SMALL, "--seed", "2", "--overwrite")
    check(digest(out) != before, "--overwrite did not replace the file")
    validate(out)
    from cslib import attrs
    a = attrs(out)
    check(int(a["num_images"]) == 5 and int(a["seed"]) == 2, f"replaced file has {a}")
    check(not os.path.exists(out + ".partial"), "a .partial was left behind")


def test_existing_partial_needs_resume_or_overwrite():
    d = scratch("partial")
    out = os.path.join(d, "out.h5")
    part = out + ".partial"
    with open(part, "wb") as fh:
        fh.write(b"an interrupted run")
    before = digest(part)
    r = run(["generate", "-o", out] + QUICK)
    check(r.rc == 2, f"exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1 and part in errors[0] and "--resume" in errors[0],
          f"error lines {errors}")
    check(digest(part) == before, "the existing .partial was modified")
    check(not os.path.exists(out), "OUT was created")


def test_missing_output_dir():
    d = scratch("no_out_dir")
    missing = os.path.join(d, "no_such_dir")
    out = os.path.join(missing, "out.h5")
    expect_error(out, [], [missing])
    check(not os.path.exists(missing), "the missing output directory was created")


def test_empty_popularity_selection():
    # A rank range that keeps no card leaves nothing to draw: an error, not an empty run. (The
    # range applies to weighted sampling, as in the legacy scripts.)
    require_pil()
    d = scratch("popularity_none")
    cards = os.path.join(d, "cards")
    make_cards(cards, 3)
    csv = os.path.join(d, "popularity.csv")
    with open(csv, "w") as fh:
        fh.write("file,rank\ncard0.png,10\ncard1.png,20\ncard2.png,30\n")
    expect_error(os.path.join(d, "out.h5"),
                 ["--card-dirs", cards, "--popularity", csv, "--use-popularity-weights",
                  "--popularity-max", "5"], ["--popularity-max"])


def test_error_under_mpi_is_said_once():
    # Every rank agrees on the error; only rank 0 says it, and the exit code survives mpiexec.
    words = shlex.split(os.environ.get("CARDSYNTH_MPIEXEC", ""))
    if not words or not shutil.which(words[0]):
        print("note: no mpiexec; the MPI error case is skipped")
        return
    d = scratch("mpi")
    missing = os.path.join(d, "no_such_cards")
    out = os.path.join(d, "out.h5")
    r = run(["generate", "-o", out] + QUICK + ["--card-dirs", missing], ranks=2)
    check(r.rc == 2, f"exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1 and missing in errors[0], f"error lines {errors}: " + r.describe())
    no_output(out)
    r = run(["generate", "-o", out] + QUICK + ["--set", "scene.max_cards=300"], ranks=3)
    check(r.rc == 2, f"exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1 and "scene.max_cards" in errors[0], f"error lines {errors}")
    no_output(out)


if __name__ == "__main__":
    run_tests([
        test_missing_card_dir,
        test_card_dir_without_images,
        test_only_broken_images,
        test_strict_with_one_bad_file,
        test_bad_file_without_strict_warns,
        test_missing_popularity_file,
        test_malformed_popularity_csv,
        test_bad_key_in_config_file,
        test_existing_output_needs_overwrite,
        test_existing_partial_needs_resume_or_overwrite,
        test_missing_output_dir,
        test_empty_popularity_selection,
        test_error_under_mpi_is_said_once,
    ])
