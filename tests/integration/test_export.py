#!/usr/bin/env python3
"""`cardsynth export`: every format's files read back as Ultralytics and COCO read them, and give
the dataset's own labels, image bytes and splits; bad input is refused before anything is written.
"""

import io
import json
import os
import shutil

import h5py
import numpy as np

import cslib
from cslib import check

FORMATS = ("yolo-detect", "yolo-obb", "yolo-pose", "yolo-seg", "coco")
COLUMNS = {"yolo-detect": 5, "yolo-obb": 9, "yolo-pose": 17}
M64 = (1 << 64) - 1
_files = {}


def dataset(kind):
    """A small dataset of `kind`, made once: jpeg+masks, jpeg (table), png+masks, raw (table)."""
    if kind not in _files:
        args = {"jpeg-masks": ["--masks"],
                "jpeg": ["--scene", "table", "--set", "scene.min_visible=0.3"],
                "png-masks": ["--storage", "png", "--masks"],
                "raw": ["--storage", "raw", "--scene", "table"]}[kind]
        path = os.path.join(cslib.scratch("data-" + kind), kind + ".h5")
        cslib.generate(path, "-n", "12", "--seed", "7", *cslib.SMALL, *args)
        _files[kind] = path
    return _files[kind]


def read(path):
    """Header, labels, stored image bytes, masks and min_visible of a dataset, with h5py."""
    import yaml
    with h5py.File(path, "r") as f:
        d = {k: f.attrs[k] for k in ("seed", "width", "height", "storage", "num_images")}
        d["storage"] = d["storage"].decode()
        d["labels"] = {k: f["labels/" + k][()] for k in f["labels"]}
        d["names"] = [n.decode() for n in f["cards/name"][()]]
        d["masks"] = f["masks"][()] if "masks" in f else None
        if d["storage"] == "raw":
            d["bytes"] = None
        else:
            data, off, size = f["images_encoded"], f["images_offset"][()], f["images_size"][()]
            d["bytes"] = [data[int(o):int(o) + int(s)].tobytes() for o, s in zip(off, size)]
        config = yaml.safe_load(f["config"][()].decode())
        d["min_visible"] = float(config["scene"]["min_visible"])
    return d


def kept(d, i):
    """Slots of image i that the export labels, in slot order."""
    lab = d["labels"]
    out = []
    for k in range(int(lab["count"][i])):
        b = lab["bbox"][i, k]
        if lab["visible_fraction"][i, k] >= d["min_visible"] and b[2] > b[0] and b[3] > b[1]:
            out.append(k)
    return out


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def expected_split(seed, i, parts):
    u = (splitmix64(int(seed) ^ splitmix64(i)) >> 11) * 2.0 ** -53
    total = 0.0
    for name, fraction in parts[:-1]:
        total += fraction
        if total > u:
            return name
    return parts[-1][0]


def export(path, fmt, out, *args, expect=0):
    r = cslib.run(["export", path, "--format", fmt, "--out", out, "--quiet"] + list(args))
    check(r.rc == expect, r.describe())
    return r


def image_files(out):
    """split -> {index: file name} of DIR/images."""
    found = {}
    for split in sorted(os.listdir(os.path.join(out, "images"))):
        names = os.listdir(os.path.join(out, "images", split))
        found[split] = {int(n.split(".")[0]): n for n in names}
    return found


def check_images(d, out, files, seed_parts):
    ext = {"jpeg": "jpg", "png": "png", "raw": "jpg"}[d["storage"]]
    seen = sorted(i for split in files.values() for i in split)
    check(seen == list(range(d["num_images"])), f"images exported: {seen}")
    for split, names in files.items():
        for i, name in names.items():
            check(name == f"{i:06d}.{ext}", f"image file name {name}")
            check(expected_split(d["seed"], i, seed_parts) == split, f"image {i} in {split}")
            data = open(os.path.join(out, "images", split, name), "rb").read()
            if d["bytes"] is not None:
                check(data == d["bytes"][i], f"{name}: bytes differ from the stored ones")
            else:
                from PIL import Image
                im = Image.open(io.BytesIO(data))
                check(im.format == "JPEG" and im.size == (d["width"], d["height"]),
                      f"{name}: not a {d['width']}x{d['height']} JPEG")


