"""Latency of the explorers in the kernel: compute, and compute + a frame, over
a sweep of their controls, by two paths measured side by side:

- *new figure* (the explorers before lecture_utils.explorers): a new pyplot
  figure per change, drawn and saved as a PNG with ``bbox_inches="tight"``, as
  ``ipywidgets.interactive_output`` with the inline backend did;
- *live frame* (now): the explorer's persistent figure, its artists updated,
  the saved background restored and the changed artists drawn over it, a PNG.

    .venv/bin/python benchmarks/widget_latency.py

Prints p50/p95 in milliseconds per explorer. ``make bench`` calls
:func:`measure` for its report. What the browser adds (transport, decoding,
painting) is measured by browser_latency.py.
"""
import itertools
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lecture_utils import explorers  # noqa: E402
from lecture_utils.explorers import (activation, batch_stats, clipping, gradient_flow, initializer,  # noqa: E402
                                     live, transfer)
from lecture_utils.data import load_fashion_mnist  # noqa: E402
from lecture_utils.transfer import Recipe, TransferGrid  # noqa: E402


def _time(fn, view_class, settings, figsize=(12, 4.2)):
    """ms per setting: compute; compute + new figure (old path); compute + live frame (new path)."""
    import io

    compute, old, new = [], [], []
    figure = live.LiveFigure(view_class, figsize)
    figure.frame(fn(**settings[0]))  # its first frame: the layout, done once when an explorer starts
    for kwargs in settings:
        start = time.perf_counter()
        result = fn(**kwargs)
        computed = time.perf_counter() - start
        start = time.perf_counter()
        fig, axes = plt.subplots(1, 2, figsize=figsize)
        live.static_figure(view_class, result, axes)
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
        plt.close(fig)
        old_draw = time.perf_counter() - start
        start = time.perf_counter()
        figure.frame(result)
        new_draw = time.perf_counter() - start
        compute.append(computed)
        old.append(computed + old_draw)
        new.append(computed + new_draw)
    return np.array(compute) * 1000, np.array(old) * 1000, np.array(new) * 1000


def sweeps(data):
    """Each explorer's compute function and the control settings to time it on."""
    X, y = data.X_train[:256], data.y_train[:256]

    def gradient_flow_(**kw):
        return explorers.compute_gradient_flow(X, y, **kw)

    def batch_stats_(**kw):
        return explorers.compute_batch_stats(data.X_train[:, 14, 14], **kw)

    reference = explorers.compute_activation("relu")

    # the transfer explorer only looks up a grid the notebook trained; its values do
    # not change the time, so a grid of the full profile's shape with made-up numbers
    rng = np.random.default_rng(0)
    grid = TransferGrid((1, 2, 3, 4, 5), (20, 50, 200, 1000), (42, 43, 44),
                        rng.uniform(0.9, 1.0, (4, 3)), rng.uniform(0.9, 1.0, (5, 4, 3)), Recipe())

    def transfer_(**kw):
        return explorers.compute_transfer(grid, **kw)

    return {
        "gradient flow (depth 50)": (gradient_flow_, gradient_flow.GradientFlowView, [
            dict(depth=50, width=w, activation=a, initializer=i, batch_norm=b)
            for w, a, i, b in itertools.product((100, 300), explorers.ACTIVATIONS[:4], explorers.INITIALIZERS,
                                                (False, True))]),
        "gradient flow (all depths)": (gradient_flow_, gradient_flow.GradientFlowView, [
            dict(depth=d, width=100, activation=a) for d in (2, 10, 20, 30, 40, 50) for a in explorers.ACTIVATIONS[:4]]),
        "initializer": (explorers.compute_initializer, initializer.InitializerView, [
            dict(mode=m, distribution=dist, fan_in=fi, fan_out=fo)
            for m, dist, (fi, fo) in itertools.product(explorers.MODES, explorers.DISTRIBUTIONS,
                                                       ((300, 100), (784, 300), (1000, 1000)))]),
        "activation": (lambda **kw: (explorers.compute_activation(**kw), reference), activation.ActivationView, [
            dict(name=n, parameter=p) for n in explorers.ACTIVATION_FUNCTIONS for p in (0.1, 1.0)]),
        "batch statistics": (batch_stats_, batch_stats.BatchStatsView, [
            dict(batch_size=b, momentum=m) for b in explorers.BATCH_SIZES for m in (0.9, 0.99, 0.999)]),
        "clipping": (explorers.compute_clipping, clipping.ClippingView, [
            dict(g1=a, g2=b, threshold=t) for a in (0.9, -5.0) for b in (100.0, 0.5) for t in (0.5, 1.0, 10.0)]),
        "transfer": (transfer_, transfer.TransferView, [
            dict(n_reused=k, n_images=n) for k in grid.n_reused for n in grid.n_images]),
    }


def measure(data=None) -> list[dict]:
    """p50/p95 of compute, and of compute + a frame by each path, in ms, per explorer."""
    from lecture_utils.profile import get_profile

    data = data or load_fashion_mnist(get_profile("full"), allow_download=False)
    table = sweeps(data)
    explorers.compute_initializer(fan_in=10, fan_out=10)  # warm-up (first Keras call)
    rows = []
    for name, (fn, view_class, settings) in table.items():
        figsize = (12, 4.6) if view_class is clipping.ClippingView else (12, 4.2)
        compute, old, new = _time(fn, view_class, settings, figsize)
        rows.append({"explorer": name, "settings": len(settings),
                     "compute_p50": float(np.percentile(compute, 50)),
                     "compute_p95": float(np.percentile(compute, 95)),
                     "old_p50": float(np.percentile(old, 50)), "old_p95": float(np.percentile(old, 95)),
                     "total_p50": float(np.percentile(new, 50)),
                     "total_p95": float(np.percentile(new, 95))})
    return rows


def main():
    print(f"{'explorer':<28} {'n':>4} {'compute p50':>12} {'p95':>6} {'new figure p50':>15} {'p95':>6} "
          f"{'live frame p50':>15} {'p95':>6}  (ms)")
    for r in measure():
        print(f"{r['explorer']:<28} {r['settings']:>4} {r['compute_p50']:>12.0f} {r['compute_p95']:>6.0f} "
              f"{r['old_p50']:>15.0f} {r['old_p95']:>6.0f} {r['total_p50']:>15.0f} {r['total_p95']:>6.0f}")


if __name__ == "__main__":
    main()
