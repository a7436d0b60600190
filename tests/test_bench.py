"""benchmarks/bench.py builds its report from what the runs left, never typed:
a fake set of runs goes in, and its numbers (and only those) come out."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench  # noqa: E402

from lecture_utils import results  # noqa: E402


def _cell(source, start, end):
    return {"cell_type": "code", "source": source,
            "metadata": {"execution": {"iopub.execute_input": start, "shell.execute_reply": end}}}


def test_cell_times_finds_the_slowest_cell():
    nb = {"cells": [_cell("# NBVAL_CHECK_OUTPUT\nprint(1)", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.500Z"),
                    {"cell_type": "markdown", "source": "x", "metadata": {}},
                    _cell("model.fit(X)", "2026-01-01T00:00:02Z", "2026-01-01T00:01:02Z")]}
    times = bench.cell_times(nb)
    assert [t["seconds"] for t in times] == [1.5, 60.0]
    assert times[0]["first_line"] == "print(1)" and times[1]["cell"] == 2


@pytest.fixture
def runs(tmp_path, monkeypatch):
    out = tmp_path / "bench"
    monkeypatch.setenv(results.RESULTS_ENV, str(out / "full-tensorflow" / "results"))
    monkeypatch.setenv("LECTURE_PROFILE", "full")
    results.record("06_transfer_learning", "B on A: test accuracy", [0.9931, 0.9935, 0.9927],
                   reference=0.9940, source="2nd ed., one run", unit="accuracy")
    results.record("04_batch_normalization", "total parameters", 271346, reference=271346,
                   source="2nd ed.", unit="parameters")
    results.record("01_vanishing_gradients", "first/last gradient norm", 6.4e-9, unit="ratio")
    timing = {"06_transfer_learning": {"notebook": "06_transfer_learning", "run": "full-tensorflow",
                                       "seconds": 431.2, "ok": True, "cells": 30,
                                       "slowest_cell": {"cell": 31, "seconds": 187.0,
                                                        "first_line": "grid = transfer.transfer_grid("}},
              "04_batch_normalization": {"notebook": "04_batch_normalization", "run": "full-tensorflow",
                                         "seconds": 719.0, "ok": True, "slowest_cell": None}}
    (out / "full-tensorflow" / "timing.json").write_text(json.dumps(timing))
    (out / "fast-jax").mkdir(parents=True)
    (out / "fast-jax" / "timing.json").write_text(json.dumps({"06_transfer_learning": {
        "notebook": "06_transfer_learning", "run": "fast-jax", "seconds": 71.0, "ok": False,
        "error": ["boom"]}}))
    return out


def test_report_is_built_from_the_runs(runs):
    data = {"machine": {"date": "2026-11-26", "commit": "abc1234", "cpu": "Test CPU", "cores": 2,
                        "memory_gib": 24.0, "python": "3.11", "keras": "3", "tensorflow": "2",
                        "jax": "0.1", "numpy": "2", "matplotlib": "3", "ipywidgets": "8", "jupyterlab": "4"},
            **bench.collect(runs, bench.RUNS),
            "latency": [{"explorer": "transfer", "settings": 20, "compute_p50": 0.01, "compute_p95": 0.02,
                         "old_p50": 400.0, "old_p95": 510.0, "total_p50": 150.0, "total_p95": 320.0}],
            "browser": {"commit": "abc1234", "old_commit": "9de6cf8", "cpus": 2, "load_average_1min": 1.5,
                        "changes": 20, "targets": {"median_s": 0.15, "p95_s": 0.25, "settle_s": 0.3},
                        "new": [{"notebook": "05_gradient_clipping", "control": {"label": "g1"}, "median_s": 0.118,
                                 "p95_s": 0.31, "drag": {"settle_s": 0.2, "frames": 18}}],
                        "old": [{"notebook": "05_gradient_clipping", "control": {"label": "g1"}, "median_s": 0.52,
                                 "p95_s": 0.7, "drag": {"settle_s": 2.4, "frames": 20}}]},
            "startup": {"import_s": 0.05, "import_loads_keras": False, "data_first_s": 1.2,
                        "data_cached_s": 0.4}}
    report = bench.render(data)
    assert "| 06 | B on A: test accuracy | 0.9931 ± 0.0003 (n=3) | 0.9940 (2nd ed., one run) | -0.0009 |" in report
    assert "| 04 | total parameters | 271,346 | 271,346 (2nd ed.) | +0 |" in report
    assert "| 01 | first/last gradient norm | 6.4e-09 | — | — |" in report
    assert "| 04_batch_normalization | 719 ⚠ over target | — | not run | not run |" in report
    assert "| 06_transfer_learning | 431 | 187 (cell 31: `grid = transfer.transfer_grid(`) | not run | FAILED (71) |" in report
    assert "| transfer | 20 | 0 | 0 | 400 | 510 | 150 | 320 ⚠ |" in report
    assert "| 05_gradient_clipping | g1 | 0.118 | 0.310 ⚠ | 0.520 | 0.700 | 0.200 | 2.400 | 18 / 20 |" in report
    assert "No machine with a GPU was available" in report
    assert "Keras imported by it: no" in report
    assert "another machine" not in report and "†" not in report

    # a time kept from a run on another machine is marked, and the machine named
    data["runs"]["full-tensorflow"]["timing"]["04_batch_normalization"]["cpu"] = "Another CPU"
    report = bench.render(data)
    assert "| 04_batch_normalization | 719† ⚠ over target | — | not run | not run |" in report
    assert "- † measured on another machine, Another CPU, kept from an earlier report: 04 (full-tensorflow)" in report
    assert "The totals add up times from more than one machine" in report


def test_bad_arguments_are_named(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--runs", "slow-tensorflow", "--report-only"])
    assert "unknown run 'slow-tensorflow'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--notebooks", "99", "--report-only"])
    assert "no such notebook" in capsys.readouterr().err


def test_the_committed_report_is_the_rendering_of_its_data():
    """REPORT.md is never edited by hand: it is exactly what report.json renders to."""
    data_file = ROOT / "benchmarks" / "report.json"
    assert data_file.exists(), "benchmarks/report.json is missing: run `make bench`"
    data = json.loads(data_file.read_text())
    assert (ROOT / "benchmarks" / "REPORT.md").read_text() == bench.render(data)
    assert data["runs"].get("full-tensorflow", {}).get("results"), "the report has no full-profile results"


def test_the_readme_quotes_the_report():
    """The README's headline rows are copied from REPORT.md: each number must be there."""
    import re

    readme = (ROOT / "README.md").read_text()
    quote = readme.split("<!-- report-quote")[1].split("<!-- /report-quote -->")[0]
    quote = quote.split("-->", 1)[1]
    report = (ROOT / "benchmarks" / "REPORT.md").read_text()
    numbers = re.findall(r"\d[\d,]*\.?\d*", quote)
    assert len(numbers) > 10
    missing = [n for n in numbers if n not in report]
    assert not missing, f"README quotes numbers that REPORT.md does not have: {missing}"


