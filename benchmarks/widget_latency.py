"""Latency of the explorers: compute, and compute + draw, over a sweep of their controls.

    .venv/bin/python benchmarks/widget_latency.py

Prints p50/p95 in milliseconds per explorer (figures drawn with the Agg backend,
as the inline backend of a notebook does before sending the PNG). ``make bench``
calls :func:`measure` for its report.
"""
import itertools
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lecture_utils import plots, widgets  # noqa: E402
from lecture_utils.data import load_fashion_mnist  # noqa: E402
from lecture_utils.transfer import Recipe, TransferGrid  # noqa: E402


def _time(fn, settings):
    compute, total = [], []
    for kwargs in settings:
        start = time.perf_counter()
        result = fn(**kwargs)
        middle = time.perf_counter()
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        getattr(plots, "plot_" + fn.__name__.removeprefix("compute_"))(result, axes)
        fig.canvas.draw()
        plt.close(fig)
        end = time.perf_counter()
        compute.append(middle - start)
        total.append(end - start)
    return np.array(compute) * 1000, np.array(total) * 1000


def sweeps(data):
    """Each explorer's compute function and the control settings to time it on."""
    X, y = data.X_train[:256], data.y_train[:256]

    def gradient_flow(**kw):
        return widgets.compute_gradient_flow(X, y, **kw)
    gradient_flow.__name__ = "compute_gradient_flow"

    def batch_stats(**kw):
        return widgets.compute_batch_stats(data.X_train[:, 14, 14], **kw)
    batch_stats.__name__ = "compute_batch_stats"

    # the transfer explorer only looks up a grid the notebook trained; its values do
    # not change the time, so a grid of the full profile's shape with made-up numbers
    rng = np.random.default_rng(0)
    grid = TransferGrid((1, 2, 3, 4, 5), (20, 50, 200, 1000), (42, 43, 44),
                        rng.uniform(0.9, 1.0, (4, 3)), rng.uniform(0.9, 1.0, (5, 4, 3)), Recipe())

    def transfer(**kw):
        return widgets.compute_transfer(grid, **kw)
    transfer.__name__ = "compute_transfer"

    return {
        "gradient flow (depth 50)": (gradient_flow, [
            dict(depth=50, width=w, activation=a, initializer=i, batch_norm=b)
            for w, a, i, b in itertools.product((100, 300), widgets.ACTIVATIONS[:4], widgets.INITIALIZERS,
                                                (False, True))]),
        "gradient flow (all depths)": (gradient_flow, [
            dict(depth=d, width=100, activation=a) for d in (2, 10, 20, 30, 40, 50) for a in widgets.ACTIVATIONS[:4]]),
        "initializer": (widgets.compute_initializer, [
            dict(mode=m, distribution=dist, fan_in=fi, fan_out=fo)
            for m, dist, (fi, fo) in itertools.product(widgets.MODES, widgets.DISTRIBUTIONS,
                                                       ((300, 100), (784, 300), (1000, 1000)))]),
        "activation": (widgets.compute_activation, [
            dict(name=n, parameter=p) for n in widgets.ACTIVATION_FUNCTIONS for p in (0.1, 1.0)]),
        "batch statistics": (batch_stats, [
            dict(batch_size=b, momentum=m) for b in widgets.BATCH_SIZES for m in (0.9, 0.99, 0.999)]),
        "clipping": (widgets.compute_clipping, [
            dict(g1=a, g2=b, threshold=t) for a in (0.9, -5.0) for b in (100.0, 0.5) for t in (0.5, 1.0, 10.0)]),
        "transfer": (transfer, [
            dict(n_reused=k, n_images=n) for k in grid.n_reused for n in grid.n_images]),
    }


def measure(data=None) -> list[dict]:
    """p50/p95 of compute and of compute + draw, in ms, per explorer."""
    data = data or load_fashion_mnist()
    table = sweeps(data)
    _time(table["initializer"][0], table["initializer"][1][:2])  # warm-up (first Keras call)
    rows = []
    for name, (fn, settings) in table.items():
        compute, total = _time(fn, settings)
        rows.append({"explorer": name, "settings": len(settings),
                     "compute_p50": float(np.percentile(compute, 50)),
                     "compute_p95": float(np.percentile(compute, 95)),
                     "total_p50": float(np.percentile(total, 50)),
                     "total_p95": float(np.percentile(total, 95))})
    return rows


def main():
    print(f"{'explorer':<28} {'n':>4} {'compute p50':>12} {'p95':>7} {'+draw p50':>10} {'p95':>7}  (ms)")
    for r in measure():
        print(f"{r['explorer']:<28} {r['settings']:>4} {r['compute_p50']:>12.0f} {r['compute_p95']:>7.0f} "
              f"{r['total_p50']:>10.0f} {r['total_p95']:>7.0f}")


if __name__ == "__main__":
    main()
