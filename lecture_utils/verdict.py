"""Verdicts on comparisons over seeds, printed by the run.

When a notebook's prose says "X beats Y" or "the same order", the cell above
it prints the verdict that the seeds' results decide, with the criterion
named, so that the sentence is the run's and holds (or says it depends) on
seeds nobody chose:

>>> print(compare({"SELU": [0.81, 0.80, 0.82], "ReLU": [0.70, 0.71, 0.69]}))
SELU vs ReLU (validation accuracy, 3 seeds each): SELU higher, every run of it beyond every run of ReLU (SELU − ReLU = +0.1100)

The criterion, in order:

1. fewer than ``MIN_SEEDS`` seeds on either side: too few to decide (the
   fast profile's 2 seeds land here, and the verdict says so);
2. every run of one beats every run of the other: "higher, every run of it
   beyond every run of" the other;
3. the difference of the means is beyond two standard errors
   (``se = sqrt(s_a²/n_a + s_b²/n_b)``, sample standard deviations): "higher
   on average, not on every run" (a run of the lower one beats a run of the
   higher);
4. otherwise "not decided by these seeds".

A run whose value is NaN (a diverged network) counts as the worst possible
result, and the verdict says how many there were.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

MIN_SEEDS = 3


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`compare`.

    Attributes:
        winner: the name of the better one, or None when not decided.
        loser: the other name, or None when not decided.
        decided: "every seed", "on average" or None.
        difference: mean of the winner minus mean of the other (for
            ``higher_is_better=False``, the other minus the winner); with
            names in the order given when nothing is decided.
        standard_error: of that difference.
        text: the sentence printed.
    """

    winner: str | None
    loser: str | None
    decided: str | None
    difference: float
    standard_error: float
    text: str

    def __str__(self) -> str:
        return self.text


def _values(name, values) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ValueError(f"{name!r} has no values: give one result per seed")
    if np.isinf(array).any():
        raise ValueError(f"{name!r} has an infinite value: {array.tolist()}")
    return array


def _two_named(results, caller: str) -> list[tuple[str, np.ndarray]]:
    """The two (name, values) pairs of ``results``, checked."""
    if not isinstance(results, dict) or len(results) != 2:
        raise ValueError(f"{caller}() takes a dict of exactly two named results, got "
                         f"{len(results) if isinstance(results, dict) else type(results).__name__}")
    return [(name, _values(name, values)) for name, values in results.items()]


def _counted(n_a: int, n_b: int, unit: str) -> str:
    """'5 seeds each', '1 run each', '3 and 4 seeds'."""
    return f"{n_a} {unit}{'s' * (n_a != 1)} each" if n_a == n_b else f"{n_a} and {n_b} {unit}s"


def compare(results: dict, *, metric: str = "validation accuracy", higher_is_better: bool = True) -> Verdict:
    """Decide which of two sets of per-seed results is better.

    Args:
        results: ``{name: values}`` with exactly two entries, one value per
            seed each (e.g. ``runs.final("val_accuracy")``).
        metric: what the values are, for the sentence.
        higher_is_better: False for a loss or an error.

    Returns:
        a :class:`Verdict`; ``str()`` of it is the sentence to print.
    """
    (name_a, a), (name_b, b) = _two_named(results, "compare")
    sign = 1.0 if higher_is_better else -1.0
    head = f"{name_a} vs {name_b} ({metric}, {_counted(len(a), len(b), 'seed')})"
    diverged = {name_a: int(np.isnan(a).sum()), name_b: int(np.isnan(b).sum())}
    note = "".join(f"; {name}: {n} run(s) diverged (NaN), counted as the worst" for name, n in diverged.items() if n)

    def score(values):  # larger is better; a diverged run is the worst possible
        return np.where(np.isnan(values), -np.inf, sign * values)

    def mean_and_se(x, y):  # over the runs that did not diverge
        x, y = sign * x[~np.isnan(x)], sign * y[~np.isnan(y)]
        d = float(np.mean(x) - np.mean(y)) if len(x) and len(y) else float("nan")
        se = math.sqrt(np.var(x, ddof=1) / len(x) + np.var(y, ddof=1) / len(y)) if min(len(x), len(y)) > 1 else float("nan")
        return d, se

    def gap(first, second, d):
        if math.isnan(d):
            return f"no mean of {first} − {second}: every run of one diverged"
        return f"{first} − {second} = {d:+.4f}"

    d, se = mean_and_se(a, b)
    in_order = gap(name_a, name_b, sign * d)
    if min(len(a), len(b)) < MIN_SEEDS:
        text = f"{head}: too few seeds to decide (a verdict needs {MIN_SEEDS} or more on each side); {in_order}{note}"
        return Verdict(None, None, None, sign * d, se, text)

    def errors(d, se):  # the difference in standard errors, cut (not rounded) to 2 decimals: 1.999 is 1.99
        return "no standard error" if not se > 0 else f"{math.floor(abs(d) / se * 100) / 100:.2f} standard errors"

    undecided = (f"{head}: not decided by these seeds: {in_order}, {errors(d, se)} (a verdict needs more than 2, "
                 f"or every run of one beyond every run of the other){note}")

    def rank(name, values):  # fewer diverged runs first, then the better mean
        finite = values[~np.isnan(values)]
        return (-diverged[name], float(np.mean(sign * finite)) if len(finite) else -np.inf)

    if rank(name_b, b) > rank(name_a, a):
        (name_a, a), (name_b, b) = (name_b, b), (name_a, a)
    d, se = mean_and_se(a, b)
    word = "higher" if higher_is_better else "lower"
    difference = gap(name_a, name_b, sign * d)
    if np.min(score(a)) > np.max(score(b)):
        decided = "every seed"
        text = f"{head}: {name_a} {word}, every run of it beyond every run of {name_b} ({difference}){note}"
    elif not any(diverged.values()) and d > 2 * se:
        decided = "on average"
        text = (f"{head}: {name_a} {word} on average, not on every run ({difference}, {errors(d, se)}, "
                f"more than 2){note}")
    else:
        return Verdict(None, None, None, sign * d, se, undecided)
    return Verdict(name_a, name_b, decided, sign * d, se, text)


