#!/usr/bin/env python3
"""Regression guard: a fixed set of configurations must keep producing the same bytes.

tests/data/output_hashes.json holds, per configuration, the SHA-256 of every image's stored bytes
(raw pixels, or the JPEG/PNG file), of its masks, and of every label column of that image. The
file was made by the version before a change meant to leave the output alone; this test makes the
same datasets again and names the first configuration, image and column that differ.

    test_output_hashes.py            compare with the stored hashes
    test_output_hashes.py --write    store the hashes of the current binary (after a change that is
                                     meant to change the output, and says so in its commit)
"""

import hashlib
import json
import os
import sys

import h5py

import cslib

HASHES = os.path.join(cslib.SOURCE_DIR, "tests", "data", "output_hashes.json")
COMMON = ["-n", "6", "--seed", "11", "--threads", "2"] + cslib.SMALL
# Every storage kind, both scene kinds, masks, and a tilted camera (the perspective path); all
# but the last with the default global effects.
CONFIGS = {
    "raw_random": ["--storage", "raw", "--set", "scene.perspective=0.4"],
    "jpeg_random": ["--storage", "jpeg"],
    "jpeg_table": ["--storage", "jpeg", "--scene", "table"],
    "png_masks_random": ["--storage", "png", "--masks"],
    "png_masks_table": ["--storage", "png", "--masks", "--scene", "table"],
    # The global effects off (as in W1): a change to the effects alone must leave these bytes.
    "raw_masks_no_effects": ["--storage", "raw", "--masks", "--set", "scene.effects.lighting=0",
                             "--set", "scene.effects.shadow=0", "--set", "scene.effects.glare=0",
                             "--set", "scene.effects.noise=0"],
    # A table of cards from one built-in deck each: the draws of scene.same_deck.
    "jpeg_same_deck_table": ["--storage", "jpeg", "--scene", "table",
                             "--set", "scene.same_deck=1"],
    # One built-in playmat of each kind and 60 images: the six above show only some of them.
    "raw_every_playmat": ["--storage", "raw", "--set", "num_images=60",
                          "--set", "backgrounds.builtin_count=12"],
}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def dataset_hashes(path):
    """Per image: {"image": hash, "masks": hash, "labels/<column>": hash, ...}."""
    images = cslib.stored_bytes(path)
    with h5py.File(path, "r") as f:
        columns = sorted(f["labels"].keys())
        rows = []
        for i, data in enumerate(images):
            row = {"image": sha(data)}
            if "masks" in f:
                row["masks"] = sha(f["masks"][i].tobytes())
            for c in columns:
                row["labels/" + c] = sha(f["labels/" + c][i].tobytes())
            rows.append(row)
    return rows


def make_all():
    out = cslib.scratch("datasets")
    result = {}
    for name, args in CONFIGS.items():
        path = os.path.join(out, name + ".h5")
        cslib.generate(path, *(COMMON + args))
        result[name] = dataset_hashes(path)
    return result


def first_difference(expected, actual):
    for name in CONFIGS:
        want, got = expected.get(name), actual[name]
        if want is None:
            return f"{name}: no stored hashes (run with --write)"
        if len(want) != len(got):
            return f"{name}: {len(got)} images, {len(want)} stored"
        for i, (w, g) in enumerate(zip(want, got)):
            for key in sorted(set(w) | set(g)):
                if w.get(key) != g.get(key):
                    return f"{name}: image {i}: {key} differs from the stored hash"
    return None


def test_output_matches_stored_hashes():
    with open(HASHES) as f:
        expected = json.load(f)
    difference = first_difference(expected, make_all())
    cslib.check(difference is None, str(difference))


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        cslib.binary()
        os.makedirs(os.path.dirname(HASHES), exist_ok=True)
        with open(HASHES, "w") as f:
            json.dump(make_all(), f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {HASHES}")
    else:
        cslib.run_tests([test_output_matches_stored_hashes])
