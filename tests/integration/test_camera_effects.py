#!/usr/bin/python3
"""The camera's effects (scene.camera): white balance, exposure, gamma, saturation, motion blur and
the per-image JPEG quality.

Off (the defaults, or the keys written out at their defaults) the file is byte for byte the file
of a run without them. On, every stored frame differs from the frame without them, while the
labels and masks stay bit for bit the same (the effects change pixels, never geometry). The
output does not depend on the thread count. The JPEG quality drawn per image is the quality the
frame is stored at with storage jpeg (read back from the quantisation table of each stored
file), and with raw or png storage the stored pixels carry that compression.
"""
import os

import h5py
import numpy as np

from cslib import (SMALL, check, check_same, generate, image_hashes, labels, run, run_tests,
                   scratch, stored_bytes)
import cardsynth

COMMON = ["-n", "6", "--seed", "3"] + SMALL
COLOUR = ["--set", "scene.camera.white_balance=0.15", "--set", "scene.camera.exposure=[-0.7, 0.7]",
          "--set", "scene.camera.gamma=[0.7, 1.4]", "--set", "scene.camera.saturation=[0.5, 1.5]"]
MOTION = ["--set", "scene.camera.motion_blur=[4, 12]"]
DEFAULTS = ["--set", "scene.camera.white_balance=0", "--set", "scene.camera.exposure=[0, 0]",
            "--set", "scene.camera.gamma=[1, 1]", "--set", "scene.camera.saturation=[1, 1]",
            "--set", "scene.camera.jpeg_quality=[0, 0]", "--set", "scene.camera.motion_blur=[0, 0]"]

# libjpeg's luminance quantisation table (JPEG Annex K), in natural order.
LUMINANCE = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
             14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
             18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
             49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34,
          27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
          44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]


