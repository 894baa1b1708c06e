"""Read a cardsynth/1 dataset (docs/FORMAT.md) with h5py and numpy.

    from cardsynth import Dataset
    with Dataset("dataset.h5") as ds:
        rgb = ds.image(0)          # numpy uint8 [H, W, 3], RGB
        labels = ds.labels(0)      # dict of numpy arrays, one row per card in image 0
        name = ds.cards["name"][labels["card_id"][0]]

Encoded frames (storage jpeg or png) are decoded with Pillow.
"""

import io
import json

import h5py
import numpy as np

SCHEMA = "cardsynth/1"
# The `columns` attribute of /labels describes every label column (docs/FORMAT.md); files made
# before it was written have exactly these.
DEFAULT_LABEL_COLUMNS = (
    {"name": "count", "dtype": "uint16", "per": "image", "shape": [], "padding": 0},
    {"name": "card_id", "dtype": "int32", "per": "slot", "shape": [], "padding": -1},
    {"name": "corners", "dtype": "float32", "per": "slot", "shape": [4, 2], "padding": 0},
    {"name": "corner_visible", "dtype": "uint8", "per": "slot", "shape": [4], "padding": 0},
    {"name": "bbox", "dtype": "float32", "per": "slot", "shape": [4], "padding": 0},
    {"name": "bbox_full", "dtype": "float32", "per": "slot", "shape": [4], "padding": 0},
    {"name": "visible_fraction", "dtype": "float32", "per": "slot", "shape": [], "padding": 0},
)
LABEL_COLUMNS_ATTRIBUTE = "columns"
# The per-slot columns of cardsynth/1, the keys of Dataset.labels(i) for such a file.
LABEL_ARRAYS = tuple(c["name"] for c in DEFAULT_LABEL_COLUMNS if c["per"] == "slot")


def text(value):
    """An HDF5 string (fixed-length strings come back from h5py as bytes) as str."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def _lenient_text(value):
    """A stored name or path as str. Files made before names were stored as valid UTF-8 may hold
    other bytes (a file name in Latin-1): those become U+FFFD instead of failing the read."""
    return bytes(value).decode("utf-8", errors="replace")


def _byte_rows(dataset):
    """The rows of a _bytes column (uint8 [C, L], zero-padded) as bytes objects."""
    return [bytes(row).rstrip(b"\0") for row in dataset[()]]


# The input record (docs/FORMAT.md): per card in /cards, and for the popularity table in
# /popularity; files made before it have none of these.
RECORD_COLUMNS = ("file_size", "file_mtime_ns", "file_hash")


def label_columns(f):
    """The label columns of open h5py file `f`, as dicts of name, dtype, per ("slot" or
    "image"), shape (of one entry) and padding: from its description, or the cardsynth/1 default
    for a file made before descriptions. Raises ValueError when the description is malformed."""
    if "labels" not in f or LABEL_COLUMNS_ATTRIBUTE not in f["labels"].attrs:
        return [dict(c) for c in DEFAULT_LABEL_COLUMNS]
    raw = text(f["labels"].attrs[LABEL_COLUMNS_ATTRIBUTE])
    try:
        columns = json.loads(raw)
        for c in columns:
            if set(c) != {"name", "dtype", "per", "shape", "padding"} or \
                    c["per"] not in ("slot", "image"):
                raise ValueError(f"entry {c!r}")
            np.dtype(c["dtype"])
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"/labels: the {LABEL_COLUMNS_ATTRIBUTE} attribute is not a column "
                         f"list ({e})") from None
    return columns


def column_shape(column, num_images, max_cards):
    """The dataset shape of a label column in a file of these dimensions."""
    lead = (num_images, max_cards) if column["per"] == "slot" else (num_images,)
    return lead + tuple(column["shape"])


def decode(data):
    """JPEG or PNG bytes (a numpy uint8 array or bytes) as a uint8 [H, W, 3] RGB array."""
    from PIL import Image

    raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    with Image.open(io.BytesIO(raw)) as image:
        return np.asarray(image.convert("RGB"))


class Dataset:
    """An open cardsynth/1 file: its header as attributes, images and labels by index."""

    def __init__(self, path):
        self.path = path
        self.file = h5py.File(path, "r")
        try:
            header = self.read_header(self.file, path)
        except ValueError:
            self.file.close()
            raise
        self.num_images = header["num_images"]
        self.width = header["width"]
        self.height = header["height"]
        self.max_cards = header["max_cards"]
        self.seed = header["seed"]
        self.storage = header["storage"]
        self.has_masks = header["has_masks"]
        self.label_columns = header["label_columns"]

    @staticmethod
    def read_header(f, path):
        """The header of open h5py file `f` (read from `path`) as a dict: num_images, width,
        height, max_cards, seed, storage, has_masks, complete, label_columns. Raises ValueError
        unless its schema is cardsynth/1."""
        schema = text(f.attrs.get("schema", b""))
        if schema != SCHEMA:
            raise ValueError(f"{path}: schema {schema!r}, expected {SCHEMA!r}")
        attrs = f.attrs
        return {
            "num_images": int(attrs["num_images"]),
            "width": int(attrs["width"]),
            "height": int(attrs["height"]),
            "max_cards": int(attrs["max_cards"]),
            "seed": int(attrs["seed"]),
            "storage": text(attrs["storage"]),
            "has_masks": bool(attrs.get("masks", 0)),
            "complete": bool(attrs.get("complete", 0)),
            "label_columns": label_columns(f),
        }

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
        """The catalog: name and source (lists of str), rank and weight (numpy arrays),
        name_bytes and source_bytes (lists of bytes: the names as the file system gave them,
        which need not be UTF-8), and, when the file records its inputs, file_size,
        file_mtime_ns and file_hash (numpy arrays; built-in cards have size and time 0)."""
        g = self.file["cards"]
        stored_names, stored_sources = g["name"][:], g["source"][:]
        cards = {
            "name": [_lenient_text(v) for v in stored_names],
            "source": [_lenient_text(v) for v in stored_sources],
            "rank": g["rank"][:],
            "weight": g["weight"][:],
            # A file made before the _bytes columns stored the bytes themselves as the names.
            "name_bytes": _byte_rows(g["name_bytes"]) if "name_bytes" in g
            else [bytes(v) for v in stored_names],
            "source_bytes": _byte_rows(g["source_bytes"]) if "source_bytes" in g
            else [bytes(v) for v in stored_sources],
        }
        for column in RECORD_COLUMNS:
            if column in g:
                cards[column] = g[column][:]
        return cards

    @property
    def popularity_table(self):
        """The popularity table the catalog read, as a dict of source (str), source_bytes,
        file_size, file_mtime_ns and file_hash; None when the run had none or the file records
        no inputs."""
        g = self.file.get("popularity")
        if g is None or g["source"].shape[0] == 0:
            return None
        table = {"source": _lenient_text(g["source"][0]),
                 "source_bytes": _byte_rows(g["source_bytes"])[0]}
        for column in RECORD_COLUMNS:
            table[column] = int(g[column][0])
        return table

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
        """Image i's labels: every per-slot column cut to its `count` cards (painter's order),
        and every per-image column but `count` as its entry."""
        g = self.file["labels"]
        n = int(g["count"][i])
        return {c["name"]: g[c["name"]][i][:n] if c["per"] == "slot" else g[c["name"]][i]
                for c in self.label_columns if c["name"] != "count"}
