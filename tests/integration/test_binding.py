#!/usr/bin/env python3
"""cardsynth.Generator (the compiled module) and cardsynth.torch.CardsynthStream.

Image i rendered in-process equals image i of `cardsynth generate` with the same configuration
(raw storage), byte for byte, with the same labels bit for bit and the same masks, for the random
and the table scene, through render and render_batch, from a dict and from a YAML file. Two
DataLoader workers together make exactly the requested indices, once each, in the bytes of a
one-process run, also after the parent ran OpenMP loops of its own (which a forked OpenMP team
would hang on). A bad key or value raises ValueError naming it; a Generator used across a fork
raises instead of hanging. A torchvision detector takes a training step on a streamed batch.
The module tested is this build's (CARDSYNTH_PYTHON_MODULE); without one the test skips.
"""
import gc
import importlib.util
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = os.environ.get("CARDSYNTH_PYTHON_MODULE")
if not MODULE:
    print("SKIP: this build has no Python module (CARDSYNTH_PYTHON=OFF, or python3-dev and "
          "pybind11-dev are missing: scripts/install-deps installs them)")
    sys.exit(77)
# This build's module, whichever build last placed its copy in python/cardsynth.
_spec = importlib.util.spec_from_file_location("cardsynth._cardsynth", MODULE)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
sys.modules["cardsynth._cardsynth"] = _module

sys.path.insert(0, HERE)
import cslib  # noqa: E402
from cslib import check, h5py, np  # noqa: E402

try:
    import torch
    import torchvision
except ImportError as e:
    cslib.skip(f"torch or torchvision cannot be imported ({e}); scripts/install-deps installs them")

import cardsynth  # noqa: E402
from cardsynth.torch import CardsynthStream, collate_fn, detection_target  # noqa: E402

torch.set_num_threads(1)
N = 8
SMALL = {"frame.width": 320, "frame.height": 240}
RANDOM = {"seed": 11, "scene": {"kind": "random", "min_cards": 4, "max_cards": 10},
          "frame": {"width": 320, "height": 240}}
TABLE_YAML = """seed: 5
frame: {width: 320, height: 240}
output: {masks: true}
scene: {kind: table, min_cards: 10, max_cards: 24, perspective: 0.3}
"""


def raw_file(name, *args):
    path = os.path.join(cslib.scratch(name), "out.h5")
    cslib.generate(path, "-n", N, "--storage", "raw", "--threads", "2", *args)
    return path


def check_same_labels(expected, got, what):
    for name, want in expected.items():
        have = got[name]
        check(have.dtype == want.dtype and have.shape == want.shape,
              f"{what}: {name} is {have.dtype}{have.shape}, the file's {want.dtype}{want.shape}")
        check(have.tobytes() == want.tobytes(), f"{what}: {name} differs from the file's")


def check_like_file(gen, path, masks=False):
    with h5py.File(path, "r") as f:
        columns = [c["name"] for c in cardsynth.label_columns(f)]
        check(gen.label_columns == cardsynth.label_columns(f),
              f"label_columns {gen.label_columns} are not the file's")
        images, labels = gen.render_batch(range(N))
        check(sorted(labels) == sorted(columns + (["masks"] if masks else [])),
              f"render_batch's labels are {sorted(labels)}, the file's columns {columns}")
        for i in range(N):
            image, row = gen.render(i)
            check(image.shape == (240, 320, 3) and image.dtype == np.uint8,
                  f"image {i} is {image.dtype}{image.shape}")
            check(np.array_equal(image, f["images"][i]), f"render({i}) differs from the file")
            check(np.array_equal(images[i], f["images"][i]),
                  f"render_batch image {i} differs from the file")
            want = {name: f["labels/" + name][i] for name in columns}
            if masks:
                want["masks"] = f["masks"][i]
            check_same_labels(want, row, f"render({i})")
            check_same_labels(want, {k: v[i] for k, v in labels.items()}, f"render_batch[{i}]")
        check(int(f["labels/count"][()].sum()) > 0, "the file holds no cards at all")


