#!/usr/bin/env python3
"""Crafted files never crash `inspect`, `preview` or `export`: a valid small file is copied, one
attribute is changed or one dataset shrunk or replaced with h5py, and each command refuses the
copy with exit 2 and one `cardsynth: error:` line that names the file and what disagrees.
"""

import os
import shutil

import h5py
import numpy as np

import cslib
from cslib import check

_files = {}


def base(storage):
    """A small valid file of `storage` (png or raw), with masks, made once."""
    if storage not in _files:
        path = os.path.join(cslib.scratch("base-" + storage), storage + ".h5")
        cslib.generate(path, "-n", "3", "--seed", "5", "--width", "32", "--height", "24",
                       "--max-cards", "2", "--min-cards", "1", "--storage", storage, "--masks",
                       "--set", "scene.card_height=[10,20]")
        _files[storage] = path
    return _files[storage]


def replace(f, name, data):
    """Replaces dataset `name` of the open file `f` with `data` (same type)."""
    del f[name]
    f.create_dataset(name, data=data)


def craft(tmp, storage, change):
    path = os.path.join(tmp, "crafted-" + storage + ".h5")
    shutil.copyfile(base(storage), path)
    with h5py.File(path, "r+") as f:
        change(f)
    return path


def refused(tmp, path, words, commands):
    """Each command of `commands` exits 2 with one error line naming `path` and every word."""
    runs = {
        "inspect": ["inspect", path],
        "preview": ["preview", path, "--out", os.path.join(tmp, "sheet.png"), "--count", "4"],
        "export": ["export", path, "--format", "yolo-seg", "--out",
                   os.path.join(tmp, "export"), "--overwrite"],
    }
    for name in ("inspect", "preview", "export"):
        r = cslib.run(runs[name])
        check(r.rc >= 0 and r.rc != 139, "crashed: " + r.describe())
        if name not in commands:
            check(r.rc in (0, 2), "neither ran nor refused the file: " + r.describe())
            continue
        lines = r.error_lines()
        check(r.rc == 2 and len(lines) == 1, "expected exit 2 and one error line: " +
              r.describe())
        for word in [path] + list(words):
            check(word in lines[0], f"the error does not name {word!r}: {lines[0]}")


ALL = ("inspect", "preview", "export")
IMAGES = ("preview", "export")  # the checks made when an image or its labels are read

# name: (storage, change, words the error names, commands that must refuse the file)
CASES = {
    "max_cards_larger": ("png", lambda f: f.attrs.modify("max_cards", np.int32(3)),
                         ["max_cards", "3", "2"], ALL),
    "max_cards_smaller": ("png", lambda f: f.attrs.modify("max_cards", np.int32(1)),
                          ["max_cards", "1", "2"], ALL),
    "max_cards_zero": ("png", lambda f: f.attrs.modify("max_cards", np.int32(0)),
                       ["max_cards", "0"], ALL),
    "max_cards_negative": ("raw", lambda f: f.attrs.modify("max_cards", np.int32(-7)),
                           ["max_cards", "-7"], ALL),
    "num_images_over_done": ("png", lambda f: f.attrs.modify("num_images", np.int64(5)),
                             ["num_images", "5", "3"], ALL),
    "num_images_under_done": ("raw", lambda f: f.attrs.modify("num_images", np.int64(2)),
                              ["num_images", "2", "3"], ALL),
    "num_images_negative": ("png", lambda f: f.attrs.modify("num_images", np.int64(-1)),
                            ["num_images", "-1"], ALL),
    "done_shrunk": ("png", lambda f: replace(f, "done", np.ones(2, np.uint8)),
                    ["/done", "num_images", "2", "3"], ALL),
    "count_shrunk": ("png", lambda f: replace(f, "labels/count", np.ones(1, np.uint16)),
                     ["/labels/count", "num_images", "1", "3"], ALL),
    "card_id_wider": ("raw", lambda f: replace(f, "labels/card_id",
                                               np.zeros((3, 5), np.int32)),
                      ["/labels/card_id", "max_cards", "5", "2"], ALL),
    "offsets_shrunk": ("png", lambda f: replace(f, "images_offset", np.zeros(2, np.uint64)),
                       ["/images_offset", "num_images", "2", "3"], ALL),
    "width_raw": ("raw", lambda f: f.attrs.modify("width", np.int32(40)),
                  ["/images", "width", "40", "32"], ALL),
    "height_raw": ("raw", lambda f: f.attrs.modify("height", np.int32(10)),
                   ["/images", "height", "10", "24"], ALL),
    "width_masks": ("png", lambda f: f.attrs.modify("width", np.int32(64)),
                    ["/masks", "width", "64", "32"], ALL),
    "width_huge": ("png", lambda f: f.attrs.modify("width", np.int32(2**31 - 1)),
                   ["width", str(2**31 - 1)], ALL),
    "images_shrunk": ("raw", lambda f: replace(f, "images", np.zeros((2, 24, 32, 3), np.uint8)),
                      ["/images", "num_images", "2", "3"], ALL),
    "storage_raw_on_png": ("png", lambda f: f.attrs.modify("storage", np.bytes_(b"raw")),
                           ["storage", "raw", "/images"], ALL),
    "storage_png_on_raw": ("raw", lambda f: f.attrs.modify("storage", np.bytes_(b"png")),
                           ["storage", "png", "/images"], ALL),
    "masks_missing": ("png", lambda f: f.__delitem__("masks"), ["masks", "/masks"], ALL),
    "masks_attribute_zero": ("raw", lambda f: f.attrs.modify("masks", np.uint8(0)),
                             ["masks", "/masks"], ALL),
    "cards_shrunk": ("png", lambda f: replace(f, "cards/weight", np.ones(1)),
                     ["/cards/weight", "/cards/name"], ALL),
    "config_not_scalar": ("png", lambda f: replace(f, "config", np.array([b"a", b"b"])),
                          ["/config", "scalar"], ALL),
    "offset_past_encoded": ("png", lambda f: f["images_offset"].__setitem__(0, 2**40),
                            ["/images_encoded", "image 0", str(2**40)], IMAGES),
    "size_past_encoded": ("png", lambda f: f["images_size"].__setitem__(0, 2**63),
                          ["/images_encoded", "image 0"], IMAGES),
    "count_over_max_cards": ("raw", lambda f: f["labels/count"].__setitem__(0, 200),
                             ["count", "200", "max_cards"], IMAGES),
    "card_id_outside_cards": ("png", lambda f: f["labels/card_id"].__setitem__((0, 0), 10**6),
                              ["card_id", str(10**6), "/cards"], IMAGES),
}


