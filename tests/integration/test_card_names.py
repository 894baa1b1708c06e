#!/usr/bin/python3
"""Card names that are not UTF-8 are stored as UTF-8, their bytes kept beside them.

A card file named in Latin-1 ("caf\\xe9.png") ends up in /cards/name as valid UTF-8 ("caf" and
U+FFFD), its own bytes in /cards/name_bytes and /cards/source_bytes; the validator passes, the
Python reader returns both, `inspect` and a COCO export with one class per card read the file.
Popularity names match card names ignoring case beyond ASCII ("ÉCLAIR" is "éclair"). The
validator refuses a /cards/name that is not UTF-8, and a file made before the new columns still
reads.
"""
import json
import os
import shutil

import h5py
import numpy as np

from cslib import SMALL, check, make_card, make_cards, require_pil, run, run_tests, scratch

import cardsynth  # noqa: E402 (cslib puts python/ and scripts/ on the path)
import validate_dataset  # noqa: E402

LATIN1 = b"caf\xe9"  # "café" in Latin-1: not UTF-8


def make_dataset(name):
    """A dataset over cards named in Latin-1, UTF-8 and ASCII; returns (dir, file, cards)."""
    require_pil()
    d = scratch(name)
    cards = os.path.join(d, "cards")
    make_cards(cards, 2)
    make_card(os.fsencode(cards) + b"/" + LATIN1 + b".png", (200, 40, 40), kind="PNG")
    make_card(os.path.join(cards, "éclair.png"), (40, 200, 40))
    make_card(os.path.join(cards, "жар-птица.png"), (40, 40, 200))
    table = os.path.join(d, "pop.csv")
    with open(table, "w", encoding="utf-8") as f:
        f.write("name,rank\nÉCLAIR,1\nЖАР-ПТИЦА,2\nCARD0,3\ncard1,4\n")
    out = os.path.join(d, "out.h5")
    r = run(["generate", "-o", out, "-n", "8", *SMALL, "--quiet", "--card-dirs", cards,
             "--popularity", table, "--use-popularity-weights"])
    check(r.rc == 0, r.describe())
    return d, out, cards


def latin1_row(f):
    raw = [bytes(row).rstrip(b"\0") for row in f["cards/source_bytes"][()]]
    rows = [i for i, b in enumerate(raw) if b.endswith(b"/" + LATIN1 + b".png")]
    check(len(rows) == 1, f"no single /cards/source_bytes row for the Latin-1 card: {raw}")
    return rows[0]


def test_names_are_utf8_and_their_bytes_round_trip():
    _, out, cards = make_dataset("utf8")
    with h5py.File(out, "r") as f:
        for column in ("cards/name", "cards/source"):
            for i, value in enumerate(f[column][()]):
                try:
                    bytes(value).decode("utf-8")
                except UnicodeDecodeError:
                    check(False, f"/{column}[{i}] is not UTF-8: {bytes(value)!r}")
        i = latin1_row(f)
        check(bytes(f["cards/name"][i]).decode() == "caf\ufffd",
              f"/cards/name of the Latin-1 card is {bytes(f['cards/name'][i])!r}")
        check(bytes(f["cards/name_bytes"][i]).rstrip(b"\0") == LATIN1,
              f"/cards/name_bytes is {bytes(f['cards/name_bytes'][i])!r}")
        check(bytes(f["cards/source_bytes"][i]).rstrip(b"\0") ==
              os.fsencode(cards) + b"/" + LATIN1 + b".png", "/cards/source_bytes differs")
    problems = validate_dataset.validate(out)
    check(not problems, "the validator refuses the file: " + "; ".join(problems[:3]))
    with cardsynth.Dataset(out) as ds:
        table = ds.cards
        check(LATIN1 in table["name_bytes"], f"the reader's name_bytes: {table['name_bytes']}")
        check("caf\ufffd" in table["name"], f"the reader's names: {table['name']}")
        check(all(n.encode("utf-8") == b for n, b in zip(table["name"], table["name_bytes"])
                  if b != LATIN1), "a UTF-8 name and its bytes differ")


def test_popularity_names_match_ignoring_case_beyond_ascii():
    _, out, _ = make_dataset("fold")
    with cardsynth.Dataset(out) as ds:
        ranks = dict(zip(ds.cards["name"], ds.cards["rank"].tolist()))
    check(ranks.get("éclair") == 1, f"'ÉCLAIR' did not rank 'éclair': {ranks}")
    check(ranks.get("жар-птица") == 2, f"'ЖАР-ПТИЦА' did not rank 'жар-птица': {ranks}")
    check(ranks.get("card0") == 3 and ranks.get("card1") == 4, f"ASCII names: {ranks}")


def test_commands_read_the_names():
    d, out, _ = make_dataset("commands")
    r = run(["inspect", out])
    check(r.rc == 0, "inspect: " + r.describe())
    coco = os.path.join(d, "coco")
    r = run(["export", out, "--format", "coco", "--out", coco, "--classes", "name",
             "--split", "train=1", "--quiet"])
    check(r.rc == 0, "export --classes name: " + r.describe())
    names = set()
    for root, _, files in os.walk(coco):
        for name in files:
            if name.endswith(".json"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    names |= {c["name"] for c in json.load(f)["categories"]}
    check({"caf\ufffd", "éclair"} <= names, f"the COCO categories: {sorted(names)}")


def test_validator_refuses_names_that_are_not_utf8():
    d, out, _ = make_dataset("refuse")
    bad = os.path.join(d, "bad.h5")
    shutil.copyfile(out, bad)
    with h5py.File(bad, "r+") as f:
        names = f["cards/name"][()]
        names[latin1_row(f)] = LATIN1
        f["cards/name"][...] = names
    problems = validate_dataset.validate(bad)
    check(any("/cards/name" in p and "UTF-8" in p for p in problems),
          f"the validator did not refuse a Latin-1 /cards/name: {problems}")


def test_a_file_without_the_new_columns_still_reads():
    d, out, _ = make_dataset("old")
    old = os.path.join(d, "old.h5")
    shutil.copyfile(out, old)
    with h5py.File(old, "r+") as f:
        for name in ("cards/name_bytes", "cards/source_bytes", "cards/file_size",
                     "cards/file_mtime_ns", "cards/file_hash", "popularity"):
            del f[name]
    problems = validate_dataset.validate(old)
    check(not problems, "the validator refuses an older file: " + "; ".join(problems[:3]))
    with cardsynth.Dataset(old) as ds:
        table = ds.cards
        check(table["name_bytes"] == [n.encode() for n in table["name"]],
              f"an older file's name_bytes: {table['name_bytes']}")
        check("file_hash" not in table and ds.popularity_table is None,
              "an older file reads with an input record")
    with cardsynth.Dataset(out) as ds:
        check(ds.popularity_table is not None and
              ds.popularity_table["source"].endswith("pop.csv") and
              ds.popularity_table["file_size"] == os.path.getsize(os.path.join(d, "pop.csv")),
              f"the popularity table record: {ds.popularity_table}")
        check(np.all(ds.cards["file_size"] > 0), "a card file recorded with size 0")
    r = run(["inspect", old])
    check(r.rc == 0, "inspect of an older file: " + r.describe())


if __name__ == "__main__":
    run_tests([test_names_are_utf8_and_their_bytes_round_trip,
               test_popularity_names_match_ignoring_case_beyond_ascii,
               test_commands_read_the_names,
               test_validator_refuses_names_that_are_not_utf8,
               test_a_file_without_the_new_columns_still_reads])