def test_a_partial_run_keeps_the_rest_of_the_report(tmp_path, monkeypatch):
    """--notebooks 02: notebook 02's new figures go in; notebook 01's, the widget
    latency and the start-up times are the report's before (not re-measured)."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "benchmarks").mkdir()
    for name in ("01_a", "02_b"):
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text("{}")
    old = {"ok": True, "seconds": 100.0, "cells": 1, "slowest_cell": None, "load_average_1min_at_end": 1.0}
    before = {"machine": {"cpu": "The old CPU"},
              "runs": {"full-tensorflow": {"timing": {"01_a": old, "02_b": old}, "results": {}}},
              "latency": ["kept latency"], "latency_load_average_1min": 0.5, "startup": {"kept": True}}
    (tmp_path / "benchmarks" / "report.json").write_text(json.dumps(before))
    ran = []

    def run_all(runs, notebooks, out):
        ran.extend(p.stem for p in notebooks)
        (out / "full-tensorflow").mkdir(parents=True)
        (out / "full-tensorflow" / "timing.json").write_text(json.dumps({"02_b": dict(old, seconds=7.0)}))

    def must_not_measure():
        raise AssertionError("measured again")

    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "run_all", run_all)
    monkeypatch.setattr(bench, "latency", must_not_measure)
    monkeypatch.setattr(bench, "startup", must_not_measure)
    monkeypatch.setattr(bench, "render", lambda data: "report")
    assert bench.main(["--runs", "full-tensorflow", "--notebooks", "02", "--out", str(tmp_path / "out"),
                       "--no-browser", "--no-engine"]) == 0
    after = json.loads((tmp_path / "benchmarks" / "report.json").read_text())
    assert ran == ["02_b"]
    timing = after["runs"]["full-tensorflow"]["timing"]
    assert timing["01_a"]["seconds"] == 100.0 and timing["02_b"]["seconds"] == 7.0
    assert timing["01_a"]["cpu"] == "The old CPU"  # kept: where it was measured goes with it
    assert after["latency"] == ["kept latency"] and after["startup"] == {"kept": True}
