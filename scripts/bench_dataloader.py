#!/usr/bin/python3
"""How fast CardsynthDataset feeds a DataLoader, next to decoding the same frames with Pillow
alone.

    bench_dataloader.py FILE [--workers 2] [--batch-size 8] [--rounds 3]

FILE is a cardsynth file with JPEG or PNG storage, e.g. one made with
`build/release/cardsynth generate -n 500 -o /tmp/dl.h5` (1280x720 JPEG). Prints the rate of
Pillow decoding every stored frame in this one process (the bytes read into memory first, no
HDF5 while timing), the rate of a DataLoader over CardsynthDataset (worker start-up, HDF5 reads,
decoding and targets included), both in images/s over the whole file, and their ratio. The two
are measured in turn, `--rounds` times, and the best round of each counts: on a shared machine the
slowest rounds measure the neighbours.
"""

import argparse
import io
import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import cardsynth  # noqa: E402


def pil_rate(path):
    """Images/s of Pillow decoding every stored frame of `path` to an RGB array."""
    with cardsynth.Dataset(path) as ds:
        if ds.storage == "raw":
            sys.exit(f"bench_dataloader: {path} stores raw frames; make one with --storage jpeg")
        frames = [ds.image_bytes(i) for i in range(len(ds))]
    start = time.perf_counter()
    for data in frames:
        with Image.open(io.BytesIO(data)) as image:
            np.asarray(image.convert("RGB"))
    return len(frames) / (time.perf_counter() - start)


def loader_rate(path, workers, batch_size):
    """Images/s of a DataLoader with `workers` processes over CardsynthDataset(path)."""
    import torch

    from cardsynth.torch import CardsynthDataset, collate_fn

    torch.set_num_threads(1)
    start = time.perf_counter()
    dataset = CardsynthDataset(path)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                                         collate_fn=collate_fn)
    count = sum(len(images) for images, _ in loader)
    rate = count / (time.perf_counter() - start)
    if count != len(dataset):
        sys.exit(f"bench_dataloader: the loader gave {count} images of {len(dataset)}")
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with cardsynth.Dataset(args.file) as ds:
        print(f"{args.file}: {len(ds)} images {ds.width}x{ds.height}, storage {ds.storage}")
    pil = loader = 0.0
    for r in range(args.rounds):
        pil_r = pil_rate(args.file)
        loader_r = loader_rate(args.file, args.workers, args.batch_size)
        print(f"round {r + 1}: Pillow {pil_r:.1f}, CardsynthDataset {loader_r:.1f} images/s")
        pil, loader = max(pil, pil_r), max(loader, loader_r)
    print(f"Pillow decode, 1 process:           {pil:8.1f} images/s")
    print(f"CardsynthDataset, {args.workers} workers:       {loader:8.1f} images/s")
    print(f"ratio:                              {loader / pil:8.2f}")


if __name__ == "__main__":
    main()
