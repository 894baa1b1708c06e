#!/usr/bin/python3
"""The built-in content at the transfer settings (configs/transfer.yaml): the same bytes on 1 and 2
ranks and threads; distractors change the pixels and never the labels; the labels match the masks
(the visible box is the tight box of a card's mask pixels, a card with no mask pixel has visible
fraction 0); objects over the cards hide card pixels, never add any, and the labels follow; the
new keys (scene.blur_fraction, backgrounds.distractors) are checked and kept in
/config."""
import os

import h5py
import numpy as np
import yaml

from cslib import (SOURCE_DIR, check, check_same, generate, labels, run, run_tests, scratch,
                   validate)

CONFIG = os.path.join(SOURCE_DIR, "configs", "transfer.yaml")
BASE = ["--config", CONFIG, "--seed", "4", "--set", "cards.builtin_count=300"]
COMMON = BASE + ["-n", "13"]


def test_ranks_and_threads_give_the_same_file():
    d = scratch("ranks")
    base = os.path.join(d, "np1_t1.h5")
    generate(base, *COMMON, "--threads", "1", "--masks")
    validate(base)
    for ranks, threads in ((1, 2), (2, 1)):
        out = os.path.join(d, f"np{ranks}_t{threads}.h5")
        generate(out, *COMMON, "--threads", str(threads), "--masks", ranks=ranks)
        check_same(base, out)


def test_distractors_change_pixels_not_labels():
    d = scratch("distractors")
    none = os.path.join(d, "none.h5")
    many = os.path.join(d, "many.h5")
    generate(none, *COMMON, "--set", "backgrounds.distractors=0", "--storage", "raw")
    generate(many, *COMMON, "--set", "backgrounds.distractors=6", "--storage", "raw")
    a, b = labels(none), labels(many)
    for name in a:
        check(np.array_equal(a[name], b[name]), f"labels/{name} changed with the distractors")
    with h5py.File(none, "r") as fa, h5py.File(many, "r") as fb:
        differ = sum(not np.array_equal(fa["images"][i], fb["images"][i]) for i in range(13))
    check(differ >= 10, f"only {differ} of 13 images changed with 6 distractors per frame")


def labels_match_masks(path):
    """The visible box of every card is the tight box of its mask pixels, and a card with no
    mask pixel has visible fraction 0 and no corner seen; returns how many cards had pixels."""
    checked = 0
    with h5py.File(path, "r") as f:
        count = f["labels/count"][()]
        bbox = f["labels/bbox"][()]
        frac = f["labels/visible_fraction"][()]
        vis = f["labels/corner_visible"][()]
        for i in range(len(count)):
            mask = f["masks"][i]
            for k in range(int(count[i])):
                ys, xs = np.nonzero(mask == k + 1)
                if len(xs) == 0:
                    check(frac[i, k] == 0, f"image {i} card {k}: no pixel, fraction {frac[i, k]}")
                    check(not (vis[i, k] == 2).any(), f"image {i} card {k}: no pixel, corner seen")
                    continue
                tight = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                check(list(bbox[i, k]) == tight,
                      f"image {i} card {k}: bbox {list(bbox[i, k])}, mask box {tight}")
                check(0 < frac[i, k] <= 1, f"image {i} card {k}: fraction {frac[i, k]}")
                checked += 1
    return checked


def test_labels_match_the_masks():
    out = os.path.join(scratch("truth"), "truth.h5")
    generate(out, *BASE, "-n", "40", "--masks", "--storage", "png",
             "--set", "scene.blur_fraction=[0.0, 0.02]")
    validate(out)
    checked = labels_match_masks(out)
    check(checked > 100, f"only {checked} cards checked")


def test_objects_over_cards_hide_them_and_the_labels_follow():
    d = scratch("occluders")
    off, on = os.path.join(d, "off.h5"), os.path.join(d, "on.h5")
    generate(off, *COMMON, "--masks", "--storage", "raw")
    generate(on, *COMMON, "--masks", "--storage", "raw", "--set", "scene.occluders=[2, 4]")
    validate(on)
    check(labels_match_masks(on) > 30, "too few cards with pixels under the objects")
    a, b = labels(off), labels(on)
    for name in ("count", "card_id", "corners", "bbox_full"):
        check(np.array_equal(a[name], b[name]), f"labels/{name} changed with objects over cards")
    check((b["visible_fraction"] <= a["visible_fraction"] + 1e-6).all(),
          "an object over the cards made a card more visible")
    check(not ((b["corner_visible"] == 2) & (a["corner_visible"] != 2)).any(),
          "an object over the cards uncovered a corner")
    hidden = changed_images = 0
    with h5py.File(off, "r") as fa, h5py.File(on, "r") as fb:
        for i in range(13):
            ma, mb = fa["masks"][i], fb["masks"][i]
            # Objects take pixels from cards and give none: a changed slot becomes background.
            check(not ((ma != mb) & (mb != 0)).any(), f"image {i}: an object changed a card's id")
            hidden += int((ma != mb).sum())
            changed_images += not np.array_equal(fa["images"][i], fb["images"][i])
            for k in range(int(b["count"][i])):
                seen_a, seen_b = (ma == k + 1).sum(), (mb == k + 1).sum()
                fa_k, fb_k = a["visible_fraction"][i, k], b["visible_fraction"][i, k]
                # The fraction is capped at 1: a whole card's pixel count can pass its exact
                # area by a few edge pixels, and losing those leaves it at 1.
                capped = fa_k == fb_k == 1.0 and seen_a - seen_b <= 0.01 * seen_a
                check(seen_b == seen_a or fb_k < fa_k or capped,
                      f"image {i} card {k}: {seen_a - seen_b} fewer pixels seen, the same "
                      f"visible fraction {fb_k}")
    check(changed_images >= 12, f"only {changed_images} of 13 images show objects")
    check(hidden > 500, f"objects hid only {hidden} card pixels in 13 images")


def test_new_keys_are_checked_and_recorded():
    d = scratch("keys")
    for key, value in (("scene.blur_fraction", "[0.05, 0.01]"),
                       ("scene.blur_fraction", "[0, 0.5]"),
                       ("backgrounds.distractors", "-1"),
                       ("backgrounds.distractors", "21"),
                       ("backgrounds.builtin_count", "-1"),
                       ("backgrounds.builtin_count", "1001"),
                       ("scene.occluders", "[0.5, 2]"),
                       ("scene.occluders", "[0, 21]")):
        r = run(["generate", "-o", os.path.join(d, "bad.h5"), *COMMON, "--set",
                 f"{key}={value}"])
        check(r.rc == 2 and key in r.stderr, f"{key}={value} not refused: " + r.describe())
    out = os.path.join(d, "good.h5")
    generate(out, *COMMON, "--set", "scene.blur_fraction=[0.001, 0.03]",
             "--set", "backgrounds.distractors=3.5")
    with h5py.File(out, "r") as f:
        text = f["config"][()]
    config = yaml.safe_load(text.decode() if isinstance(text, bytes) else text)
    check(config["scene"]["blur_fraction"] == [0.001, 0.03],
          f"/config scene.blur_fraction is {config['scene'].get('blur_fraction')}")
    check(config["backgrounds"]["distractors"] == 3.5,
          f"/config backgrounds.distractors is {config['backgrounds'].get('distractors')}")


if __name__ == "__main__":
    run_tests([test_new_keys_are_checked_and_recorded, test_ranks_and_threads_give_the_same_file,
               test_distractors_change_pixels_not_labels, test_labels_match_the_masks,
               test_objects_over_cards_hide_them_and_the_labels_follow])