def quality_table(q):
    """The luminance table libjpeg writes for quality q (jpeg_quality_scaling), zigzag order."""
    scale = 5000 // q if q < 50 else 200 - 2 * q
    natural = [min(255, max(1, (v * scale + 50) // 100)) for v in LUMINANCE]
    return [natural[z] for z in ZIGZAG]


def jpeg_quality(data):
    """The quality 1..100 whose luminance table the JPEG `data` carries (its first DQT table)."""
    at = data.find(b"\xff\xdb")
    check(at >= 0, "a stored JPEG has no quantisation table")
    check(data[at + 4] == 0, "the first quantisation table is not an 8-bit table 0")
    table = list(data[at + 5:at + 5 + 64])
    found = [q for q in range(1, 101) if quality_table(q) == table]
    check(found, "a stored JPEG's table matches no libjpeg quality")
    return found[0]


def make(name, *args, storage="raw", threads=2):
    path = os.path.join(scratch(name), "out.h5")
    generate(path, *COMMON, "--threads", str(threads), "--storage", storage, *args)
    return path


def frames(path):
    with h5py.File(path, "r") as f:
        if "images" in f:
            return f["images"][()]
    with cardsynth.Dataset(path) as ds:
        return np.stack([ds.image(i) for i in range(len(ds))])


def check_same_geometry(a, b, what):
    la, lb = labels(a), labels(b)
    for name in la:
        check(la[name].tobytes() == lb[name].tobytes(), f"{what}: /labels/{name} changed")
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        check(np.array_equal(fa["masks"][()], fb["masks"][()]), f"{what}: /masks changed")
        check(int(fa["labels/count"][()].sum()) > 0, f"{what}: no cards at all")


def check_every_frame_differs(a, b, what, at_least=0.5):
    fa, fb = frames(a).astype(np.int16), frames(b).astype(np.int16)
    for i in range(len(fa)):
        mean = np.abs(fa[i] - fb[i]).mean()
        check(mean >= at_least, f"{what}: image {i} differs by only {mean:.3f} grey levels")


def test_off_is_the_file_without_the_keys():
    plain = make("plain", "--masks")
    spelled = make("spelled", "--masks", *DEFAULTS)
    check_same(plain, spelled)


def test_colour_changes_pixels_and_keeps_labels_and_masks():
    plain = make("plain", "--masks")
    colour = make("colour", "--masks", *COLOUR)
    check_every_frame_differs(colour, plain, "colour", at_least=2.0)
    check_same_geometry(colour, plain, "colour")


def test_motion_blur_changes_pixels_and_keeps_labels_and_masks():
    plain = make("plain", "--masks")
    motion = make("motion", "--masks", *MOTION)
    check_every_frame_differs(motion, plain, "motion blur")
    check_same_geometry(motion, plain, "motion blur")


def test_jpeg_storage_is_encoded_at_the_drawn_quality():
    drawn = make("drawn", "--set", "scene.camera.jpeg_quality=[20, 60]", storage="jpeg")
    qualities = [jpeg_quality(b) for b in stored_bytes(drawn)]
    check(all(20 <= q <= 60 for q in qualities), f"qualities {qualities} leave [20, 60]")
    check(len(set(qualities)) > 1, f"one quality {qualities[0]} for every image")
    default = make("default", storage="jpeg")
    check(all(jpeg_quality(b) == 90 for b in stored_bytes(default)),
          "without the key, frames are not stored at output.jpeg_quality 90")
    # A fixed drawn quality compresses once: the bytes of output.jpeg_quality at that value.
    fixed = make("fixed", "--set", "scene.camera.jpeg_quality=[35, 35]", storage="jpeg")
    same = make("same", "--jpeg-quality", "35", storage="jpeg")
    check(image_hashes(fixed) == image_hashes(same),
          "camera quality 35 is not stored as output.jpeg_quality 35 would store it")
    check_same_geometry_no_masks(fixed, default)


def check_same_geometry_no_masks(a, b):
    la, lb = labels(a), labels(b)
    for name in la:
        check(la[name].tobytes() == lb[name].tobytes(), f"/labels/{name} changed")


def blockiness(images):
    """Mean step across the 8-pixel JPEG block edges over the mean step elsewhere (columns)."""
    steps = np.abs(np.diff(images.astype(np.int16), axis=2)).mean(axis=(0, 1, 3))
    edges = steps[7::8]
    inside = np.delete(steps, np.arange(7, len(steps), 8))
    return edges.mean() / inside.mean()


def test_raw_and_png_frames_carry_the_drawn_compression():
    plain = make("plain")
    low = make("low", "--set", "scene.camera.jpeg_quality=[10, 10]")
    high = make("high", "--set", "scene.camera.jpeg_quality=[95, 95]")
    fp, fl, fh = (frames(p).astype(np.int16) for p in (plain, low, high))
    low_error, high_error = np.abs(fl - fp).mean(), np.abs(fh - fp).mean()
    check(0 < high_error < low_error,
          f"JPEG error at quality 95 {high_error:.3f}, at 10 {low_error:.3f}")
    check(blockiness(fl) > 1.2, f"quality 10 shows no 8x8 blocks ({blockiness(fl):.2f})")
    check(blockiness(fp) < 1.1, f"the frames without JPEG are blocky ({blockiness(fp):.2f})")
    check_same_geometry_no_masks(low, plain)
    # PNG stores the same compressed frame that raw storage does.
    png = make("png", "--set", "scene.camera.jpeg_quality=[10, 10]", storage="png")
    check(np.array_equal(frames(png), frames(low)), "png and raw store different frames")


def test_all_effects_do_not_depend_on_the_thread_count():
    everything = COLOUR + MOTION + ["--set", "scene.camera.jpeg_quality=[30, 80]"]
    for storage in ("raw", "jpeg"):
        two = make(f"two_{storage}", "--masks", *everything, storage=storage)
        one = make(f"one_{storage}", "--masks", *everything, storage=storage, threads=1)
        check_same(two, one)
        again = make(f"again_{storage}", "--masks", *everything, storage=storage)
        check_same(two, again)


def test_bad_values_are_refused_naming_the_key():
    for setting, needle in (("scene.camera.jpeg_quality=[0, 50]", "[0, 50]"),
                            ("scene.camera.gamma=[0.1, 1]", "[0.1, 1]"),
                            ("scene.camera.white_balance=0.9", "0.9"),
                            ("scene.camera.motion_blur=[5, 2]", "[5, 2]"),
                            ("scene.camera.lens_distortion=[-0.1, 0.1]", "[-0.1, 0.1]"),
                            ("scene.camera.lens_distortion=[-0.5, 0]", "[-0.5, 0]")):
        key = setting.split("=")[0]
        out = os.path.join(scratch("bad"), "out.h5")
        r = run(["generate", "-o", out, "-n", "1", *SMALL, "--set", setting])
        check(r.rc == 2, f"{setting}: exit {r.rc}, not 2: " + r.describe())
        errors = r.error_lines()
        check(len(errors) == 1 and key in errors[0] and needle in errors[0],
              f"{setting}: error lines {errors}")
        check(not os.path.exists(out), f"{setting}: an output was written")


if __name__ == "__main__":
    run_tests([
        test_off_is_the_file_without_the_keys,
        test_colour_changes_pixels_and_keeps_labels_and_masks,
        test_motion_blur_changes_pixels_and_keeps_labels_and_masks,
        test_jpeg_storage_is_encoded_at_the_drawn_quality,
        test_raw_and_png_frames_carry_the_drawn_compression,
        test_all_effects_do_not_depend_on_the_thread_count,
        test_bad_values_are_refused_naming_the_key,
    ])
