"""PyTorch datasets in torchvision's detection form: CardsynthDataset over a cardsynth file, and
CardsynthStream, which renders in each DataLoader worker with no file at all.

    import torch
    import torchvision
    from cardsynth.torch import CardsynthDataset, collate_fn

    train = CardsynthDataset("dataset.h5", split="train")
    loader = torch.utils.data.DataLoader(train, batch_size=8, shuffle=True, num_workers=4,
                                         collate_fn=collate_fn)
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    for images, targets in loader:
        images = [image.float() / 255 for image in images]
        loss = sum(model(images, list(targets)).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

Item k is `(image, target)`: image a uint8 tensor [3, H, W] (RGB), target a dict of

    boxes             float32 [N, 4]     x0, y0, x1, y1 of the card's visible pixels
    labels            int64 [N]          1 ("card"; torchvision keeps 0 for the background)
    keypoints         float32 [N, 4, 3]  corners (top-left, top-right, bottom-right,
                                         bottom-left as printed) as x, y, v; v 2 seen, 1 covered,
                                         0 outside the frame, and then x = y = 0
    masks             uint8 [N, H, W]    1 where the card is seen (only when the file has /masks)
    boxes_full        float32 [N, 4]     the whole card's box, clipped to the frame
    visible_fraction  float32 [N]        visible pixels over the card's area
    card_ids          int64 [N]          rows of the file's card table (/cards)
    image_id          int64 []           the image's index in the file

with one row per card that has visible pixels, in painter's order (cards with an empty visible
box are left out: torchvision rejects degenerate boxes). `transform(image, target)`, when given,
returns the pair to use instead.

The Dataset holds the images whose /done is 1 when it is made, so it can read the `OUT.partial`
of a run that is still going; `refresh()` takes in the images done since (call it between epochs;
the workers of a DataLoader with persistent_workers keep the old list). The file is opened in each
process that reads an item (each DataLoader worker), never shared across fork. Stored JPEG and PNG
frames are decoded in that process, with torchvision.io when it is present, else with Pillow.

CardsynthStream(config, start=0, length=None, **overrides) is an IterableDataset of the same
items, rendered on demand by cardsynth.Generator (the compiled module): each DataLoader worker
makes its own Generator after the fork and renders the indices start + worker + k * workers, so
every index is made exactly once across the workers, in the same bytes as image i of `cardsynth
generate` with that configuration (raw storage). length=None streams without end; a later epoch
continues with new images by a new `start`:

    stream = CardsynthStream("configs/w1.yaml", start=epoch * 10000, length=10000, threads=1)
    loader = torch.utils.data.DataLoader(stream, batch_size=8, num_workers=2,
                                         collate_fn=collate_fn)
"""

import itertools
import mmap
import multiprocessing.util
import os
import platform

import h5py
import numpy as np
import torch

from cardsynth.reader import Dataset, decode
from cardsynth.splits import normalize_splits, split_indices

CARD_LABEL = 1
PARTIAL_SUFFIX = ".partial"
# The /labels columns a target is made of (every cardsynth/1 file has them).
LABELS_READ = ("count", "card_id", "corners", "corner_visible", "bbox", "bbox_full",
               "visible_fraction")

try:
    import torchvision.io as _tvio
except ImportError:  # torchvision is optional: Pillow decodes instead
    _tvio = None


def collate_fn(batch):
    """A batch of (image, target) items as (tuple of images, tuple of targets): detection
    images differ in their number of cards, so nothing is stacked."""
    return tuple(zip(*batch))


