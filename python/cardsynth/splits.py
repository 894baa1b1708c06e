"""Train/validation splits as a pure function of (seed, image index).

Image i of a file made with seed s belongs to split_of(s, i, splits), whatever the number of
images: adding images never moves an old one. `cardsynth export` computes the same function, bit
for bit, so the images of a split are the same whether they are read here or exported.

    u = (splitmix64(seed ^ splitmix64(i)) >> 11) * 2**-53        # uniform in [0, 1)

Image i goes to the first split, in the order given, whose cumulative fraction exceeds u; the
last split takes whatever rounding leaves over.
"""

MASK64 = (1 << 64) - 1
DEFAULT_SPLITS = (("train", 0.9), ("val", 0.1))
# How far the fractions may sum from 1 (decimal fractions such as 0.7 + 0.2 + 0.1 are not exact).
FRACTION_SUM_TOLERANCE = 1e-6


def splitmix64(x):
    """SplitMix64's output function of the 64-bit integer x (taken mod 2**64)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def split_unit(seed, i):
    """Image i's point in [0, 1), a multiple of 2**-53, from which its split is read."""
    return (splitmix64((seed & MASK64) ^ splitmix64(i)) >> 11) * 2.0**-53


def normalize_splits(splits=None):
    """`splits` (a mapping of name to fraction, or a sequence of (name, fraction) pairs, in the
    order that assigns images; None for DEFAULT_SPLITS) as a tuple of (name, float) pairs.
    Raises ValueError unless the names are distinct non-empty strings and the fractions are
    non-negative and sum to 1."""
    if splits is None:
        splits = DEFAULT_SPLITS
    pairs = list(splits.items()) if hasattr(splits, "items") else list(splits)
    if not pairs:
        raise ValueError("splits: no split given")
    result = []
    for pair in pairs:
        try:
            name, fraction = pair
            fraction = float(fraction)
        except (TypeError, ValueError):
            raise ValueError(f"splits: {pair!r} is not a (name, fraction) pair") from None
        if not isinstance(name, str) or not name:
            raise ValueError(f"splits: the name {name!r} is not a non-empty string")
        if not fraction >= 0.0:
            raise ValueError(f"splits: '{name}' has the fraction {fraction}, not one >= 0")
        result.append((name, fraction))
    names = [name for name, _ in result]
    if len(set(names)) != len(names):
        raise ValueError(f"splits: a name appears twice in {names}")
    total = sum(fraction for _, fraction in result)
    if abs(total - 1.0) > FRACTION_SUM_TOLERANCE:
        raise ValueError(f"splits: the fractions sum to {total}, not 1")
    return tuple(result)


def split_of(seed, i, splits=None):
    """The name of the split that image i of a file made with `seed` belongs to. `splits` as for
    normalize_splits (default train 0.9, val 0.1)."""
    pairs = normalize_splits(splits)
    return _split_of(seed, i, pairs)


def split_indices(seed, indices, split, splits=None):
    """The members of `indices` (image indices) that belong to `split`, in their order, as a
    numpy int64 array; the same as testing split_of on each, computed with numpy's uint64."""
    import numpy as np

    pairs = normalize_splits(splits)
    names = [name for name, _ in pairs]
    if split not in names:
        raise ValueError(f"split '{split}' is not one of {names}")
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    x = np.uint64(seed & MASK64) ^ _splitmix64_array(indices.astype(np.uint64))
    u = (_splitmix64_array(x) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    edges = np.cumsum([fraction for _, fraction in pairs])[:-1]
    which = np.searchsorted(edges, u, side="right")
    return indices[which == names.index(split)]


def _splitmix64_array(x):
    import numpy as np

    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _split_of(seed, i, pairs):
    u = split_unit(seed, i)
    cumulative = 0.0
    for name, fraction in pairs[:-1]:
        cumulative += fraction
        if u < cumulative:
            return name
    return pairs[-1][0]