def check_data_yaml(out, fmt, names, splits):
    import yaml
    y = yaml.safe_load(open(os.path.join(out, "data.yaml")))
    check(y["path"] == os.path.abspath(out), f"data.yaml path {y['path']}")
    for s in splits:
        check(y[s] == f"images/{s}", f"data.yaml {s}: {y.get(s)}")
    check(y["names"] == dict(enumerate(names)), "data.yaml names")
    if fmt == "yolo-pose":
        check(y["kpt_shape"] == [4, 3] and y["flip_idx"] == [1, 0, 3, 2], "pose keys")


def yolo_rows(out, files):
    """index -> list of label rows (floats), checking Ultralytics' rules on the way."""
    rows = {}
    for split, names in files.items():
        labels = sorted(os.listdir(os.path.join(out, "labels", split)))
        check(labels == sorted(n.split(".")[0] + ".txt" for n in names.values()),
              f"labels/{split} and images/{split} differ")
        for i, name in names.items():
            text = open(os.path.join(out, "labels", split, name.split(".")[0] + ".txt")).read()
            rows[i] = [[float(v) for v in line.split()] for line in text.splitlines()]
    return rows


def close(a, b, tol):
    return np.all(np.abs(np.asarray(a, float) - np.asarray(b, float)) <= tol)


def check_yolo_line(fmt, d, i, k, row, class_count):
    lab, w, h = d["labels"], d["width"], d["height"]
    where = f"{fmt} image {i} slot {k}: {row}"
    n = COLUMNS.get(fmt)
    check(len(row) == n if n else (len(row) % 2 == 1 and len(row) >= 7), where + ": columns")
    values = [v for j, v in enumerate(row[1:]) if fmt != "yolo-pose" or j < 4 or j % 3 != 0]
    check(all(0 <= v <= 1 for v in values), where + ": value outside [0, 1]")
    check(row[0] == int(row[0]) and 0 <= row[0] < class_count, where + ": class id")
    x0, y0, x1, y1 = lab["bbox"][i, k]
    box = [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]
    corners = lab["corners"][i, k] / [w, h]
    if fmt in ("yolo-detect", "yolo-pose"):
        check(close(row[1:5], box, 1e-4), where + f": box, expected {box}")
    if fmt == "yolo-pose":
        kp = np.array(row[5:]).reshape(4, 3)
        vis = lab["corner_visible"][i, k]
        check(list(kp[:, 2]) == list(vis), where + ": visibility")
        check(close(kp[vis > 0, :2], corners[vis > 0], 1e-4), where + ": corners")
        check(np.all(kp[vis == 0, :2] == 0), where + ": hidden corner not 0 0")
    if fmt == "yolo-obb" and np.all((corners >= 0) & (corners <= 1)):
        check(close(np.array(row[1:]).reshape(4, 2), corners, 1e-4), where + ": corners")
    if fmt == "yolo-seg":
        # The outline of the largest visible piece, through pixel centres: inside the box, and
        # on the card's own pixels where the file has masks.
        poly = np.array(row[1:]).reshape(-1, 2) * [w, h]
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        # The text holds 6 decimals: a point on the box's edge (a piece one pixel wide is drawn
        # out to its pixel's edges) may read up to half a unit of the last place outside it.
        slack = 1e-6 * max(w, h)
        inside = np.all(lo >= np.array([x0, y0]) - slack) and \
            np.all(hi <= np.array([x1, y1]) + slack)
        check(inside, where + ": outside the box")
        if d["masks"] is not None:
            px = np.clip(np.round(poly - 0.5).astype(int), 0, [w - 1, h - 1])
            box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            check(np.all(d["masks"][i][px[:, 1], px[:, 0]] == k + 1) or close(poly, box, 1e-3),
                  where + ": off the mask")