class CardsynthDataset(torch.utils.data.Dataset):
    """The done images of a cardsynth file (all of them, or those of one split) as
    (image, target) pairs; see the module's description.

    path: the file (a finished OUT, or the OUT.partial of a run still going).
    split: None for every image, else the name of a split in `splits`; image i belongs to
        cardsynth.split_of(seed of the file, i, splits).
    transform: None, or a function (image, target) -> (image, target).
    splits: the split fractions (see cardsynth.splits), default train 0.9, val 0.1.
    """

    def __init__(self, path, split=None, transform=None, splits=None):
        self.path = os.fspath(path)
        self.split = split
        self.transform = transform
        self.splits = normalize_splits(splits)
        if split is not None and split not in (name for name, _ in self.splits):
            raise ValueError(f"split '{split}' is not one of {[n for n, _ in self.splits]}")
        self._handles = {}
        self._generation = 0
        self.refresh()

    def refresh(self):
        """Reads /done again and takes in the images done since; returns how many the Dataset
        holds now. When a run has finished and renamed OUT.partial to OUT, reads OUT."""
        if not os.path.exists(self.path) and self.path.endswith(PARTIAL_SUFFIX):
            finished = self.path[: -len(PARTIAL_SUFFIX)]
            if os.path.exists(finished):
                self.path = finished
        with h5py.File(self.path, "r") as f:
            header = Dataset.read_header(f, self.path)
            done = f["done"][()]
            if header["storage"] != "raw":
                offsets = f["images_offset"][()]
                sizes = f["images_size"][()]
        self.num_images = header["num_images"]
        self.width, self.height = header["width"], header["height"]
        self.seed = header["seed"]
        self.storage = header["storage"]
        self.has_masks = header["has_masks"]
        self.label_columns = header["label_columns"]
        self.complete = header["complete"]
        self.indices = np.flatnonzero(done == 1).astype(np.int64)
        if self.split is not None:
            self.indices = split_indices(self.seed, self.indices, self.split, self.splits)
        if self.storage != "raw":
            self._offsets, self._sizes = offsets.astype(np.int64), sizes.astype(np.int64)
        # A handle opened before this read may hold a stale view of a file still being written.
        self._generation += 1
        self._close_handle()
        return len(self.indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, k):
        if not -len(self.indices) <= k < len(self.indices):
            raise IndexError(f"index {k} is out of range for {len(self.indices)} images")
        i = int(self.indices[k])
        datasets = self._file()
        image = self._image(datasets, i)
        target = self._target(datasets, i)
        if self.transform is not None:
            image, target = self.transform(image, target)
        return image, target

    def image_index(self, k):
        """The index in the file of item k."""
        return int(self.indices[k])

    def close(self):
        """Closes this process's handle on the file (another read opens it again)."""
        self._close_handle()

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state

    def _file(self):
        """This process's open file, as a dict of the h5py datasets an item reads (looking a
        dataset up by name costs more than reading an image's labels)."""
        pid = os.getpid()
        entry = self._handles.get(pid)
        if entry is None or entry[0] != self._generation:
            self._close_handle()
            f = h5py.File(self.path, "r")
            names = ["images" if self.storage == "raw" else "images_encoded"]
            names += ["labels/" + name for name in LABELS_READ]
            names += ["masks"] if self.has_masks else []
            entry = (self._generation, f, {name: f[name] for name in names})
            # Handles of other processes (inherited across fork) are left alone, never closed here.
            self._handles = {pid: entry}
        return entry[2]

    def _close_handle(self):
        entry = self._handles.pop(os.getpid(), None)
        if entry is not None:
            entry[1].close()

    def _image(self, d, i):
        if self.storage == "raw":
            return torch.from_numpy(d["images"][i]).permute(2, 0, 1)
        off = int(self._offsets[i])
        data = d["images_encoded"][off : off + int(self._sizes[i])]
        if _tvio is not None:
            return _tvio.decode_image(torch.from_numpy(data), _tvio.ImageReadMode.RGB)
        return torch.from_numpy(np.array(decode(data))).permute(2, 0, 1)

    def _target(self, d, i):
        n = int(d["labels/count"][i])
        row = {name: d["labels/" + name][i][:n] for name in LABELS_READ if name != "count"}
        return detection_target(i, row, d["masks"][i] if self.has_masks else None)


