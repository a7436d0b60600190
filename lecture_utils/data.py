"""Fashion-MNIST, found, verified and split.

Where the data comes from (first match wins):

1. ``$FASHION_MNIST_DIR`` -- any folder holding the four ``*-ubyte.gz`` files;
2. Keras's own cache, ``~/.keras/datasets/fashion-mnist`` (``$KERAS_HOME``
   moves ``~/.keras``);
3. Debian's package ``dataset-fashion-mnist``, ``/usr/share/datasets/fashion-mnist``;
4. a download through Keras (``keras.utils.get_file``), into Keras's cache.

Whatever the source, the *uncompressed* contents of each file are checked
against the sha256 sums published with the course (``FILES`` below). The
verdict is remembered (in ``~/.cache/lecture_utils``, keyed by path, size and
modification time), so the files are hashed once, not on every load.

Introduced in ``notebooks/00_start_here.ipynb``.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: The four files: uncompressed size and sha256 of the uncompressed bytes.
FILES = {
    "train-images-idx3-ubyte.gz": (47_040_016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels-idx1-ubyte.gz": (60_008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "t10k-images-idx3-ubyte.gz": (7_840_016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "t10k-labels-idx1-ubyte.gz": (10_008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
N_VALID = 5_000

HOW_TO_GET_THE_DATA = """\
There are three ways to get Fashion-MNIST:
  1. With internet: run `lecture-utils fetch-data` (downloads into Keras's
     cache, ~/.keras/datasets/fashion-mnist, and verifies the files).
  2. Without internet beyond your distribution's mirror (Debian/Ubuntu):
     `sudo apt-get install dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist).
  3. From a copy you already have (a USB stick, a shared drive): put the four
     files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
     t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in a folder and
     set FASHION_MNIST_DIR to that folder."""


class DataError(RuntimeError):
    """Fashion-MNIST could not be found, or a file of it is damaged."""


class Source(NamedTuple):
    """A place the four files may be: its kind (``FASHION_MNIST_DIR``,
    ``keras-cache``, ``debian``) and its folder."""

    kind: str
    path: Path

    def remedy(self, filename: str) -> str:
        if self.kind == "FASHION_MNIST_DIR":
            return (f"replace {self.path / filename} with a good copy, or unset "
                    "FASHION_MNIST_DIR to use another source")
        if self.kind == "keras-cache":
            return (f"delete {self.path / filename} and run `lecture-utils fetch-data` "
                    "to download it again (or use another source, see below)")
        if self.kind == "debian":
            return "reinstall the package: `sudo apt-get install --reinstall dataset-fashion-mnist`"
        return "get a fresh copy of the file"


def keras_cache_dir() -> Path:
    """Keras's dataset cache for Fashion-MNIST, honouring ``$KERAS_HOME``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "fashion-mnist"


def candidate_sources() -> list[Source]:
    """The sources to look in, in order (the download is not one of them)."""
    sources = []
    if os.environ.get("FASHION_MNIST_DIR"):
        sources.append(Source("FASHION_MNIST_DIR", Path(os.environ["FASHION_MNIST_DIR"]).expanduser()))
    sources.append(Source("keras-cache", keras_cache_dir()))
    sources.append(Source("debian", DEBIAN_DIR))
    return sources


def _is_complete(source: Source) -> bool:
    return all((source.path / name).is_file() for name in FILES)


def find_source() -> Source | None:
    """The first source holding all four files, or None."""
    for source in candidate_sources():
        if _is_complete(source):
            return source
    return None


# --------------------------------------------------------------------------
# Verification, with the verdict remembered.

def _verdict_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lecture_utils" / "fashion-mnist-verified.json"


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _read_verdicts() -> dict:
    try:
        return json.loads(_verdict_cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _remember_verdict(stamp: str) -> None:
    verdicts = _read_verdicts()
    verdicts[stamp] = "ok"
    cache = _verdict_cache_file()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(verdicts, indent=1))
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home only costs a re-check next time


_VERIFIED: set = set()   # the stamps this process checked itself (a sandbox's home, with the verdicts, is new each time)


def _read_verified(source: Source, name: str, need_bytes: bool = True) -> bytes | None:
    """The uncompressed bytes of one file, checked against ``FILES``
    (``None`` when ``need_bytes`` is false and the file was verified before).

    Raises:
        DataError: naming the file, its source and the remedy, if the file
            is not valid gzip, is truncated, or its contents differ.
    """
    path = source.path / name
    size, sha256 = FILES[name]

    def damaged(reason: str) -> DataError:
        return DataError(
            f"Fashion-MNIST file {path} (source: {source.kind}) is damaged: {reason}.\n"
            f"Remedy: {source.remedy(name)}.\n\n{HOW_TO_GET_THE_DATA}")

    stamp = _stamp(path)
    known_good = stamp in _VERIFIED or _read_verdicts().get(stamp) == "ok"
    if known_good and not need_bytes:
        return None
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise damaged(f"it cannot be decompressed ({type(exc).__name__}: {exc})") from None
    if known_good and len(raw) == size:
        return raw
    if len(raw) != size:
        raise damaged(f"its contents are {len(raw):,} bytes, expected {size:,} (truncated or wrong file)")
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise damaged("its sha256 checksum does not match the published one")
    _remember_verdict(stamp)
    _VERIFIED.add(stamp)
    return raw


def verify(source: Source) -> None:
    """Check all four files of ``source``; raise :class:`DataError` on the first bad one."""
    for name in FILES:
        _read_verified(source, name, need_bytes=False)


def _parse_idx(raw: bytes) -> np.ndarray:
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


# --------------------------------------------------------------------------
# Download (only when no local source has the files).

def download() -> Source:
    """Download the four files into Keras's cache with ``keras.utils.get_file``
    (which shows a progress bar), then verify them.

    Returns:
        The keras-cache :class:`Source`.

    Raises:
        DataError: when the download fails (no network) or the files are bad.
    """
    import keras

    target = keras_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if (target / name).is_file():
            continue
        try:
            keras.utils.get_file(name, origin=DOWNLOAD_URL + name,
                                 cache_dir=str(target.parent.parent),
                                 cache_subdir=os.path.join("datasets", "fashion-mnist"))
        except Exception as exc:  # URLError, HTTPError, socket errors, Keras's own
            raise DataError(
                f"Could not download {name} from {DOWNLOAD_URL} "
                f"({type(exc).__name__}: {exc}).\n\n{HOW_TO_GET_THE_DATA}") from None
    source = Source("keras-cache", target)
    verify(source)
    return source


def _not_found_message(reason: str) -> str:
    looked = "\n".join(f"  - {s.kind}: {s.path} "
                       f"({'incomplete' if s.path.is_dir() else 'no such folder'})"
                       for s in candidate_sources())
    return (f"Fashion-MNIST was not found on this machine, and {reason}.\n"
            f"Looked in:\n{looked}\n\n{HOW_TO_GET_THE_DATA}")


def locate(allow_download: bool = True) -> Source:
    """The verified source of the data, downloading if no local source has it.

    Raises:
        DataError: no source has the files and the download failed (or was
            not allowed), or a file is damaged.
    """
    source = find_source()
    if source is None:
        if not allow_download:
            raise DataError(_not_found_message("downloading was not allowed"))
        try:
            source = download()
        except DataError as exc:
            raise DataError(_not_found_message(f"the download failed: {str(exc).splitlines()[0]}")) from None
    verify(source)
    return source


# --------------------------------------------------------------------------
# The splits.

@dataclasses.dataclass
class FashionMNIST:
    """The standard splits. Images are float32 in [0, 1], shape (n, 28, 28);
    labels are uint8 class indices 0-9 (see ``class_names``)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    source: Source

    def __repr__(self) -> str:
        return (f"FashionMNIST(train={len(self.y_train):,}, valid={len(self.y_valid):,}, "
                f"test={len(self.y_test):,}, source={self.source.kind}: {self.source.path})")


_RAW_CACHE: dict = {}


def _load_raw(source: Source) -> tuple:
    key = _stamp(source.path / "train-images-idx3-ubyte.gz")
    if key not in _RAW_CACHE:
        arrays = [_parse_idx(_read_verified(source, name)) for name in FILES]
        _RAW_CACHE.clear()
        _RAW_CACHE[key] = arrays
    return _RAW_CACHE[key]


def warm() -> bool:
    """Read and verify the four files once into this process's memory, if a
    local source has them (nothing is downloaded); the forks of grading's
    sandbox template then load from there. True if they were read."""
    source = find_source()
    if source is None:
        return False
    _load_raw(source)
    return True


def stratified_indices(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices of a class-balanced random subset of ``n`` samples of ``y``
    (sorted, so the subset keeps the original order).

    Raises:
        ValueError: ``n`` is not between 1 and ``len(y)``.
    """
    if not 1 <= n <= len(y):
        raise ValueError(f"subset size must be between 1 and {len(y)}, got {n}")
    if n == len(y):
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = np.floor(counts / len(y) * n).astype(int)
    # hand out what rounding left over to the classes with the largest remainders
    rest = n - quota.sum()
    order = np.argsort(-(counts / len(y) * n - quota), kind="stable")
    quota[order[:rest]] += 1
    picked = [rng.choice(np.flatnonzero(y == c), size=q, replace=False)
              for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(picked))


def load_fashion_mnist(profile=None, allow_download: bool = True) -> FashionMNIST:
    """Fashion-MNIST, verified, as the standard splits.

    The 60,000 training images are split into the first 55,000 for training
    and the last 5,000 for validation (as in Géron's chapter 11); the 10,000
    test images are the test set. Pixels are scaled to [0, 1].

    Args:
        profile: a :class:`lecture_utils.profile.Profile` (``get_profile(name)``; this
            module does not import that one: imports run profile -> data). When
            given, each split is cut to the profile's size by a stratified
            random subset (same classes in the same proportions). ``None``
            gives the full splits.
        allow_download: download through Keras when no local source has
            the files.

    Returns:
        A :class:`FashionMNIST`.

    Raises:
        DataError: no source, no network, or a damaged file -- the message
            says which file and what to do.
    """
    source = locate(allow_download=allow_download)
    X_full, y_full, X_test, y_test = _load_raw(source)
    X_train, y_train = X_full[:-N_VALID], y_full[:-N_VALID]
    X_valid, y_valid = X_full[-N_VALID:], y_full[-N_VALID:]
    if profile is not None:
        if not all(hasattr(profile, n) for n in ("n_train", "n_valid", "n_test")):
            raise TypeError(f"profile must be a lecture_utils.profile.Profile, e.g. get_profile('fast'); "
                            f"got {profile!r}")
        p = profile
        i = stratified_indices(y_train, min(p.n_train, len(y_train)), seed=1)
        X_train, y_train = X_train[i], y_train[i]
        i = stratified_indices(y_valid, min(p.n_valid, len(y_valid)), seed=2)
        X_valid, y_valid = X_valid[i], y_valid[i]
        i = stratified_indices(y_test, min(p.n_test, len(y_test)), seed=3)
        X_test, y_test = X_test[i], y_test[i]

    def scale(X: np.ndarray) -> np.ndarray:
        return X.astype(np.float32) / np.float32(255.0)

    return FashionMNIST(scale(X_train), y_train.copy(), scale(X_valid), y_valid.copy(),
                        scale(X_test), y_test.copy(), CLASS_NAMES, source)


# --------------------------------------------------------------------------
# The transfer-learning tasks of the lecture (notebook 06).

SANDAL, SHIRT = 5, 6


def split_task_a_b(X: np.ndarray, y: np.ndarray, n_b: int | None = None,
                   seed: int = 42, b_classes: tuple = (SANDAL, SHIRT)) -> tuple:
    """Split a labelled set into the lecture's transfer-learning tasks.

    Task A: the 8 classes other than ``b_classes`` (by default sandal (5) and
    shirt (6)), labels re-indexed 0-7 in the original order (by default
    T-shirt/top 0 ... Ankle boot 7).
    Task B: the two ``b_classes``, binary: 1 for the second (shirt), 0 for
    the first (sandal), float32 for a sigmoid output.

    Args:
        X, y: images and labels 0-9.
        n_b: how many task-B samples to keep (a stratified random subset);
            ``None`` keeps them all.
        seed: the seed of that subset.
        b_classes: task B's two classes, (label 0, label 1).

    Returns:
        ``((X_A, y_A), (X_B, y_B))``.

    Raises:
        ValueError: the labels are not 0-9, ``b_classes`` is not two distinct
            classes 0-9, or ``n_b`` is out of range.
    """
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"labels must be Fashion-MNIST classes 0-9, got {y.min()}..{y.max()}")
    b_classes = tuple(b_classes)
    if len(b_classes) != 2 or len(set(b_classes)) != 2 or not set(b_classes) <= set(range(10)):
        raise ValueError(f"b_classes must be two different classes from 0 to 9; got {b_classes!r}")
    negative, positive = b_classes
    is_b = (y == negative) | (y == positive)
    a_classes = [c for c in range(10) if c not in b_classes]
    new_label = np.full(10, -1, dtype=np.int64)
    new_label[a_classes] = np.arange(8)
    X_A, y_A = X[~is_b], new_label[y[~is_b]]
    X_B, y_B = X[is_b], (y[is_b] == positive).astype(np.float32)
    if n_b is not None:
        i = stratified_indices(y_B, n_b, seed=seed)
        X_B, y_B = X_B[i], y_B[i]
    return (X_A, y_A), (X_B, y_B)


TASK_A_CLASS_NAMES = tuple(c for i, c in enumerate(CLASS_NAMES) if i not in (SANDAL, SHIRT))
TASK_B_CLASS_NAMES = (CLASS_NAMES[SANDAL], CLASS_NAMES[SHIRT])