def test_random_scene_equals_the_file():
    path = raw_file("random", "--seed", "11", "--min-cards", "4", "--max-cards", "10",
                    *cslib.SMALL)
    gen = cardsynth.Generator(RANDOM, threads=2)
    check(gen.threads == 2 and gen.device == "cpu", f"threads {gen.threads}, device {gen.device}")
    check_like_file(gen, path)
    # The same images in another order and with repeats: each is a function of its index.
    images, _ = gen.render_batch([5, 0, 5])
    with h5py.File(path, "r") as f:
        check(np.array_equal(images[0], f["images"][5]) and np.array_equal(images[2], images[0])
              and np.array_equal(images[1], f["images"][0]), "render_batch depends on the order")
    # Into a caller's array (shared memory, a reused buffer): drawn in place and returned.
    out = np.zeros((2, 240, 320, 3), np.uint8)
    got, _ = gen.render_batch([5, 0], out=out)
    check(got is out and np.array_equal(out, images[:2]), "render_batch(out=) differs")
    for bad in (np.zeros((3, 240, 320, 3), np.uint8), out.astype(np.int16), out[:, ::-1], [0]):
        try:
            gen.render_batch([5, 0], out=bad)
        except ValueError as e:
            check("out must be" in str(e), f"a bad out: '{e}'")
        else:
            raise cslib.TestFailure(f"render_batch accepted out={type(bad).__name__}")


def test_a_call_too_large_to_draw_in_place_gives_the_same_bytes():
    # A call whose frames outgrow the caches (over 32 MiB) renders in each thread's own frame and
    # streams it out; its images and masks are those of calls small enough to draw in place.
    config = dict(RANDOM, frame={"width": 1280, "height": 720}, output={"masks": True})
    gen = cardsynth.Generator(config, threads=2)
    n = 13
    check(n * 1280 * 720 * 3 > 32 << 20, "the call is small enough to draw in place")
    images, labels = gen.render_batch(range(n))
    for i in range(n):
        image, row = gen.render(i)
        check(np.array_equal(images[i], image), f"image {i} of the large call differs")
        check(np.array_equal(labels["masks"][i], row["masks"]), f"mask {i} differs")


def test_table_scene_with_masks_from_a_yaml_file_equals_the_file():
    directory = cslib.scratch("table")
    config = os.path.join(directory, "table.yaml")
    with open(config, "w") as f:
        f.write(TABLE_YAML)
    path = raw_file("table-file", "--config", config)
    gen = cardsynth.Generator(config, threads=2)
    check_like_file(gen, path, masks=True)
    # An override changes what --set changes.
    other = os.path.join(cslib.scratch("table-blur"), "out.h5")
    cslib.generate(other, "--config", config, "-n", "2", "--storage", "raw",
                   "--set", "scene.blur_sigma=[2, 2.5]")
    blurred = cardsynth.Generator(config, threads=1, **{"scene.blur_sigma": [2, 2.5]})
    with h5py.File(other, "r") as f:
        check(np.array_equal(blurred.render(1)[0], f["images"][1]),
              "an override is not applied as --set applies it")
        check(not np.array_equal(gen.render(1)[0], f["images"][1]), "the override changed nothing")


def test_camera_effects_equal_the_file():
    # The camera's colour, motion blur and JPEG pass happen before the frame is stored, so the
    # in-process frames carry them as the file's raw frames do.
    camera = {"white_balance": 0.15, "exposure": [-0.5, 0.5], "gamma": [0.8, 1.25],
              "saturation": [0.6, 1.4], "motion_blur": [2, 8], "jpeg_quality": [20, 70]}
    path = raw_file("camera", "--seed", "11", "--min-cards", "4", "--max-cards", "10",
                    *cslib.SMALL, *[a for k, v in camera.items()
                                    for a in ("--set", f"scene.camera.{k}={v}")])
    gen = cardsynth.Generator(dict(RANDOM, scene=dict(RANDOM["scene"], camera=camera)), threads=2)
    check_like_file(gen, path)
    with h5py.File(path, "r") as f:
        plain, _ = cardsynth.Generator(RANDOM, threads=2).render_batch(range(N))
        check(not np.array_equal(plain, f["images"][()]), "the camera changed no frame")