def detection_target(i, row, mask=None):
    """The torchvision target of image i from its label row (each column's first `count`
    slots) and its mask ([H, W], slot k + 1 where card slot k is seen), when there is one."""
    bbox = row["bbox"]
    keep = np.flatnonzero((bbox[:, 2] > bbox[:, 0]) & (bbox[:, 3] > bbox[:, 1]))
    visible = row["corner_visible"][keep].astype(np.float32)
    keypoints = np.concatenate([row["corners"][keep], visible[:, :, None]], axis=2)
    keypoints[visible == 0, :2] = 0
    target = {
        "boxes": torch.from_numpy(bbox[keep].astype(np.float32)),
        "labels": torch.full((len(keep),), CARD_LABEL, dtype=torch.int64),
        "keypoints": torch.from_numpy(keypoints.astype(np.float32)),
        "boxes_full": torch.from_numpy(row["bbox_full"][keep].astype(np.float32)),
        "visible_fraction": torch.from_numpy(row["visible_fraction"][keep].astype(np.float32)),
        "card_ids": torch.from_numpy(row["card_id"][keep].astype(np.int64)),
        "image_id": torch.tensor(i, dtype=torch.int64),
    }
    if mask is not None:
        slots = (keep + 1).astype(mask.dtype)
        target["masks"] = torch.from_numpy(
            (mask[None, :, :] == slots[:, None, None]).astype(np.uint8))
    return target


def _frames(n, height, width, shared):
    """An uninitialised uint8 tensor [n, H, W, 3] for a chunk of frames: in a DataLoader worker, in
    shared memory from the start (as DataLoader's own collation allocates), so that handing the
    frames to the training process copies none of them."""
    if shared:
        try:
            storage = torch.empty(0, dtype=torch.uint8).storage()._new_shared(
                n * height * width * 3)
            return torch.empty(0, dtype=torch.uint8).new(storage).view(n, height, width, 3)
        except (AttributeError, TypeError, RuntimeError):
            pass  # another torch: DataLoader copies the frames into shared memory instead
    return torch.empty((n, height, width, 3), dtype=torch.uint8)


# The frames a worker renders into: blocks of `chunk` frames in named shared memory, each mapped
# once in the worker and once in the training process, and reused. A fresh shared-memory frame
# per image costs its pages every time, in both processes (about 1 CPU ms for a 1280x720 frame,
# a quarter of rendering it); copying the frame out of a mapped block costs a third of that, on
# the training process's cores. So the training process is lent the frame where it lies: a
# block's first bytes hold one flag per frame, set by the worker when it draws the frame and
# cleared by the training process when the last tensor or array viewing that frame is gone, and
# a block is drawn into again only when all its flags are clear. A frame the training loop holds
# keeps its block from reuse (after _POOL_BLOCKS such blocks the worker renders into fresh
# frames); it never changes under the loop.
_SHM_DIR = "/dev/shm"
_FLAGS_BYTES = 64
_POOL_BLOCKS = 8  # per worker; past them (a training process that lags) fresh frames as before


class _FramePool:
    """A worker's reusable blocks of frames (see above)."""

    def __init__(self, chunk, height, width):
        self.chunk, self.height, self.width = chunk, height, width
        self.blocks = []  # (path, mmap, flags array, frames array)
        self.handed_over = False  # set when a _PooledImage of this pool is pickled
        # The flags order the two processes' accesses only where a load is never passed by a
        # later store (x86); elsewhere the frames are fresh, as DataLoader would make them.
        self.usable = os.path.isdir(_SHM_DIR) and platform.machine() in ("x86_64", "AMD64")
        # When the worker ends, not when this pool is collected: frames of it may still be on
        # their way to the training process.
        self._finalizer = multiprocessing.util.Finalize(None, _FramePool._unlink, (self.blocks,),
                                                        exitpriority=10)

    @staticmethod
    def _unlink(blocks):
        for path, *_ in blocks:
            try:
                os.unlink(path)
            except OSError:
                pass
        blocks.clear()

    def close(self):
        """Removes the blocks' names; frames already handed over stay readable."""
        self.usable = False
        self._finalizer()

    def take(self, n):
        """A free block's first n frames, as (path, frames [n, H, W, 3]); None when all blocks
        are in use (or shared memory is not at hand)."""
        for path, _, flags, frames in self.blocks:
            if not flags[:self.chunk].any():
                flags[:n] = 1
                return path, frames[:n]
        if len(self.blocks) >= _POOL_BLOCKS:
            if not self.handed_over:
                # Nothing reached the training process as a _PooledImage (a collate_fn or a
                # transform made other tensors of the frames): the blocks would never be freed.
                self.close()
            return None
        if not self.usable:
            return None
        path = os.path.join(_SHM_DIR, f"cardsynth-frames-{os.getpid()}-{next(_BLOCK_NAMES)}")
        try:
            block = _map_block(path, _block_bytes(self.chunk, self.height, self.width),
                               create=True)
        except OSError:
            return None
        flags, frames = _block_arrays(block, self.chunk, self.height, self.width)
        self.blocks.append((path, block, flags, frames))
        flags[:n] = 1
        return path, frames[:n]


