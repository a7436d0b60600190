"""A class graded: 300 submissions of the six exercises, graded by this tree
here (--jobs 2) and on a local Dask cluster (a TLS scheduler and two workers
of one thread each on 127.0.0.1: the same two cores), and by an earlier
commit here, in one run. Submissions per minute for each.

    .venv/bin/python benchmarks/class_grading.py [--n 300] [--old aed0119] [--old-n 60]

The submissions: for each exercise in turn, its solution (full points), and
every fifth one blank (the student notebook: 0 points); for exercise 05
every fifth but one a wrong clip_by_norm. The old commit (default aed0119,
before the templates of issue 31) grades the first --old-n of them (its rate
is per submission, with no fixed cost a batch beyond building the
autograders, which every path does before the clock starts); both run with
this virtual environment's packages (benchmarks/grading_speed.py makes the
old tree's). Writes benchmarks/class_grading.json and benchmarks/CLASS.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_speed import OLD_PATHS, old_venv, timed  # noqa: E402

CLUSTER_RUN = """
import sys
from pathlib import Path
from lecture_utils.grading import batch
batch.grade([sys.argv[2]], sys.argv[3], solutions_dir=Path(sys.argv[1]) / "solutions",
            build_dir=Path(sys.argv[4]), timeout=600, cluster=sys.argv[5], certs=sys.argv[6], say=lambda s: None)
"""


def submissions(folder: Path, n: int) -> list[str]:
    """n submissions of the six exercises, in turn; the exercise of each."""
    from lecture_utils import exercises

    names = exercises.exercise_names(ROOT / "solutions")
    kinds = {}
    for name in names:
        built = exercises.assign(ROOT / "solutions" / f"{name}.ipynb", folder / "build" / name, run_tests=False)
        solution = json.loads(Path(built.solution_notebook).read_text())
        wrong = copy.deepcopy(solution)
        for cell in wrong["cells"]:
            cell["source"] = "".join(cell["source"]).replace("np.sqrt(np.sum(np.square(g)))", "np.sum(np.square(g))")
        kinds[name] = {"solution": solution, "blank": json.loads(built.student), "wrong": wrong}
    subs = folder / "submissions"
    subs.mkdir()
    which = []
    for i in range(n):
        name = names[i % len(names)]
        k = (i // len(names)) % 5
        kind = "blank" if k == 4 else "wrong" if (k == 3 and name.startswith("05")) else "solution"
        (subs / f"student{i:03d}_{name}.ipynb").write_text(json.dumps(kinds[name][kind]))
        which.append(name)
    return which


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_cluster(subs: Path, build: Path, out: Path, folder: Path) -> float:
    """Seconds to grade `subs` on a local TLS cluster of two one-thread workers (started first, not timed)."""
    from lecture_utils.grading import cluster

    certs = folder / "certs"
    cluster.make_certificates(certs)
    tls = ["--tls-ca-file", str(certs / cluster.CA), "--tls-cert", str(certs / cluster.CERT),
           "--tls-key", str(certs / cluster.KEY)]
    dask = str(Path(sys.executable).parent / "dask")
    port = _free_port()
    address = f"tls://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", LECTURE_PROFILE="fast")
    log = open(folder / "dask.log", "wb")
    started = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--protocol", "tls",
                                 "--no-dashboard", *tls], env=env, stdout=log, stderr=log)]
    try:
        for i in range(2):
            started.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-nanny",
                                             "--no-dashboard", "--memory-limit", "0", *tls],
                                            env=env, stdout=log, stderr=log))
        from distributed import Client

        with Client(address, security=cluster.security(certs), timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        begin = time.monotonic()
        subprocess.run([sys.executable, "-c", CLUSTER_RUN, str(ROOT), str(subs), str(out), str(build), address,
                        str(certs)], cwd=ROOT, env=env, check=True)
        return time.monotonic() - begin
    finally:
        for p in started:
            p.kill()
            p.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--old", default="aed0119")
    parser.add_argument("--old-n", type=int, default=60)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="class-grading-") as tmp:
        tmp = Path(tmp)
        which = submissions(tmp, args.n)
        old = tmp / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.old], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            old_python = old_venv(old)
            old_subs = tmp / "old-submissions"
            old_subs.mkdir()
            for f in sorted((tmp / "submissions").iterdir())[:args.old_n]:
                (old_subs / f.name).write_bytes(f.read_bytes())
            for label, tree, python, subs in (("old", old, old_python, old_subs),
                                               ("new", ROOT, sys.executable, tmp / "submissions")):
                build = tmp / f"build-{label}"
                for name in sorted(set(which)):   # the autograders, built before the clock starts
                    one = next(f for f in sorted(subs.iterdir()) if name in f.name)
                    timed(python, tree, one, build, 1, tmp / f"warm-{label}-{name}.csv")
                count = len(list(subs.iterdir()))
                seconds = timed(python, tree, subs, build, 2, tmp / f"{label}.csv")
                results[f"{label}, here, --jobs 2"] = {"submissions": count, "seconds": seconds,
                                                       "per_minute": 60 * count / seconds}
                print(f"{label} here: {count} in {seconds:.0f} s, {60 * count / seconds:.0f} a minute", flush=True)
            seconds = on_cluster(tmp / "submissions", tmp / "build-new", tmp / "cluster.csv", tmp)
            results["new, local cluster of 2 workers"] = {"submissions": args.n, "seconds": seconds,
                                                          "per_minute": 60 * args.n / seconds}
            print(f"new on the cluster: {args.n} in {seconds:.0f} s", flush=True)
            same = (tmp / "new.csv").read_text().replace(str(tmp / "submissions"), "") == \
                (tmp / "cluster.csv").read_text().replace(str(tmp / "submissions"), "")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    info = {"n": args.n, "old": args.old, "old_n": args.old_n, "results": results, "cluster_csv_equals_local": same,
            "cpus": os.cpu_count()}
    (ROOT / "benchmarks" / "class_grading.json").write_text(json.dumps(info, indent=1) + "\n")
    lines = ["# A class graded", "",
             f"`benchmarks/class_grading.py`: {args.n} submissions of the six exercises in turn (solutions, every "
             "fifth blank, exercise 05 with wrong answers too; fast profile), in one run on "
             f"{os.cpu_count()} cores: this tree here (`--jobs 2`) and on a local Dask cluster (a TLS scheduler and "
             f"two one-thread workers on 127.0.0.1, started before the clock), and commit {args.old} "
             f"({OLD_PATHS.get(args.old, 'an earlier commit')}) here on the first {args.old_n}.", "",
             "| path | submissions | seconds | submissions a minute |", "|---|---|---|---|"]
    for label, r in results.items():
        lines.append(f"| {label} | {r['submissions']} | {r['seconds']:.0f} | {r['per_minute']:.0f} |")
    lines += ["", f"The cluster's CSV equals the local one: {'yes' if same else 'NO'}."]
    (ROOT / "benchmarks" / "CLASS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
