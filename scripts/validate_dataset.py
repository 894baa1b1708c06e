#!/usr/bin/python3
"""Check a cardsynth HDF5 file against the cardsynth/1 contract (docs/FORMAT.md).

    validate_dataset.py FILE

Prints "OK: FILE (N images, storage S)" and exits 0, or prints one line per problem (the first
20) and exits 1. As a module: validate(path) returns the list of problems.
"""

import datetime
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
from cardsynth.reader import (DEFAULT_LABEL_COLUMNS, RECORD_COLUMNS, SCHEMA,  # noqa: E402
                              column_shape, decode, label_columns, text)

MAX_REPORTED = 20
BLOCK = 1024  # images read at a time, so that a large file is checked in bounded memory

REQUIRED_ATTRS = {
    "schema": "str",
    "generator_version": "str",
    "seed": "int",
    "num_images": "int",
    "width": "int",
    "height": "int",
    "max_cards": "int",
    "masks": "int",
    "channel_order": "str",
    "storage": "str",
    "complete": "int",
    "created_utc": "str",
}


def check_attributes(f):
    """Problems with the root attributes, and the attributes as Python values."""
    problems, values = [], {}
    for name, kind in REQUIRED_ATTRS.items():
        if name not in f.attrs:
            problems.append(f"attribute '{name}' is missing")
            continue
        value = f.attrs[name]
        if kind == "str":
            if not isinstance(value, (bytes, np.bytes_, str)):
                problems.append(f"attribute '{name}' is not a string")
                continue
            values[name] = text(value)
        else:
            if not np.issubdtype(np.asarray(value).dtype, np.integer):
                problems.append(f"attribute '{name}' is not an integer")
                continue
            values[name] = int(value)
    if "seed" in f.attrs and np.asarray(f.attrs["seed"]).dtype != np.uint64:
        problems.append(f"attribute 'seed' is {np.asarray(f.attrs['seed']).dtype}, expected uint64")
    if values.get("channel_order", "RGB") != "RGB":
        problems.append(f"channel_order is '{values['channel_order']}', expected 'RGB'")
    if values.get("storage", "raw") not in ("raw", "jpeg", "png"):
        problems.append(f"storage is '{values['storage']}', expected raw, jpeg or png")
    for name in ("num_images", "width", "height", "max_cards"):
        if name in values and values[name] < 1:
            problems.append(f"{name} is {values[name]}, expected at least 1")
    if "created_utc" in values:
        try:
            datetime.datetime.fromisoformat(values["created_utc"].replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"created_utc '{values['created_utc']}' is not ISO 8601")
    if values.get("complete") != 1 and "complete" in values:
        problems.append(f"complete is {values['complete']}: the run did not finish")
    return problems, values


def check_label_description(f, columns):
    """Problems of the label columns a file describes: every cardsynth/1 column must be there as
    the contract declares it, and every dataset under /labels must be described."""
    problems = []
    described = {c["name"]: c for c in columns}
    if len(described) != len(columns):
        problems.append("/labels: a column is described twice")
    for want in DEFAULT_LABEL_COLUMNS:
        got = described.get(want["name"])
        if got is None:
            problems.append(f"/labels: the column '{want['name']}' is not described")
        elif got != want:
            problems.append(f"/labels: the column '{want['name']}' is described as {got}, "
                            f"expected {want}")
    if "labels" in f:
        for name in f["labels"]:
            if name not in described:
                problems.append(f"/labels/{name} is not in the label description")
    return problems


def expected_datasets(a, num_cards, columns):
    """path -> (dtype, shape) that the contract and the label description require."""
    n, h, w, m = a["num_images"], a["height"], a["width"], a["max_cards"]
    want = {"labels/" + c["name"]: (np.dtype(c["dtype"]), column_shape(c, n, m))
            for c in columns}
    want.update({
        "cards/rank": (np.int32, (num_cards,)),
        "cards/weight": (np.float64, (num_cards,)),
        "done": (np.uint8, (n,)),
    })
    if a["storage"] == "raw":
        want["images"] = (np.uint8, (n, h, w, 3))
    else:
        want["images_encoded"] = (np.uint8, None)  # 1-D, any length
        want["images_offset"] = (np.uint64, (n,))
        want["images_size"] = (np.uint64, (n,))
    if a["masks"]:
        want["masks"] = (np.uint8, (n, h, w))
    return want