_BLOCK_NAMES = itertools.count()
_POOLS = {}  # this worker's pools, by (chunk, height, width): one for all its iterations


def _pool(chunk, height, width):
    key = (chunk, height, width)
    if key not in _POOLS:
        _POOLS[key] = _FramePool(chunk, height, width)
    return _POOLS[key]


def _map_block(path, size, create):
    fd = os.open(path, os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0), 0o600)
    try:
        if create:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def _block_bytes(chunk, height, width):
    return _FLAGS_BYTES + chunk * height * width * 3


def _block_arrays(block, chunk, height, width):
    flags = np.frombuffer(block, np.uint8, _FLAGS_BYTES)
    frames = np.frombuffer(block, np.uint8, offset=_FLAGS_BYTES)  # the rest of the block
    return flags, frames.reshape(chunk, height, width, 3)


# The blocks the training process has mapped, by name. Each name is removed as soon as it is
# mapped here (the two mappings keep the memory; a killed worker leaves nothing behind), and a
# mapping is dropped once its worker has ended, as the next block arrives: the last workers'
# blocks (a few per worker, 22 MB each for 8 frames of 1280x720) stay mapped until then.
_MAPPED = {}
_mapped_count = 0  # blocks mapped by this process so far


def _worker_alive(path):
    pid = int(os.path.basename(path).split("-")[2])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class _LentFrame(np.ndarray):
    """A frame of a mapped block, lent to the training process: when it goes (and with it every
    tensor and array viewing it, which keep it alive), its flag is cleared and the worker may
    draw into it again. Views of it are plain views: only the first one carries the flag."""

    def __del__(self):
        lent = self.__dict__.pop("_cardsynth_flag", None)
        if lent is not None:
            flags, index = lent
            flags[index] = 0


def _frame_from_block(path, index, chunk, height, width):
    """The training process's side of _PooledImage: frame `index` of the block at `path`, lent
    as a tensor of [3, H, W] like the worker's view (see _LentFrame)."""
    global _mapped_count
    arrays = _MAPPED.get(path)
    if arrays is None:
        for gone in [p for p in _MAPPED if not _worker_alive(p)]:
            del _MAPPED[gone]
        block = _map_block(path, _block_bytes(chunk, height, width), create=False)
        try:
            os.unlink(path)
        except OSError:
            pass
        arrays = _MAPPED[path] = _block_arrays(block, chunk, height, width)
        _mapped_count += 1
    flags, frames = arrays
    frame = frames[index].view(_LentFrame)
    frame._cardsynth_flag = (flags, index)
    return torch.from_numpy(frame).permute(2, 0, 1)


