"""lecture_utils.data: the real data (from a local source; tests never download),
the splits, the transfer-learning tasks, and the errors for damaged or missing files."""
import gzip
import shutil

import numpy as np
import pytest

from lecture_utils import data
from lecture_utils.profile import get_profile


@pytest.fixture(scope="module")
def full():
    return data.load_fashion_mnist(allow_download=False)


def test_standard_splits(full):
    assert (len(full.X_train), len(full.X_valid), len(full.X_test)) == (55_000, 5_000, 10_000)
    assert full.X_train.shape[1:] == (28, 28) and full.X_train.dtype == np.float32
    assert 0.0 == full.X_train.min() and full.X_train.max() == 1.0
    # the published label counts: 6,000 per class in training, 1,000 in test
    assert np.bincount(np.concatenate([full.y_train, full.y_valid])).tolist() == [6000] * 10
    assert np.bincount(full.y_test).tolist() == [1000] * 10
    assert full.class_names[5] == "Sandal" and full.class_names[6] == "Shirt"
    assert full.source.kind in {"FASHION_MNIST_DIR", "keras-cache", "debian"}


def test_fast_profile_is_a_stratified_subset(full):
    fast = data.load_fashion_mnist(get_profile("fast"), allow_download=False)
    p = get_profile("fast")
    assert (len(fast.y_train), len(fast.y_valid), len(fast.y_test)) == (p.n_train, p.n_valid, p.n_test)
    assert np.bincount(fast.y_test).tolist() == [p.n_test // 10] * 10
    shares = np.bincount(fast.y_train) / len(fast.y_train)
    assert np.all(np.abs(shares - np.bincount(full.y_train) / len(full.y_train)) < 0.002)
    # images stay paired with their labels: each fast test image is a full test image
    row = fast.X_test[0]
    match = np.flatnonzero(np.all(full.X_test == row, axis=(1, 2)))
    assert fast.y_test[0] in full.y_test[match]


def test_stratified_indices_errors():
    with pytest.raises(ValueError, match="between 1 and 10"):
        data.stratified_indices(np.arange(10) % 2, 11)


def test_task_a_b(full):
    (X_A, y_A), (X_B, y_B) = data.split_task_a_b(full.X_train, full.y_train)
    assert set(np.unique(y_A)) == set(range(8))
    assert len(X_A) + len(X_B) == len(full.X_train)
    is_b = (full.y_train == 5) | (full.y_train == 6)
    # re-indexing keeps the order of the remaining classes: 7 (Sneaker) -> 5, 9 (Ankle boot) -> 7
    assert np.array_equal(y_A, np.array([0, 1, 2, 3, 4, -1, -1, 5, 6, 7])[full.y_train[~is_b]])
    assert data.TASK_A_CLASS_NAMES[5] == "Sneaker" and data.TASK_A_CLASS_NAMES[7] == "Ankle boot"
    assert set(np.unique(y_B)) == {0.0, 1.0}
    assert np.array_equal(y_B == 1, full.y_train[is_b] == 6)
    (_, _), (X_b, y_b) = data.split_task_a_b(full.X_train, full.y_train, n_b=200)
    assert len(X_b) == 200 and y_b.sum() == 100
    with pytest.raises(ValueError, match="labels must be Fashion-MNIST classes 0-9"):
        data.split_task_a_b(full.X_train[:3], np.array([0, 1, 12]))


def test_task_a_b_with_other_classes(full):
    """The book's third edition: T-shirt/top (0) vs pullover (2)."""
    y = full.y_train
    (X_A, y_A), (X_B, y_B) = data.split_task_a_b(full.X_train, y, b_classes=(0, 2))
    is_b = (y == 0) | (y == 2)
    assert np.array_equal(y_A, np.array([-1, 0, -1, 1, 2, 3, 4, 5, 6, 7])[y[~is_b]])
    assert np.array_equal(y_B == 1, y[is_b] == 2) and len(X_B) == is_b.sum()
    for bad in ((0, 0), (0, 10), (1, 2, 3)):
        with pytest.raises(ValueError, match="b_classes must be two different classes from 0 to 9"):
            data.split_task_a_b(full.X_train, y, b_classes=bad)


# ---------------------------------------------------------------- errors

@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No source but the ones a test makes; a private verdict cache; no download."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    data._RAW_CACHE.clear()

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: "
                        "None -- [Errno -2] Name or service not known")

    import keras
    monkeypatch.setattr(keras.utils, "get_file", no_network)
    yield tmp_path
    data._RAW_CACHE.clear()