def test_bad_keys_and_values_raise_value_error_naming_them():
    cases = [({"scene.blurr": [0, 1]}, "scene.blurr"), ({"scene.max_cards": 0}, "scene.max_cards"),
             ({"scene.kind": "circus"}, "scene.kind"), ({"threads": "many"}, "threads")]
    for overrides, key in cases:
        try:
            cardsynth.Generator(RANDOM, **overrides)
        except ValueError as e:
            check(isinstance(e, cardsynth.ConfigError) and key in str(e) and e.exit_code == 2,
                  f"{overrides}: {type(e).__name__} '{e}' does not name '{key}' (exit code 2)")
            check("\n" not in str(e), f"the message is not one line: {e!r}")
        else:
            raise cslib.TestFailure(f"{overrides} raised nothing")
    for config, word in (({"scene": {"knd": "table"}}, "scene.knd"),
                         (os.path.join(cslib.scratch("missing"), "none.yaml"), "none.yaml")):
        try:
            cardsynth.Generator(config)
        except ValueError as e:
            check(word in str(e), f"'{e}' does not name {word}")
        else:
            raise cslib.TestFailure(f"config {config} raised nothing")
    try:
        cardsynth.Generator(RANDOM, **{"cards.dirs": [cslib.scratch("no-cards")]})
    except ValueError as e:
        check(isinstance(e, cardsynth.InputError) and "no-cards" in str(e),
              f"an empty card directory: {type(e).__name__} '{e}'")
    else:
        raise cslib.TestFailure("an empty card directory raised nothing")
    gen = cardsynth.Generator(RANDOM, threads=1)
    try:
        gen.render(-1)
    except ValueError as e:
        check("-1" in str(e), f"a negative index: '{e}'")
    else:
        raise cslib.TestFailure("render(-1) raised nothing")


def test_a_generator_used_across_fork_raises_in_the_child():
    gen = cardsynth.Generator(RANDOM, threads=2)
    gen.render(0)
    pid = os.fork()
    if pid == 0:
        signal.alarm(60)  # a child that hangs (in render, or freeing the generator) dies
        try:
            gen.render(1)
            code = 1
        except cardsynth.Error as e:
            code = 0 if "fork" in str(e) else 2
        except BaseException:
            code = 3
        del gen  # its thread stayed in the parent: freeing it must not wait for that thread
        gc.collect()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          f"the child's render: status {status} (exit {os.WEXITSTATUS(status)})")


def stream_items(stream, workers, batch_size=3):
    loader = torch.utils.data.DataLoader(stream, batch_size=batch_size, num_workers=workers,
                                         collate_fn=collate_fn, timeout=120 if workers else 0)
    items = []
    for images, targets in loader:
        items += zip(images, targets)
    return items