class _PooledImage(torch.Tensor):
    """A worker's [3, H, W] view of a frame in its _FramePool; pickled as where it lies, and lent
    to the training process by _frame_from_block. Operations on it give plain tensors, which
    DataLoader hands over as usual."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __reduce_ex__(self, protocol):
        pool, block = self._cardsynth_block
        pool.handed_over = True
        return (_frame_from_block, block)


# A target tensor up to this size travels from a worker inside the message itself; a larger one
# (a mask stack) in shared memory, as DataLoader hands over every tensor.
_BY_VALUE_BYTES = 1 << 16


def _target_from_arrays(items):
    """The receiving side of _HandedOver: a plain dict of tensors again."""
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in items.items()}


class _HandedOver(dict):
    """A target on its way from a DataLoader worker. DataLoader moves every tensor it hands over
    into a shared-memory segment of its own, whose descriptor the training process then fetches
    from the worker in a round trip: for a target's seven small tensors that cost more than
    rendering the frame's pixels. This dict pickles its small tensors as numpy arrays, carried
    in the message, and the training process unpickles a plain dict of tensors."""

    def __reduce__(self):
        items = {k: v.numpy() if isinstance(v, torch.Tensor) and not v.requires_grad and
                 v.device.type == "cpu" and v.nelement() * v.element_size() <= _BY_VALUE_BYTES
                 else v for k, v in self.items()}
        return (_target_from_arrays, (items,))


class CardsynthStream(torch.utils.data.IterableDataset):
    """Images rendered on demand as (image, target) pairs; see the module's description.

    config: None, a YAML file path or a dict, as cardsynth.Generator takes it.
    start: the first image index; length: how many images (None: without end).
    transform: None, or a function (image, target) -> (image, target).
    chunk: images per render_batch call in each process (default: 4 x the generator's
        threads, at least 8); a chunk's images render in parallel on the generator's threads.
    overrides: dotted configuration keys, as cardsynth.Generator takes them (threads=...).

    Each process that iterates (each DataLoader worker) makes its own Generator, with
    processes=workers, so that threads `auto` gives each worker its share of the cores.
    """

    def __init__(self, config=None, start=0, length=None, transform=None, chunk=None,
                 **overrides):
        if start < 0 or (length is not None and length < 0):
            raise ValueError(f"start and length must be >= 0, got {start} and {length}")
        self.config = os.fspath(config) if isinstance(config, os.PathLike) else config
        self.start, self.length = int(start), None if length is None else int(length)
        self.transform = transform
        self.chunk = chunk
        self.overrides = overrides
        self._generator = None
        self._owner = None

    def __len__(self):
        if self.length is None:
            raise TypeError("an endless CardsynthStream (length=None) has no length")
        return self.length

    def generator(self, workers=1):
        """This process's Generator, made on first use (after the fork in a worker)."""
        if self._owner != os.getpid():  # a generator inherited through fork cannot render
            from cardsynth import Generator  # the compiled module: only where it is used
            self._generator = Generator(self.config, processes=workers, **self.overrides)
            self._owner = os.getpid()
        return self._generator

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_generator"], state["_owner"] = None, None
        return state

    def indices(self, worker=0, workers=1):
        """The image indices worker `worker` of `workers` renders, in order."""
        first = self.start + worker
        if self.length is None:
            return itertools.count(first, workers)
        return iter(range(first, self.start + self.length, workers))

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        gen = self.generator(workers)
        todo = self.indices(worker, workers)
        # Large enough that the threads rarely wait for the last image of a call.
        chunk = self.chunk or max(8, 4 * gen.threads)
        pool = _pool(chunk, gen.height, gen.width) if info is not None else None
        while True:
            batch = list(itertools.islice(todo, chunk))
            if not batch:
                return
            pooled = pool.take(len(batch)) if pool is not None else None
            if pooled is not None:
                images = torch.from_numpy(pooled[1])
            else:
                images = _frames(len(batch), gen.height, gen.width, info is not None)
            _, labels = gen.render_batch(batch, out=images.numpy())
            masks = labels.pop("masks", None)
            for k, i in enumerate(batch):
                n = int(labels["count"][k])
                row = {name: labels[name][k][:n] for name in LABELS_READ if name != "count"}
                image = images[k].permute(2, 0, 1)
                if pooled is not None:
                    image = image.as_subclass(_PooledImage)
                    image._cardsynth_block = (pool, (pooled[0], k, chunk, gen.height, gen.width))
                target = detection_target(i, row, None if masks is None else masks[k])
                if self.transform is not None:
                    image, target = self.transform(image, target)
                if info is not None and type(target) is dict:
                    target = _HandedOver(target)
                yield image, target


__all__ = ["CARD_LABEL", "CardsynthDataset", "CardsynthStream", "collate_fn", "detection_target"]
