"""Python access to cardsynth datasets (docs/FORMAT.md).

    import cardsynth
    with cardsynth.Dataset("dataset.h5") as ds:
        rgb, labels = ds.image(0), ds.labels(0)
    cardsynth.split_of(ds.seed, 0)          # "train" or "val"

Needs h5py, numpy and Pillow. The PyTorch Dataset is in cardsynth.torch (import it explicitly;
it needs torch, and uses torchvision when present).
"""

from cardsynth.reader import (DEFAULT_LABEL_COLUMNS, LABEL_ARRAYS, LABEL_COLUMNS_ATTRIBUTE, SCHEMA,
                              Dataset, column_shape, decode, label_columns, text)
from cardsynth.splits import DEFAULT_SPLITS, normalize_splits, split_indices, split_of, splitmix64

__all__ = [
    "DEFAULT_LABEL_COLUMNS", "DEFAULT_SPLITS", "LABEL_ARRAYS", "LABEL_COLUMNS_ATTRIBUTE", "SCHEMA",
    "Dataset", "column_shape", "decode", "label_columns", "normalize_splits", "split_indices",
    "split_of", "splitmix64", "text",
]