def test_two_workers_make_each_index_once_as_one_process_does():
    # The parent runs OpenMP loops on its own threads first, as a training process does: a
    # worker that forked them must still render.
    torch.set_num_threads(2)
    torch.ones(1 << 22).add_(1).sum()
    torch.set_num_threads(1)
    start, length = 5, 13
    stream = CardsynthStream(RANDOM, start=start, length=length, threads=1, chunk=2)
    check(len(stream) == length, f"len {len(stream)}")
    items = stream_items(stream, workers=2)
    ids = [int(t["image_id"]) for _, t in items]
    check(sorted(ids) == list(range(start, start + length)),
          f"two workers made {sorted(ids)}, not {start}..{start + length - 1} once each")
    gen = cardsynth.Generator(RANDOM, threads=2)
    images, labels = gen.render_batch(ids)
    for k, (image, target) in enumerate(items):
        i = ids[k]
        check(image.dtype == torch.uint8 and tuple(image.shape) == (3, 240, 320),
              f"image {i}: {image.dtype} {tuple(image.shape)}")
        check(np.array_equal(image.permute(1, 2, 0).numpy(), images[k]),
              f"image {i} differs from a one-process render")
        n = int(labels["count"][k])
        row = {name: labels[name][k][:n] for name in labels if name != "count"}
        want = detection_target(i, row)
        # A worker's target crosses as arrays in the message: it must arrive as the plain dict
        # of tensors that one process makes, dtypes and shapes included.
        check(type(target) is dict and sorted(target) == sorted(want),
              f"target {type(target).__name__} with keys {sorted(target)}")
        for key in want:
            got = target[key]
            check(isinstance(got, torch.Tensor) and got.dtype == want[key].dtype and
                  got.shape == want[key].shape and torch.equal(got, want[key]),
                  f"image {i}: target {key} differs")
    single = stream_items(CardsynthStream(RANDOM, start=start, length=length, threads=2), 0)
    check([int(t["image_id"]) for _, t in single] == list(range(start, start + length)),
          "one process does not make the indices in order")
    by_id = {int(t["image_id"]): image for image, t in items}
    for image, t in single:
        check(torch.equal(image, by_id[int(t["image_id"])]),
              f"image {int(t['image_id'])}: one process and two workers differ")


def frame_blocks():
    """The shared-memory frame blocks that exist now (cardsynth.torch's _FramePool)."""
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith("cardsynth-frames-"))


def test_frames_held_by_training_stay_as_rendered_while_blocks_are_reused():
    # Workers draw into a few shared blocks again and again, and the training process is lent
    # each frame where it lies: every frame must arrive as rendered, and a frame the training
    # loop holds must stay so however often the blocks of the others are drawn into since.
    before, mapped = frame_blocks(), cardsynth.torch._mapped_count
    start, length, chunk = 40, 72, 2
    ids = list(range(start, start + length))
    want, _ = cardsynth.Generator(RANDOM, threads=2).render_batch(ids)
    stream = CardsynthStream(RANDOM, start=start, length=length, threads=1, chunk=chunk)
    loader = torch.utils.data.DataLoader(stream, batch_size=2, num_workers=2,
                                         collate_fn=collate_fn, timeout=120)
    seen, held = [], []
    for images, targets in loader:
        for image, target in zip(images, targets):
            i = int(target["image_id"])
            seen.append(i)
            check(type(image) is torch.Tensor, f"image {i} arrived as {type(image).__name__}")
            check(np.array_equal(image.permute(1, 2, 0).numpy(), want[i - start]),
                  f"image {i} arrived unlike a one-process render")
            if i % 18 == 0:
                held.append((i, image))
    check(sorted(seen) == ids, f"made {sorted(seen)}")
    # Without reuse each worker would fill its 8 blocks (18 chunks each here) and then make fresh
    # frames; with it, a worker needs the blocks its held frames keep and a few in flight.
    blocks = cardsynth.torch._mapped_count - mapped
    check(0 < blocks <= 12, f"{blocks} frame blocks for {length // chunk} chunks: the workers "
          f"did not reuse them")
    print(f"  {blocks} frame blocks for {length // chunk} chunks, {len(held)} frames held")
    for i, image in held:
        check(np.array_equal(image.permute(1, 2, 0).numpy(), want[i - start]),
              f"image {i} changed while the training loop held it")
    del loader, images, image, held
    gc.collect()
    check(frame_blocks() == before, f"blocks left behind: {set(frame_blocks()) - set(before)}")


