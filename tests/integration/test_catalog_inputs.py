#!/usr/bin/python3
"""Catalog inputs that cannot mean what they say are not taken silently: a popularity table with
a header and no rows, one matching no card, or one with two rows for one card is an error (exit
2, naming the file and the counts) with --strict and a warning otherwise; a card directory given
twice ("d ./d", "d d") is read once, with one warning, so each card is in /cards once.
"""
import os

import h5py

from cslib import SMALL, check, make_cards, require_pil, run, run_tests, scratch

QUICK = ["-n", "4", *SMALL, "--quiet"]


def setup(name, table):
    require_pil()
    d = scratch(name)
    cards = os.path.join(d, "cards")
    make_cards(cards, 4)
    csv = os.path.join(d, "pop.csv")
    with open(csv, "w") as f:
        f.write(table)
    return d, cards, csv


def generate(d, args, cwd=None):
    return run(["generate", "-o", os.path.join(d, "out.h5"), "--overwrite"] + QUICK + args,
               cwd=cwd)


def check_strict_and_lenient(name, table, names):
    d, cards, csv = setup(name, table)
    args = ["--card-dirs", cards, "--popularity", csv, "--use-popularity-weights"]
    r = generate(d, args + ["--strict"])
    check(r.rc == 2, f"--strict: exit {r.rc}, expected 2: " + r.describe())
    errors = r.error_lines()
    check(len(errors) == 1 and all(n in errors[0] for n in [csv] + names),
          f"the error does not name {[csv] + names}: " + r.describe())
    r = generate(d, args)
    check(r.rc == 0, "without --strict: " + r.describe())
    warnings = [w for w in r.warning_lines() if csv in w]
    check(len(warnings) == 1 and all(n in warnings[0] for n in names),
          f"no one warning naming {[csv] + names}: " + r.describe())


def test_empty_table():
    check_strict_and_lenient("empty", "file,rank\n", ["no rows"])


def test_table_matching_no_card():
    check_strict_and_lenient("nomatch", "file,rank\nother1.png,1\nother2.png,2\n",
                             ["none of the 2 rows", "4 cards"])


def test_duplicate_rows():
    table = "file,rank\ncard0.png,1\ncard1.png,2\ncard2.png,3\ncard3.png,4\ncard0.png,5\n"
    check_strict_and_lenient("duplicates", table, ["1 row", "5 rows", "card0.png"])


def check_dirs_once(name, second):
    require_pil()
    d = scratch(name)
    make_cards(os.path.join(d, "d"), 4)
    r = generate(d, ["--card-dirs", "d", second], cwd=d)
    check(r.rc == 0, "generate failed: " + r.describe())
    warnings = [w for w in r.warning_lines() if "card directory" in w]
    check(len(warnings) == 1 and second in warnings[0],
          f"expected one warning naming '{second}': " + r.describe())
    with h5py.File(os.path.join(d, "out.h5"), "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["cards/name"][()]]
    check(sorted(names) == [f"card{i}" for i in range(4)], f"/cards/name is {names}")


def test_same_directory_by_two_names():
    check_dirs_once("dot_dir", "./d")


def test_same_directory_twice():
    check_dirs_once("twice", "d")


if __name__ == "__main__":
    run_tests([test_empty_table, test_table_matching_no_card, test_duplicate_rows,
               test_same_directory_by_two_names, test_same_directory_twice])
