"""lecture_utils.results: what the notebooks record for the reproduction report."""
import json
import math

import pytest

from lecture_utils import results


def test_record_without_a_folder_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    entry = results.record("06_transfer_learning", "B on A", [0.99, 0.98, 0.97], reference=0.994,
                           source="2nd ed.", unit="accuracy")
    assert entry["mean"] == pytest.approx(0.98) and entry["n"] == 3
    assert entry["std"] == pytest.approx(math.sqrt(2 / 3) * 0.01)
    assert entry["difference"] == pytest.approx(0.98 - 0.994)
    assert list(tmp_path.iterdir()) == []


def test_record_writes_one_file_per_notebook_and_replaces_a_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv("LECTURE_PROFILE", "fast")
    results.record("04_batch_normalization", "total parameters", 271346, reference=271346)
    results.record("04_batch_normalization", "BN after", [0.85, 0.86], reference=0.875)
    results.record("04_batch_normalization", "BN after", [0.87, 0.88], reference=0.875)  # cell re-run
    payload = results.load(tmp_path / "runs" / "04_batch_normalization.json")
    assert payload["profile"] == "fast"
    assert [e["name"] for e in payload["results"]] == ["total parameters", "BN after"]
    assert payload["results"][1]["values"] == [0.87, 0.88]
    assert payload["results"][0]["difference"] == 0 and payload["results"][0]["std"] == 0


def test_a_diverged_run_stays_visible(monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    entry = results.record("05_gradient_clipping", "no clipping", [0.1, float("nan")])
    assert math.isnan(entry["mean"]) and entry["reference"] is None and entry["difference"] is None


@pytest.mark.parametrize("args, message", [
    (("", "x", 1.0), "notebook must be a non-empty string"),
    (("01", " ", 1.0), "name must be a non-empty string"),
    (("01", "x", []), "values must not be empty"),
    (("01", "x", "0.9"), "values must be a number or a list of numbers"),
    (("01", "x", [0.9, None]), "values must be a number or a list of numbers"),
])
def test_bad_records_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        results.record(*args)


def test_load_names_a_file_that_is_not_a_record(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"something": 1}))
    with pytest.raises(ValueError, match="is not a results file"):
        results.load(bad)
