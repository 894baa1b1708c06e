"""Read a cardsynth/1 dataset (docs/FORMAT.md) with h5py and numpy.

    from cardsynth_reader import Dataset
    with Dataset("dataset.h5") as ds:
        rgb = ds.image(0)          # numpy uint8 [H, W, 3], RGB
        labels = ds.labels(0)      # dict of numpy arrays, one row per card in image 0
        name = ds.cards["name"][labels["card_id"][0]]

Encoded frames (storage jpeg or png) are decoded with Pillow.
"""

import io

import h5py
import numpy as np

SCHEMA = "cardsynth/1"
LABEL_ARRAYS = ("card_id", "corners", "corner_visible", "bbox", "bbox_full", "visible_fraction")


def text(value):
    """An HDF5 string (fixed-length strings come back from h5py as bytes) as str."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def decode(data):
    """JPEG or PNG bytes (a numpy uint8 array or bytes) as a uint8 [H, W, 3] RGB array."""
    from PIL import Image

    raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    with Image.open(io.BytesIO(raw)) as image:
        return np.asarray(image.convert("RGB"))


class Dataset:
    def __init__(self, path):
        self.path = path
        self.file = h5py.File(path, "r")
        schema = text(self.file.attrs.get("schema", b""))
        if schema != SCHEMA:
            self.file.close()
            raise ValueError(f"{path}: schema {schema!r}, expected {SCHEMA!r}")
        attrs = self.file.attrs
        self.num_images = int(attrs["num_images"])
        self.width = int(attrs["width"])
        self.height = int(attrs["height"])
        self.max_cards = int(attrs["max_cards"])
        self.seed = int(attrs["seed"])
        self.storage = text(attrs["storage"])
        self.has_masks = bool(attrs.get("masks", 0))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.file.close()

    def __len__(self):
        return self.num_images

    @property
    def complete(self):
        return bool(self.file.attrs["complete"])

    @property
    def config(self):
        """The resolved configuration the file was made with, as YAML text."""
        return text(self.file["config"][()])

    @property
    def cards(self):
        """The catalog: name and source (lists of str), rank and weight (numpy arrays)."""
        g = self.file["cards"]
        return {
            "name": [text(v) for v in g["name"][:]],
            "source": [text(v) for v in g["source"][:]],
            "rank": g["rank"][:],
            "weight": g["weight"][:],
        }

    def done(self):
        return self.file["done"][:]

    def image_bytes(self, i):
        """The stored bytes of image i: the JPEG/PNG file, or the raw pixels."""
        if self.storage == "raw":
            return self.file["images"][i].tobytes()
        off = int(self.file["images_offset"][i])
        size = int(self.file["images_size"][i])
        return self.file["images_encoded"][off : off + size].tobytes()

    def image(self, i):
        if self.storage == "raw":
            return self.file["images"][i]
        return decode(self.image_bytes(i))

    def mask(self, i):
        """uint8 [H, W]: 0 background, k + 1 where card slot k is seen."""
        return self.file["masks"][i]

    def labels(self, i):
        """Image i's labels, each array cut to its `count` cards (painter's order)."""
        g = self.file["labels"]
        n = int(g["count"][i])
        return {name: g[name][i][:n] for name in LABEL_ARRAYS}