def check_yolo(d, out, fmt, files, class_count):
    rows = yolo_rows(out, files)
    for i in range(d["num_images"]):
        slots = kept(d, i)
        check(len(rows[i]) == len(slots), f"{fmt} image {i}: {len(rows[i])} lines, "
                                          f"{len(slots)} cards kept")
        for k, row in zip(slots, rows[i]):
            check_yolo_line(fmt, d, i, k, row, class_count)


def rle_decode(counts_string, h, w):
    """pycocotools' rleFrString and rleDecode: the mask as a bool array [h, w]."""
    counts, p, s = [], 0, counts_string.encode()
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = s[p] - 48
            x |= (c & 0x1f) << (5 * k)
            more = bool(c & 0x20)
            p, k = p + 1, k + 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    flat = np.zeros(h * w, bool)
    pos = 0
    for j, c in enumerate(counts):
        flat[pos:pos + c] = j % 2 == 1
        pos += c
    check(pos == h * w, f"RLE covers {pos} pixels, not {h * w}")
    return flat.reshape(w, h).T


def check_coco(d, out, files, class_count):
    lab, w, h = d["labels"], d["width"], d["height"]
    ids = set()
    for split, names in files.items():
        doc = json.load(open(os.path.join(out, "annotations", split + ".json")))
        check({im["id"]: im["file_name"] for im in doc["images"]} == names, "COCO images")
        check(all(im["width"] == w and im["height"] == h for im in doc["images"]), "image size")
        check(len(doc["categories"]) == class_count, "categories")
        check(doc["categories"][0]["keypoints"] ==
              ["top_left", "top_right", "bottom_right", "bottom_left"], "keypoint names")
        by_image = {}
        for a in doc["annotations"]:
            check(a["id"] not in ids, f"annotation id {a['id']} twice")
            ids.add(a["id"])
            by_image.setdefault(a["image_id"], []).append(a)
        for i in names:
            anns, slots = by_image.get(i, []), kept(d, i)
            check(len(anns) == len(slots), f"COCO image {i}: {len(anns)} annotations")
            for k, a in zip(slots, anns):
                check_annotation(d, i, k, a, class_count)


def check_annotation(d, i, k, a, class_count):
    lab, w, h = d["labels"], d["width"], d["height"]
    where = f"COCO image {i} slot {k}"
    x0, y0, x1, y1 = lab["bbox"][i, k]
    check(close(a["bbox"], [x0, y0, x1 - x0, y1 - y0], 0.5), where + ": bbox")
    check(0 <= a["category_id"] < class_count and a["iscrowd"] == 0, where + ": category")
    check(a["card_id"] == lab["card_id"][i, k], where + ": card_id")
    check(a["card_name"] == d["names"][a["card_id"]], where + ": card_name")
    kp = np.array(a["keypoints"]).reshape(4, 3)
    vis = lab["corner_visible"][i, k]
    check(list(kp[:, 2]) == list(vis) and a["num_keypoints"] == int((vis > 0).sum()),
          where + ": keypoint visibility")
    check(close(kp[vis > 0, :2], lab["corners"][i, k][vis > 0], 0.5), where + ": keypoints")
    seg = a["segmentation"]
    if d["masks"] is not None:
        check(seg["size"] == [h, w], where + ": RLE size")
        mask = rle_decode(seg["counts"], h, w)
        expected = d["masks"][i] == k + 1
        check(np.array_equal(mask, expected), where + ": RLE differs from /masks")
        check(a["area"] == int(expected.sum()), where + ": area")
    else:
        check(len(seg) == 1 and len(seg[0]) >= 6 and len(seg[0]) % 2 == 0, where + ": polygon")
        check(0 < a["area"] <= w * h, where + ": area")


def check_export(kind, fmt, classes="card"):
    path = dataset(kind)
    d = read(path)
    out = cslib.scratch(f"{kind}-{fmt}-{classes}")
    export(path, fmt, out, "--overwrite", "--classes", classes)
    parts = [("train", 0.9), ("val", 0.1)]
    files = image_files(out)
    check(set(files) == {"train", "val"}, f"split directories {sorted(files)}")
    check_images(d, out, files, parts)
    names = ["card"] if classes == "card" else d["names"]
    if fmt == "coco":
        check_coco(d, out, files, len(names))
    else:
        check_data_yaml(out, fmt, names, ["train", "val"])
        check_yolo(d, out, fmt, files, len(names))