def check_layout(f, a, columns):
    problems = check_label_description(f, columns)
    if "config" not in f or not isinstance(f["config"], h5py.Dataset):
        problems.append("/config is missing")
    elif f["config"].dtype.kind not in ("S", "O") or f["config"].shape != ():
        problems.append("/config is not a scalar string")
    num_cards = None
    for name in ("cards/name", "cards/source"):
        if name not in f:
            problems.append(f"/{name} is missing")
            continue
        d = f[name]
        if d.dtype.kind != "S" or d.ndim != 1:
            problems.append(f"/{name} is {d.dtype} {d.shape}, expected fixed-length strings [C]")
        elif h5py.check_string_dtype(d.dtype) is None or \
                h5py.check_string_dtype(d.dtype).encoding != "utf-8":
            problems.append(f"/{name} is not UTF-8")
        num_cards = d.shape[0] if num_cards is None else num_cards
        if d.shape[0] != num_cards:
            problems.append(f"/{name} has {d.shape[0]} entries, /cards/name {num_cards}")
    for name, (dtype, shape) in expected_datasets(a, num_cards or 0, columns).items():
        if name not in f:
            problems.append(f"/{name} is missing")
            continue
        d = f[name]
        if d.dtype != np.dtype(dtype):
            problems.append(f"/{name} is {d.dtype}, expected {np.dtype(dtype)}")
        if shape is None:
            if d.ndim != 1:
                problems.append(f"/{name} has shape {d.shape}, expected one dimension")
        elif d.shape != shape and not (name.startswith("cards/") and num_cards is None):
            problems.append(f"/{name} has shape {d.shape}, expected {shape}")
    return problems, num_cards or 0


def check_text_column(g, name, rows):
    """/<group>/<name> holds valid UTF-8 in every entry and, when the file has <name>_bytes,
    equals those bytes with each ill-formed sequence replaced by U+FFFD (docs/FORMAT.md)."""
    where = f"/{g.name.strip('/')}/{name}"
    problems = []
    values = [bytes(v) for v in g[name][()]]
    for i, v in enumerate(values):
        try:
            v.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{where}[{i}] is not valid UTF-8 ({e.reason} at byte {e.start})")
            break
    raw_name = name + "_bytes"
    if raw_name not in g:
        return problems
    raw = g[raw_name]
    if raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[0] != rows:
        return problems + [f"{where}_bytes is {raw.dtype} {raw.shape}, expected uint8 [{rows}, L]"]
    for i, row in enumerate(raw[()]):
        want = bytes(row).rstrip(b"\0").decode("utf-8", errors="replace").encode("utf-8")
        if i < len(values) and values[i] != want:
            problems.append(f"{where}[{i}] is {values[i]!r}, but {where}_bytes[{i}] reads "
                            f"{want!r} as UTF-8")
            break
    return problems


def check_input_record(f, num_cards):
    """The input record: /cards/file_* (one entry per card) and /popularity (0 or 1 rows), all
    present or all absent (a file made before the record)."""
    cards = f["cards"]
    present = [c for c in RECORD_COLUMNS if c in cards]
    if not present:
        return []
    if len(present) != len(RECORD_COLUMNS):
        return [f"/cards has {', '.join(present)} but not all of {', '.join(RECORD_COLUMNS)}"]
    want = {"file_size": np.int64, "file_mtime_ns": np.int64, "file_hash": np.uint64}
    problems = []
    for group, rows in (("cards", num_cards), ("popularity", None)):
        if group not in f:
            return problems + ["/cards records its inputs, but /popularity is missing"]
        g = f[group]
        if group == "popularity":
            if "source" not in g or g["source"].ndim != 1 or g["source"].shape[0] > 1:
                return problems + ["/popularity/source is missing or not 0 or 1 strings"]
            rows = g["source"].shape[0]
            problems += check_text_column(g, "source", rows)
            if "source_bytes" not in g:
                problems.append("/popularity/source_bytes is missing")
        for column, dtype in want.items():
            if column not in g:
                problems.append(f"/{group}/{column} is missing")
            elif g[column].dtype != np.dtype(dtype) or g[column].shape != (rows,):
                problems.append(f"/{group}/{column} is {g[column].dtype} {g[column].shape}, "
                                f"expected {np.dtype(dtype)} ({rows},)")
    return problems


def check_cards(f, num_cards):
    problems = []
    for name in ("name", "source"):
        problems += check_text_column(f["cards"], name, num_cards)
    return problems + check_input_record(f, num_cards)


def check_padding(g, columns, lo, hi, written, unused, report):
    """Every per-slot column holds its padding in the slots past the image's count."""
    for c in columns:
        if c["per"] != "slot" or c["name"] == "card_id":  # card_id's own check says more
            continue
        values = g[c["name"]][lo:hi][written]
        differs = (values != np.asarray(c["padding"], dtype=values.dtype))
        if differs.ndim > 2:
            differs = differs.reshape(differs.shape[:2] + (-1,)).any(axis=2)
        report(f"labels/{c['name']} not {c['padding']:g} past count", unused & differs)