def _copy_of_real_files(full, folder):
    folder.mkdir()
    for name in data.FILES:
        shutil.copy(full.source.path / name, folder / name)
    return folder


def test_empty_dir_and_no_network_lists_the_three_ways(isolated, monkeypatch):
    empty = isolated / "empty"
    empty.mkdir()
    monkeypatch.setenv("FASHION_MNIST_DIR", str(empty))
    with pytest.raises(data.DataError) as err:
        data.load_fashion_mnist()
    message = str(err.value)
    assert "was not found" in message and str(empty) in message
    assert "lecture-utils fetch-data" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "FASHION_MNIST_DIR" in message
    assert "Name or service not known" in message  # the reason the download failed
    assert "gzip" not in message.lower().replace("-ubyte.gz", "")


def test_one_corrupted_byte_names_file_source_and_remedy(full, isolated, monkeypatch):
    folder = _copy_of_real_files(full, isolated / "copy")
    target = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    target.write_bytes(bytes(raw))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    with pytest.raises(data.DataError) as err:
        data.load_fashion_mnist(allow_download=False)
    message = str(err.value)
    assert str(target) in message and "is damaged" in message
    assert "source: FASHION_MNIST_DIR" in message
    assert "Remedy: replace" in message


def test_corrupted_contents_with_valid_gzip_fail_the_checksum(full, isolated, monkeypatch):
    folder = _copy_of_real_files(full, isolated / "copy")
    target = folder / "train-labels-idx1-ubyte.gz"
    with gzip.open(target, "rb") as f:
        raw = bytearray(f.read())
    raw[100] = (raw[100] + 1) % 10  # a wrong label, still a valid file
    with gzip.open(target, "wb") as f:
        f.write(bytes(raw))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    with pytest.raises(data.DataError, match="sha256 checksum does not match"):
        data.load_fashion_mnist(allow_download=False)


def test_truncated_file_in_keras_cache(full, isolated):
    cache = data.keras_cache_dir()
    cache.parent.mkdir(parents=True)
    _copy_of_real_files(full, cache)
    target = cache / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[: 1_000_000])
    with pytest.raises(data.DataError) as err:
        data.load_fashion_mnist(allow_download=False)
    message = str(err.value)
    assert str(target) in message and "source: keras-cache" in message
    assert "lecture-utils fetch-data" in message


def test_verdict_is_cached(full, isolated, monkeypatch):
    folder = _copy_of_real_files(full, isolated / "copy")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    source = data.find_source()
    assert source.kind == "FASHION_MNIST_DIR"
    data.verify(source)  # hashes and remembers

    def no_hashing(*args):
        raise AssertionError("hashed again")

    monkeypatch.setattr(data.hashlib, "sha256", no_hashing)
    data.verify(source)  # the remembered verdict: no hashing
    loaded = data.load_fashion_mnist(allow_download=False)
    assert len(loaded.y_test) == 10_000
    # a changed file is checked again
    (folder / "t10k-labels-idx1-ubyte.gz").touch()
    with pytest.raises(AssertionError, match="hashed again"):
        data.verify(source)


def test_source_order(full, isolated, monkeypatch):
    cache = data.keras_cache_dir()
    cache.parent.mkdir(parents=True)
    _copy_of_real_files(full, cache)
    assert data.find_source().kind == "keras-cache"
    explicit = _copy_of_real_files(full, isolated / "explicit")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(explicit))
    assert data.find_source().kind == "FASHION_MNIST_DIR"