def test_a_transform_making_new_tensors_gets_fresh_frames_and_leaves_no_blocks():
    # The frames reach the training process as new tensors, never as pooled ones: the workers
    # must notice that their blocks are never given back and go on with fresh frames.
    before = frame_blocks()
    start, length = 200, 48
    stream = CardsynthStream(RANDOM, start=start, length=length, threads=1, chunk=2,
                             transform=lambda image, target: (image.flip(0), target))
    items = stream_items(stream, workers=2, batch_size=2)
    ids = [int(t["image_id"]) for _, t in items]
    check(sorted(ids) == list(range(start, start + length)), f"made {sorted(ids)}")
    images, _ = cardsynth.Generator(RANDOM, threads=2).render_batch(ids)
    for k, (image, _) in enumerate(items):
        check(np.array_equal(image.flip(0).permute(1, 2, 0).numpy(), images[k]),
              f"image {ids[k]} differs from a one-process render")
    gc.collect()
    check(frame_blocks() == before, f"blocks left behind: {set(frame_blocks()) - set(before)}")


def test_masks_cross_from_two_workers():
    # A mask stack is too large to travel in the message: it crosses in shared memory, the
    # small target tensors beside it as arrays; both arrive as one process makes them.
    table = {"seed": 5, "frame": {"width": 320, "height": 240}, "output": {"masks": True},
             "scene": {"kind": "table", "min_cards": 10, "max_cards": 24}}
    items = stream_items(CardsynthStream(table, length=4, threads=1, chunk=2), workers=2)
    ids = [int(t["image_id"]) for _, t in items]
    check(sorted(ids) == [0, 1, 2, 3], f"two workers made {sorted(ids)}")
    _, labels = cardsynth.Generator(table, threads=2).render_batch(ids)
    for k, (_, target) in enumerate(items):
        n = int(labels["count"][k])
        row = {name: labels[name][k][:n] for name in labels if name not in ("count", "masks")}
        want = detection_target(ids[k], row, labels["masks"][k])
        check(type(target) is dict and sorted(target) == sorted(want),
              f"image {ids[k]}: target keys {sorted(target)}")
        for key in want:
            got = target[key]
            check(got.dtype == want[key].dtype and torch.equal(got, want[key]),
                  f"image {ids[k]}: target {key} differs")
        check(target["masks"].shape[0] >= 5 and bool(target["masks"].flatten(1).any(dim=1).all()),
              f"image {ids[k]}: masks {tuple(target['masks'].shape)}")


def test_one_training_step_of_a_torchvision_detector_on_a_streamed_batch():
    stream = CardsynthStream(RANDOM, start=100, threads=1)  # endless
    loader = torch.utils.data.DataLoader(stream, batch_size=2, num_workers=1,
                                         collate_fn=collate_fn, timeout=120)
    images, targets = next(iter(loader))
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=2)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = [image.float() / 255 for image in images]
    losses = model(images, [{k: t[k] for k in ("boxes", "labels")} for t in targets])
    loss = sum(losses.values())
    check(torch.isfinite(loss).item() and loss.item() > 0, f"loss {loss.item()}")
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    after = [p for p in model.parameters() if p.requires_grad]
    check(any(not torch.equal(a, b) for a, b in zip(before, after)), "no weight changed")


if __name__ == "__main__":
    cslib.require_pil()
    cslib.run_tests([
        test_random_scene_equals_the_file,
        test_a_call_too_large_to_draw_in_place_gives_the_same_bytes,
        test_table_scene_with_masks_from_a_yaml_file_equals_the_file,
        test_camera_effects_equal_the_file,
        test_bad_keys_and_values_raise_value_error_naming_them,
        test_a_generator_used_across_fork_raises_in_the_child,
        test_two_workers_make_each_index_once_as_one_process_does,
        test_frames_held_by_training_stay_as_rendered_while_blocks_are_reused,
        test_a_transform_making_new_tensors_gets_fresh_frames_and_leaves_no_blocks,
        test_masks_cross_from_two_workers,
        test_one_training_step_of_a_torchvision_detector_on_a_streamed_batch,
    ])