def check_labels(f, a, columns, num_cards, lo, hi, written):
    """Problems of the labels of images [lo, hi) whose `written` (their /done bit) is set."""
    g = f["labels"]
    w, h, m = a["width"], a["height"], a["max_cards"]
    image = lo + np.flatnonzero(written)
    count = g["count"][lo:hi][written].astype(np.int64)
    ids = g["card_id"][lo:hi][written]
    corners = g["corners"][lo:hi][written]
    visible = g["corner_visible"][lo:hi][written]
    bbox = g["bbox"][lo:hi][written]
    bbox_full = g["bbox_full"][lo:hi][written]
    fraction = g["visible_fraction"][lo:hi][written]
    slot = np.arange(m)[None, :]
    used = slot < count[:, None]
    unused = ~used
    found = []

    def report(what, bad):
        if bad.any():
            i, k = np.argwhere(bad)[0][:2]
            found.append(f"{what}: {int(bad.sum())} slots (first: image {image[i]} slot {k})")

    over = count > m
    if over.any():
        found.append(f"labels/count over max_cards {m}: {int(over.sum())} images "
                     f"(first: image {image[np.argmax(over)]})")
    report("labels/card_id not -1 past count", unused & (ids != -1))
    report(f"labels/card_id outside [0, {num_cards}) before count",
           used & ((ids < 0) | (ids >= num_cards)))
    report("labels/corners not finite", used & ~np.isfinite(corners).all(axis=(2, 3)))
    report("labels/corner_visible not in {0, 1, 2}", used & (visible > 2).any(axis=2))
    for name, box in (("bbox", bbox), ("bbox_full", bbox_full)):
        x0, y0, x1, y1 = (box[..., j] for j in range(4))
        outside = ~np.isfinite(box).all(axis=2) | (x0 < 0) | (y0 < 0) | (x1 > w) | (y1 > h)
        report(f"labels/{name} outside [0, {w}] x [0, {h}]", used & outside)
        report(f"labels/{name} with x0 > x1 or y0 > y1", used & ((x0 > x1) | (y0 > y1)))
    report("labels/visible_fraction outside [0, 1]",
           used & ~((fraction >= 0) & (fraction <= 1)))
    check_padding(g, columns, lo, hi, written, unused, report)

    if a["masks"]:
        masks = f["masks"][lo:hi][written]
        over = masks.reshape(len(image), -1).max(axis=1, initial=0) > count
        if over.any():
            found.append(f"masks above the image's count: {int(over.sum())} images "
                         f"(first: image {image[np.argmax(over)]})")
    return found


def check_encoded(f, a, lo, hi, written):
    """Problems of the encoded bytes of images [lo, hi) whose /done bit is set."""
    found = []
    total = f["images_encoded"].shape[0]
    offsets = f["images_offset"][lo:hi]
    sizes = f["images_size"][lo:hi]
    for j, (off, size) in enumerate(zip(offsets.tolist(), sizes.tolist())):
        if not written[j]:
            continue
        i = lo + j
        if size == 0 or off + size > total:
            found.append(f"image {i}: bytes [{off}, {off + size}) not within /images_encoded "
                         f"({total} bytes)")
            continue
        try:
            rgb = decode(f["images_encoded"][off:off + size])
        except Exception as e:  # Pillow raises several kinds for corrupt data
            found.append(f"image {i}: does not decode as {a['storage']} ({type(e).__name__})")
            continue
        if rgb.shape != (a["height"], a["width"], 3):
            found.append(f"image {i}: decodes to {rgb.shape}, expected "
                         f"{(a['height'], a['width'], 3)}")
    return found


def validate(path):
    """Every problem found in `path`, as one line each; empty when the file meets the contract."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        return [f"{path}: cannot open as HDF5 ({e})"]
    with f:
        if "schema" not in f.attrs:
            return [f"{path}: no schema attribute: not a cardsynth file"]
        schema = text(f.attrs["schema"])
        if schema != SCHEMA:
            return [f"{path}: schema '{schema}', expected '{SCHEMA}'"]
        problems, a = check_attributes(f)
        if any(k not in a for k in ("num_images", "width", "height", "max_cards", "storage",
                                    "masks")):
            return problems
        try:
            columns = label_columns(f)
        except ValueError as e:
            return problems + [str(e)]
        layout, num_cards = check_layout(f, a, columns)
        problems += layout
        if layout:
            return problems  # contents cannot be checked against the wrong shapes
        problems += check_cards(f, num_cards)
        done = f["done"][:]
        if not (done == 1).all():
            missing = np.flatnonzero(done != 1)
            problems.append(f"/done is not 1 for {missing.size} images (first: image "
                            f"{int(missing[0])})")
        # Images not yet done may hold anything; only written ones are held to the contract.
        n = a["num_images"]
        for lo in range(0, n, BLOCK):
            hi = min(n, lo + BLOCK)
            written = done[lo:hi] == 1
            problems += check_labels(f, a, columns, num_cards, lo, hi, written)
            if a["storage"] != "raw":
                problems += check_encoded(f, a, lo, hi, written)
            if len(problems) > MAX_REPORTED:
                break
    return problems


def main(argv):
    if len(argv) != 2:
        print("usage: validate_dataset.py FILE", file=sys.stderr)
        return 2
    path = argv[1]
    problems = validate(path)
    if problems:
        for line in problems[:MAX_REPORTED]:
            print(f"{path}: {line}" if not line.startswith(path) else line)
        if len(problems) > MAX_REPORTED:
            print(f"{path}: ... and {len(problems) - MAX_REPORTED} more problems")
        return 1
    with h5py.File(path, "r") as f:
        print(f"OK: {path} ({int(f.attrs['num_images'])} images, storage "
              f"{text(f.attrs['storage'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
