"""The largest honest answer of each exercise, as the judge measures answers:
every solution notebook, and every right answer of tests/exercises/, encoded
as the sandbox sends it and decoded by the judge's ``wire.Decoder``.

    .venv/bin/python benchmarks/honest_sizes.py

Prints, per exercise, the largest message, and the largest of each size the
judge limits (lists and dicts in a message, values in an answer, array bytes,
text, a model's parameters, layers, one layer's output per example, its
config and weights), beside the limits in lecture_utils/grading/wire.py, and
writes them to benchmarks/honest_sizes.json. The limits must stand far above
these (docs/INSTRUCTORS.md, "What is protected").
"""
from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _harness():
    """tests/test_exercises.py's helpers (how the tests run a solution and its right answers)."""
    spec = importlib.util.spec_from_file_location("test_exercises", ROOT / "tests" / "test_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(env: dict, tests: list, scratch: Path, into: dict) -> None:
    """Send ``env``'s answers across as the sandbox would; keep the largest sizes in ``into``."""
    from lecture_utils.grading import wire, judge

    encoder = wire.Encoder(scratch=str(scratch))
    names = judge.test_parameters(tests)
    sent = {n: encoder.encode(env[n]) for n in names if n in env}
    data = json.dumps({"kind": "answers", "answers": sent}, separators=(",", ":")).encode()
    wire.parse_message(data)  # counts its lists and dicts against the limit
    into["message_bytes"] = max(into.get("message_bytes", 0), len(data))
    into["message_containers"] = max(into.get("message_containers", 0), data.count(b"{") + data.count(b"["))
    decoder = wire.Decoder()
    for name, value in sent.items():
        decoded = decoder.decode(value)
        if isinstance(decoded, wire.Unreadable):
            raise SystemExit(f"an honest answer was refused: {name}: {decoded.why}")
    for key, value in decoder.sizes.items():
        into[key] = max(into.get(key, 0), value)


def main() -> int:
    from lecture_utils import exercises
    from lecture_utils.grading import wire

    harness = _harness()
    largest: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="honest-sizes-") as tmp:
        tmp = Path(tmp)
        for solution in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
            name = solution.stem
            built = exercises.assign(solution, tmp / "build", run_tests=False)
            files = harness._test_files({name: built}, name, tmp)
            tests = {q: harness._load(p) for q, p in files.items()}
            env = harness._run_notebook(built.solution_notebook)[0]
            sizes = largest.setdefault(name, {})
            measure(env, list(tests.values()), tmp, sizes)
            right = getattr(harness._answers(name), "RIGHT", {}) if (harness.ANSWERS / f"{name}.py").is_file() else {}
            for question, variants in right.items():
                for answer in variants:
                    variant = dict(env)
                    exec(answer, variant)
                    measure(variant, [tests[question]], tmp, sizes)
            print(name, sizes, flush=True)
    limits = {"message_bytes": wire.MAX_MESSAGE, "message_containers": wire.MAX_NODES,
              "nodes": wire.MAX_NODES, "array_bytes": wire.MAX_ARRAY_BYTES, "text_chars": wire.MAX_TEXT,
              "model_params": wire.MAX_PARAMS, "model_layers": wire.MAX_LAYERS,
              "layer_output": wire.MAX_LAYER_OUTPUT, "config_bytes": wire.MAX_CONFIG_BYTES,
              "weights_bytes": None}
    overall = {k: max(s.get(k, 0) for s in largest.values()) for k in limits}
    (ROOT / "benchmarks" / "honest_sizes.json").write_text(
        json.dumps({"largest": largest, "overall": overall, "limits": limits}, indent=1) + "\n")
    print(f"{'size':20} {'largest honest':>15} {'limit':>15} {'limit / honest':>15}")
    for key, limit in limits.items():
        ratio = f"{limit / overall[key]:.0f}x" if limit and overall[key] else "-"
        print(f"{key:20} {overall[key]:>15,} {limit or '(8 B a param)':>15} {ratio:>15}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
