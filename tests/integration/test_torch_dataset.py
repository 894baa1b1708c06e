#!/usr/bin/env python3
"""cardsynth.torch.CardsynthDataset serves a file to PyTorch in torchvision's detection form.

Through a DataLoader with two workers every image comes once, equal to the reader's image, with
the file's labels as targets; a split holds exactly split_of's images and the splits cover the
file; an OUT.partial is read up to its done images, and refresh() takes in those done later; a
training step of a torchvision detector on a batch runs with a finite loss. split_of is checked
against values computed here with numpy's 64-bit arithmetic, the values `cardsynth export` is
held to as well.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cslib  # noqa: E402
from cslib import check, h5py, np  # noqa: E402

try:
    import torch
    import torchvision
except ImportError as e:
    cslib.skip(f"torch or torchvision cannot be imported ({e}); scripts/install-deps installs them")

import cardsynth  # noqa: E402
from cardsynth.torch import CardsynthDataset, collate_fn  # noqa: E402

torch.set_num_threads(1)
SEED = 7
N = 16
ARGS = ["-n", str(N), "--seed", str(SEED), "--storage", "jpeg", "--masks"] + cslib.SMALL
THREE = [("a", 0.5), ("b", 0.3), ("c", 0.2)]
# (seed, i, splitmix64(seed ^ splitmix64(i)) >> 11, split with the default splits, with THREE)
SPLIT_CASES = [
    (0x0, 0, 0x14e0dba5e9a32f, "train", "b"),
    (0x0, 1, 0xbc835610e872c, "train", "a"),
    (0x0, 5, 0x1f5adc48ce24a8, "val", "c"),
    (0x1, 0, 0x1169fb5191256, "train", "a"),
    (0x7, 3, 0x1d101520779fec, "val", "c"),
    (0x2a, 7, 0xdd570c4bbe4d1, "train", "a"),
    (0x7, 1199, 0x1b4b624724749f, "train", "c"),
    (0xffffffffffffffff, 12345, 0x1c49c012e63ea1, "train", "c"),
    (0x123456789abcdef, 2**40 + 3, 0x6fb0d0cd36d77, "train", "a"),
]
_file = []


def dataset_file():
    """The test's 16-image JPEG file with masks, made once."""
    if not _file:
        path = os.path.join(cslib.scratch("data"), "cards.h5")
        cslib.generate(path, *ARGS)
        _file.append(path)
    return _file[0]


def numpy_splitmix64(x):
    x = np.uint64(x)
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def numpy_split(seed, i, splits):
    u = float(numpy_splitmix64(np.uint64(seed) ^ numpy_splitmix64(i)) >> np.uint64(11)) / 2**53
    edges = np.cumsum([f for _, f in splits])
    for (name, _), edge in zip(splits, edges[:-1]):
        if u < edge:
            return name
    return splits[-1][0]


def expected_target(ref, i):
    """Image i's target, built from the reader's labels."""
    labels = ref.labels(i)
    box = labels["bbox"]
    keep = (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
    visible = labels["corner_visible"][keep]
    corners = np.where(visible[:, :, None] == 0, 0, labels["corners"][keep])
    target = {
        "boxes": box[keep],
        "keypoints": np.concatenate([corners, visible[:, :, None]], axis=2).astype(np.float32),
        "boxes_full": labels["bbox_full"][keep],
        "visible_fraction": labels["visible_fraction"][keep],
        "card_ids": labels["card_id"][keep].astype(np.int64),
        "labels": np.ones(int(keep.sum()), np.int64),
    }
    mask = ref.mask(i)
    target["masks"] = np.stack([(mask == k + 1) for k in np.flatnonzero(keep)]).astype(np.uint8) \
        if keep.any() else np.zeros((0, ref.height, ref.width), np.uint8)
    return target


def check_item(ref, image, target):
    i = int(target["image_id"])
    check(image.dtype == torch.uint8 and tuple(image.shape) == (3, ref.height, ref.width),
          f"image {i}: {image.dtype} {tuple(image.shape)}")
    check(torch.equal(image, torch.from_numpy(np.array(ref.image(i))).permute(2, 0, 1)),
          f"image {i} differs from Dataset.image({i})")
    dtypes = {"boxes": torch.float32, "keypoints": torch.float32, "boxes_full": torch.float32,
              "visible_fraction": torch.float32, "card_ids": torch.int64, "labels": torch.int64,
              "masks": torch.uint8}
    for key, value in expected_target(ref, i).items():
        got = target.get(key)
        check(got is not None and got.dtype == dtypes[key], f"image {i}: target[{key!r}] is "
              f"{None if got is None else got.dtype}, expected {dtypes[key]}")
        check(np.array_equal(got.numpy(), value), f"image {i}: target[{key!r}] differs from the "
              f"file's labels:\n{got}\nvs\n{value}")
    boxes = target["boxes"]
    check(bool(((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])).all()),
          f"image {i}: a degenerate box")