def make_case(name):
    storage, change, words, commands = CASES[name]

    def test():
        tmp = cslib.scratch(name)
        refused(tmp, craft(tmp, storage, change), words, commands)
    test.__name__ = "test_" + name
    return test


def test_preview_start_within_num_images():
    tmp = cslib.scratch("preview-start")
    path = base("png")
    for start in ("3", "4", "-1", str(2**62)):
        r = cslib.run(["preview", path, "--out", os.path.join(tmp, "s.png"), "--start=" + start])
        lines = r.error_lines()
        check(r.rc == 2 and len(lines) == 1, r.describe())
        check(path in lines[0] and "num_images" in lines[0] and start in lines[0], lines[0])
    r = cslib.run(["preview", path, "--out", os.path.join(tmp, "s.png"), "--start", "2"])
    check(r.rc == 0, r.describe())


def test_name_heap_free_list_loop():
    """The root group's name heap (superblock version 0: its address ends the root's symbol table
    entry) gets a free list that points back at itself; libhdf5 1.10 would allocate without end
    following it, so every command must refuse the file before the library reads a name."""
    tmp = cslib.scratch("heap-loop")
    path = os.path.join(tmp, "heap-loop.h5")
    shutil.copyfile(base("png"), path)
    with open(path, "r+b") as f:
        head = f.read(96)
        check(head[:8] == b"\x89HDF\r\n\x1a\n" and head[8] == 0, "not a version 0 superblock")
        heap = int.from_bytes(head[88:96], "little")
        f.seek(heap)
        prefix = f.read(32)
        check(prefix[:4] == b"HEAP", f"no local heap at {heap}")
        size = int.from_bytes(prefix[8:16], "little")
        data = int.from_bytes(prefix[24:32], "little")
        check(size >= 24, f"a name heap of {size} bytes")
        f.seek(heap + 16)
        f.write((8).to_bytes(8, "little"))  # the free list starts at offset 8 ...
        f.seek(data + 8)
        f.write((8).to_bytes(8, "little") + (16).to_bytes(8, "little"))  # ... and loops there
    refused(tmp, path, ["group '/'", "name heap", "loops"], ALL)


def layout_message(f, header):
    """The file offset and size of the data layout message of the version 1 object header at
    `header` (its first chunk), read from the open file `f`."""
    f.seek(header)
    prefix = f.read(16)
    check(prefix[0] == 1, f"not a version 1 object header at {header}")
    at, end = header + 16, header + 16 + int.from_bytes(prefix[8:12], "little")
    while at + 8 <= end:
        f.seek(at)
        m = f.read(8)
        kind, size = int.from_bytes(m[0:2], "little"), int.from_bytes(m[2:4], "little")
        if kind == 8:
            return at + 8, size
        at += 8 + size
    check(False, f"no layout message in the header at {header}")


def test_chunk_of_zero_size():
    """/cards/name's contiguous layout becomes a chunked one, in the layout message's version 1,
    whose chunk has a dimension of 0; libhdf5 1.10 checks that only in version 3 and divides by
    it while opening the dataset (SIGFPE), so every command must refuse the file before the
    library opens it."""
    tmp = cslib.scratch("zero-chunk")
    path = os.path.join(tmp, "zero-chunk.h5")
    shutil.copyfile(base("png"), path)
    with h5py.File(path, "r") as h:
        header = h5py.h5o.get_info(h["cards/name"].id).addr
    with open(path, "r+b") as f:
        at, size = layout_message(f, header)
        f.seek(at)
        old = f.read(size)
        check(old[0] == 3 and old[1] == 1, f"not a version 3 contiguous layout: {old[:2]}")
        # version 1, 2 dimensions (the row, then the element), chunked, 5 reserved bytes, the
        # old address, chunk dimensions 0 and 1
        new = (bytes([1, 2, 2, 0, 0, 0, 0, 0]) + old[2:10] + (0).to_bytes(4, "little") +
               (1).to_bytes(4, "little"))
        check(len(new) <= size, "the chunked layout does not fit the message")
        f.seek(at)
        f.write(new)
    refused(tmp, path, ["/cards/name", "chunks with a dimension of 0"], ALL)


def test_base_files_are_valid():
    for storage in ("png", "raw"):
        tmp = cslib.scratch("valid-" + storage)
        for args in (["inspect", base(storage)],
                     ["preview", base(storage), "--out", os.path.join(tmp, "s.png")],
                     ["export", base(storage), "--format", "yolo-seg", "--out",
                      os.path.join(tmp, "export")]):
            r = cslib.run(args)
            check(r.rc == 0, r.describe())


if __name__ == "__main__":
    cslib.run_tests([test_base_files_are_valid, test_preview_start_within_num_images,
                     test_name_heap_free_list_loop, test_chunk_of_zero_size] +
                    [make_case(name) for name in CASES])
