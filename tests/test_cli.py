"""`lecture-utils doctor` and `fetch-data` (without network: the download is refused here)."""
import subprocess
import sys
from pathlib import Path

from lecture_utils import cli, data


def test_doctor_reports_verified_data(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "all 4 files verified (sha256)" in out and "Fashion-MNIST is ready" in out
    assert "Grading sandbox: bubblewrap sandbox works" in out and "no network" in out


def test_doctor_names_a_damaged_file(tmp_path, monkeypatch, capsys):
    source = data.find_source()
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in data.FILES:
        (folder / name).write_bytes((source.path / name).read_bytes())
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not really gzip")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "train-labels-idx1-ubyte.gz (source: FASHION_MNIST_DIR) is damaged" in out


def test_fetch_data_without_network_says_what_to_do(tmp_path, monkeypatch, capsys):
    import keras

    def refused(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", refused)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cli.main(["fetch-data"]) == 1
    err = capsys.readouterr().err
    assert "Could not download" in err and "apt-get install dataset-fashion-mnist" in err


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "lecture-utils"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "fetch-data" in result.stdout
    result = subprocess.run([str(script), "frobnicate"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "invalid choice: 'frobnicate'" in result.stderr