def make_check(kind, fmt, classes="card"):
    def test():
        check_export(kind, fmt, classes)
    test.__name__ = f"test_{fmt.replace('-', '_')}_{kind.replace('-', '_')}_{classes}"
    return test


def test_split_is_stable_across_exports_and_threads():
    path = dataset("jpeg-masks")
    outs = []
    for n, threads in enumerate(("1", "2", "2")):
        out = cslib.scratch(f"stable-{n}")
        export(path, "coco", out, "--overwrite", "--threads", threads, "--split",
               "train=0.5,val=0.3,test=0.2")
        outs.append(out)
    listing = [image_files(o) for o in outs]
    check(listing[0] == listing[1] == listing[2], "the split differs between exports")
    docs = [open(os.path.join(o, "annotations", "train.json")).read() for o in outs]
    check(docs[0] == docs[1] == docs[2], "COCO JSON differs between thread counts")
    d = read(path)
    check_images(d, outs[0], listing[0], [("train", 0.5), ("val", 0.3), ("test", 0.2)])


def refused(args, out, what):
    before = sorted(os.listdir(out)) if os.path.isdir(out) else None
    r = cslib.run(["export"] + args + ["--out", out])
    check(r.rc == 2, f"{what}: " + r.describe())
    check(len(r.error_lines()) == 1, f"{what}: expected one error line: " + r.describe())
    after = sorted(os.listdir(out)) if os.path.isdir(out) else None
    check(before == after, f"{what}: --out changed: {before} -> {after}")


def test_bad_input_is_refused_and_writes_nothing():
    good = dataset("jpeg")
    tmp = cslib.scratch("bad")
    out = os.path.join(tmp, "out")
    foreign = os.path.join(tmp, "foreign.h5")
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(4)
    refused([foreign, "--format", "coco"], out, "non-cardsynth HDF5")
    partial = os.path.join(tmp, "run.h5.partial")
    shutil.copy(good, partial)
    refused([partial, "--format", "coco"], out, ".partial")
    unfinished = os.path.join(tmp, "unfinished.h5")
    shutil.copy(good, unfinished)
    with h5py.File(unfinished, "a") as f:
        f.attrs["complete"] = np.uint8(0)
    refused([unfinished, "--format", "coco"], out, "complete = 0")
    r = cslib.run(["export", unfinished, "--format", "coco", "--out", out])
    check("--resume" in r.stderr, "the error does not name --resume: " + r.stderr)
    refused([good, "--format", "yolo-foo"], out, "unknown format")
    refused([good, "--format", "coco", "--split", "train=0.8,val=0.1"], out, "bad split")
    refused([good, "--format", "coco", "--classes", "color"], out, "bad classes")
    refused([os.path.join(tmp, "missing.h5"), "--format", "coco"], out, "missing file")
    check(not os.path.exists(out), "--out was created")
    os.makedirs(out)
    open(os.path.join(out, "notes.txt"), "w").write("mine")
    refused([good, "--format", "coco"], out, "non-empty --out")
    export(good, "yolo-detect", out, "--overwrite")
    check(open(os.path.join(out, "notes.txt")).read() == "mine", "--overwrite removed a file "
                                                                  "it did not write")


def test_help_lists_the_formats():
    r = cslib.run(["export", "--help"])
    check(r.rc == 0 and all(f in r.stdout for f in FORMATS), r.describe())


if __name__ == "__main__":
    cslib.require_pil()
    tests = [make_check(kind, fmt) for kind in ("jpeg-masks", "jpeg", "png-masks", "raw")
             for fmt in FORMATS]
    tests += [make_check("jpeg-masks", "yolo-detect", "name"), make_check("jpeg", "coco", "name")]
    tests += [test_split_is_stable_across_exports_and_threads,
              test_bad_input_is_refused_and_writes_nothing, test_help_lists_the_formats]
    cslib.run_tests(tests)