def load_all(dataset, workers=2, batch_size=3):
    """Every (image, target) of `dataset` through a DataLoader with `workers` processes."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                         num_workers=workers, collate_fn=collate_fn)
    items = []
    for images, targets in loader:
        check(isinstance(images, tuple) and len(images) == len(targets),
              "collate_fn did not give a tuple of images and one of targets")
        items += zip(images, targets)
    return items


def test_split_of_values():
    for seed, i, u53, default, three in SPLIT_CASES:
        check(int(numpy_splitmix64(np.uint64(seed) ^ numpy_splitmix64(i)) >> np.uint64(11)) == u53,
              f"numpy splitmix64 of ({seed:#x}, {i}) is not {u53:#x}")
        check(cardsynth.splits.split_unit(seed, i) == u53 * 2.0**-53,
              f"split_unit({seed:#x}, {i}) is {cardsynth.splits.split_unit(seed, i)!r}")
        check(cardsynth.split_of(seed, i) == default,
              f"split_of({seed:#x}, {i}) is {cardsynth.split_of(seed, i)!r}, expected {default!r}")
        check(cardsynth.split_of(seed, i, THREE) == three,
              f"split_of({seed:#x}, {i}, THREE) is {cardsynth.split_of(seed, i, THREE)!r}")
        check(cardsynth.split_indices(seed, [i], three, THREE).tolist() == [i],
              f"split_indices does not put image {i} of seed {seed:#x} in {three!r}")
    check(cardsynth.splitmix64(0) == 0xE220A8397B1DCDAF, "splitmix64(0) is not SplitMix64's")
    for seed in (0, SEED, 2**63 + 5):
        for i in range(200):
            for splits in (cardsynth.DEFAULT_SPLITS, THREE, [("x", 0.25), ("y", 0.75)]):
                got, want = cardsynth.split_of(seed, i, splits), numpy_split(seed, i, splits)
                check(got == want, f"split_of({seed}, {i}, {splits}) is {got!r}, numpy {want!r}")
    check(cardsynth.split_of(SEED, 3, {"train": 0.9, "val": 0.1}) == "val",
          "a mapping of splits is not read in its order")
    for bad in ([("a", 0.5), ("b", 0.4)], [("a", 1.0), ("a", 0.0)], [("a", -0.5), ("b", 1.5)], []):
        try:
            cardsynth.split_of(0, 0, bad)
        except ValueError:
            continue
        raise cslib.TestFailure(f"split_of accepted the splits {bad}")


def test_loader_gives_every_image_once_with_its_labels():
    path = dataset_file()
    dataset = CardsynthDataset(path)
    check(len(dataset) == N, f"the Dataset holds {len(dataset)} images, expected {N}")
    items = load_all(dataset)
    ids = sorted(int(t["image_id"]) for _, t in items)
    check(ids == list(range(N)), f"the loader gave images {ids}")
    check(not dataset._handles, "the Dataset holds an open file in the main process")
    with cardsynth.Dataset(path) as ref:
        for image, target in items:
            check_item(ref, image, target)


def test_cards_without_visible_pixels_are_left_out():
    path = os.path.join(cslib.scratch("hidden"), "cards.h5")
    shutil.copy(dataset_file(), path)
    with h5py.File(path, "r+") as f:
        box = f["labels/bbox"][:, 0]
        i = int(np.flatnonzero((box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1]))[0])
        n = int(f["labels/count"][i])
        boxes = f["labels/bbox"][i, :n]
        shown = int(((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])).sum())
        # Slot 0 drawn over entirely: no visible pixels, so no box and no mask pixel.
        f["labels/bbox"][i, 0] = np.zeros(4, np.float32)
        f["labels/visible_fraction"][i, 0] = 0
        mask = f["masks"][i]
        mask[mask == 1] = 0
        f["masks"][i] = mask
    image, target = CardsynthDataset(path)[i]
    check(len(target["boxes"]) == shown - 1, f"image {i}: {len(target['boxes'])} boxes, expected "
          f"{shown - 1} (slot 0 no longer has visible pixels)")
    with cardsynth.Dataset(path) as ref:
        check_item(ref, image, target)


def test_splits_hold_split_ofs_images():
    path = dataset_file()
    parts = {}
    for name in ("train", "val"):
        items = load_all(CardsynthDataset(path, split=name))
        parts[name] = sorted(int(t["image_id"]) for _, t in items)
        want = [i for i in range(N) if cardsynth.split_of(SEED, i) == name]
        check(parts[name] == want, f"split {name} holds {parts[name]}, split_of gives {want}")
    check(parts["val"], f"seed {SEED} should put some of {N} images in val")
    check(sorted(parts["train"] + parts["val"]) == list(range(N)),
          "train and val together are not the whole file")
    halves = [("first", 0.5), ("second", 0.5)]
    first = CardsynthDataset(path, split="first", splits=halves)
    check([first.image_index(k) for k in range(len(first))]
          == [i for i in range(N) if cardsynth.split_of(SEED, i, halves) == "first"],
          "split= with splits= does not follow split_of")
    try:
        CardsynthDataset(path, split="test")
    except ValueError:
        pass
    else:
        raise cslib.TestFailure("a split that is not in splits was accepted")


def test_partial_file_is_read_up_to_its_done_images():
    work = cslib.scratch("partial")
    finished = os.path.join(work, "cards.h5")
    partial = finished + ".partial"
    shutil.copy(dataset_file(), partial)
    not_done = [2, 5, 6, 11, 15]
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"] = np.uint8(0)
        done = f["done"][()]
        done[not_done] = 0
        f["done"][...] = done
    dataset = CardsynthDataset(partial)
    want = [i for i in range(N) if i not in not_done]
    ids = sorted(int(t["image_id"]) for _, t in load_all(dataset))
    check(ids == want, f"the .partial gave images {ids}, expected the done ones {want}")
    check(not dataset.complete, "a file with complete = 0 reads as complete")

    with h5py.File(partial, "r+") as f:
        f["done"][5] = 1
    check(len(dataset) == len(want), "the Dataset changed before refresh()")
    check(dataset.refresh() == len(want) + 1, "refresh() did not take in the image done since")
    ids = sorted(int(t["image_id"]) for _, t in load_all(dataset))
    check(ids == sorted(want + [5]), f"after refresh() the .partial gave images {ids}")

    with h5py.File(partial, "r+") as f:
        f["done"][...] = 1
        f.attrs["complete"] = np.uint8(1)
    os.rename(partial, finished)
    check(dataset.refresh() == N and dataset.path == finished,
          "refresh() did not follow OUT.partial renamed to OUT")
    with cardsynth.Dataset(finished) as ref:
        for image, target in load_all(dataset):
            check_item(ref, image, target)


def test_one_training_step_of_a_torchvision_detector():
    torch.manual_seed(0)
    dataset = CardsynthDataset(dataset_file(), split="train")
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2,
                                         collate_fn=collate_fn)
    images, targets = next(iter(loader))
    # Few sampled boxes per image: the heads' matrix products are slow on the reference BLAS.
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=2, rpn_batch_size_per_image=64,
        box_batch_size_per_image=32)
    model.train()
    losses = model([image.float() / 255 for image in images], list(targets))
    loss = sum(losses.values())
    check(bool(torch.isfinite(loss)), f"the loss is not finite: {losses}")
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    check(any(g is not None and bool(g.abs().sum() > 0) for g in grads),
          "backward left no gradient")


if __name__ == "__main__":
    cslib.run_tests([
        test_split_of_values,
        test_loader_gives_every_image_once_with_its_labels,
        test_cards_without_visible_pixels_are_left_out,
        test_splits_hold_split_ofs_images,
        test_partial_file_is_read_up_to_its_done_images,
        test_one_training_step_of_a_torchvision_detector,
    ])