def _f_test_p(ratio: float, df_a: int, df_b: int, draws: int = 400_000) -> float:
    """Two-sided p-value of the variance ratio ``ratio`` = s_a² / s_b² when both
    samples come from one normal distribution, F(df_a, df_b), by simulation
    (a fixed generator: the same p every time)."""
    rng = np.random.default_rng(0)
    f = (rng.chisquare(df_a, draws) / df_a) / (rng.chisquare(df_b, draws) / df_b)
    return float(min(1.0, 2 * min(np.mean(f <= ratio), np.mean(f >= ratio))))


def compare_spread(results: dict, *, metric: str = "validation accuracy", alpha: float = 0.05) -> Verdict:
    """Decide whether one set of per-seed results is spread more narrowly than
    the other: the standard deviations' ratio, by an F-test at ``alpha``
    (two-sided; it assumes normally distributed runs). Diverged (NaN) runs
    are left out, and the sentence says so.

    ``difference`` is the ratio of the wider's standard deviation to the
    narrower's; ``standard_error`` the test's p-value.
    """
    (name_a, a), (name_b, b) = _two_named(results, "compare_spread")
    left_out = "".join(f"; {name}: {int(np.isnan(v).sum())} diverged run(s) left out"
                       for name, v in ((name_a, a), (name_b, b)) if np.isnan(v).any())
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    head = f"{name_a} vs {name_b} (spread of {metric}, {_counted(len(a), len(b), 'run')})"
    if min(len(a), len(b)) < MIN_SEEDS:
        return Verdict(None, None, None, float("nan"), float("nan"),
                       f"{head}: too few runs to decide (a verdict needs {MIN_SEEDS} or more on each side){left_out}")
    sd_a, sd_b = float(np.std(a, ddof=1)), float(np.std(b, ddof=1))
    if sd_a > sd_b:   # the narrower first
        (name_a, a, sd_a), (name_b, b, sd_b) = (name_b, b, sd_b), (name_a, a, sd_a)
    stds = f"sample std {sd_a:.4f} against {sd_b:.4f}"
    if sd_a == 0:
        if sd_b == 0:
            return Verdict(None, None, None, float("nan"), 1.0, f"{head}: no spread on either side{left_out}")
        return Verdict(name_a, name_b, "F-test", float("inf"), 0.0,
                       f"{head}: {name_a}'s spread narrower ({stds}: its runs are all equal){left_out}")
    ratio = sd_b / sd_a
    p = _f_test_p(ratio ** 2, len(b) - 1, len(a) - 1)
    if p < alpha:
        return Verdict(name_a, name_b, "F-test", ratio, p,
                       f"{head}: {name_a}'s spread narrower ({stds}, {ratio:.1f} times; F-test "
                       f"{'p < 0.0001' if p < 1e-4 else f'p = {p:.4f}'} "
                       f"< {alpha}, assuming normally distributed runs){left_out}")
    return Verdict(None, None, None, ratio, p,
                   f"{head}: not decided by these seeds ({stds}, {ratio:.1f} times; F-test p = {p:.2f}, "
                   f"not below {alpha}){left_out}")
