"""Python access to cardsynth datasets (docs/FORMAT.md).

    import cardsynth
    with cardsynth.Dataset("dataset.h5") as ds:
        rgb, labels = ds.image(0), ds.labels(0)
    cardsynth.split_of(ds.seed, 0)          # "train" or "val"

Needs h5py, numpy and Pillow. The PyTorch Dataset is in cardsynth.torch (import it explicitly;
it needs torch, and uses torchvision when present).

Where the build made the compiled module (CMake's CARDSYNTH_PYTHON, on when Python's development
files and pybind11 are installed), the renderer runs in this process too, with no file:

    gen = cardsynth.Generator("configs/w1.yaml", threads=2, **{"scene.blur_sigma": [0, 1]})
    image, labels = gen.render(0)            # uint8 [H, W, 3]; labels as /labels stores image 0
    images, labels = gen.render_batch(range(8))

cardsynth.torch.CardsynthStream streams such images into a DataLoader.
"""

from cardsynth.reader import (DEFAULT_LABEL_COLUMNS, LABEL_ARRAYS, LABEL_COLUMNS_ATTRIBUTE, SCHEMA,
                              Dataset, column_shape, decode, label_columns, text)
from cardsynth.splits import DEFAULT_SPLITS, normalize_splits, split_indices, split_of, splitmix64

# The compiled renderer (src/python); absent from a build without it, which the package does not
# need for reading files.
try:
    from cardsynth._cardsynth import (ConfigError, DatasetError, Error, Generator, InputError,
                                      Interrupted, MpiError)
except ImportError as _error:
    _BINDING_ERROR = _error

    def __getattr__(name):
        if name in ("Generator", "Error", "ConfigError", "InputError", "DatasetError", "MpiError",
                    "Interrupted"):
            raise ImportError(f"cardsynth.{name} needs the compiled module cardsynth._cardsynth, "
                              f"which cannot be imported ({_BINDING_ERROR}); build cardsynth with "
                              f"Python's development files and pybind11 installed "
                              f"(scripts/install-deps)")
        raise AttributeError(f"module 'cardsynth' has no attribute '{name}'")
else:
    _BINDING_ERROR = None

__all__ = [
    "DEFAULT_LABEL_COLUMNS", "DEFAULT_SPLITS", "LABEL_ARRAYS", "LABEL_COLUMNS_ATTRIBUTE", "SCHEMA",
    "Dataset", "column_shape", "decode", "label_columns", "normalize_splits", "split_indices",
    "split_of", "splitmix64", "text",
]
if _BINDING_ERROR is None:
    __all__ += ["ConfigError", "DatasetError", "Error", "Generator", "InputError", "Interrupted",
                "MpiError"]
