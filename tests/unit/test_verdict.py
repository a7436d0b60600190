"""lecture_utils.verdict: the verdicts the notebooks print over seeds."""
import math

import numpy as np
import pytest

from lecture_utils.verdict import MIN_SEEDS, compare


def test_every_run_beyond_every_run_is_decided_on_every_seed():
    v = compare({"ReLU": [0.70, 0.71, 0.69], "SELU": [0.81, 0.80, 0.82]})
    assert (v.winner, v.loser, v.decided) == ("SELU", "ReLU", "every seed")
    assert math.isclose(v.difference, 0.11)
    assert "SELU higher" in v.text and "ReLU vs SELU" in v.text


def test_overlapping_runs_beyond_two_standard_errors_are_decided_on_average():
    a, b = [0.80, 0.82, 0.90, 0.85, 0.86], [0.70, 0.71, 0.72, 0.70, 0.81]
    v = compare({"A": a, "B": b})
    se = math.sqrt(np.var(a, ddof=1) / 5 + np.var(b, ddof=1) / 5)
    assert v.decided == "on average" and math.isclose(v.standard_error, se)
    assert "not on every run" in v.text


def test_a_difference_within_two_standard_errors_is_not_decided():
    v = compare({"A": [0.70, 0.75, 0.69, 0.80, 0.72], "B": [0.71, 0.74, 0.70, 0.73, 0.70]})
    assert v.winner is None and "not decided" in v.text
    assert "A − B = +0.0160" in v.text   # in the order given


def test_too_few_seeds_say_so():
    v = compare({"A": [0.9] * (MIN_SEEDS - 1), "B": [0.1] * (MIN_SEEDS - 1)})
    assert v.winner is None and "too few seeds to decide" in v.text


def test_a_diverged_run_counts_as_the_worst_and_is_named():
    v = compare({"A": [0.30, np.nan, 0.40], "B": [0.50, 0.51, 0.52]})
    assert v.winner == "B" and v.decided == "every seed"
    assert "A: 1 run(s) diverged" in v.text


def test_lower_is_better_for_a_loss():
    v = compare({"A": [1.0, 1.2, 1.1], "B": [2.0, 2.1, 1.9]}, metric="loss", higher_is_better=False)
    assert v.winner == "A" and "A lower" in v.text and "(loss," in v.text


@pytest.mark.parametrize("bad", [{}, {"A": [1]}, {"A": [1], "B": [2], "C": [3]}, [[1], [2]]])
def test_anything_but_two_named_results_is_refused(bad):
    with pytest.raises(ValueError, match="exactly two"):
        compare(bad)


def test_empty_or_infinite_values_are_refused():
    with pytest.raises(ValueError, match="no values"):
        compare({"A": [], "B": [1, 2, 3]})
    with pytest.raises(ValueError, match="infinite"):
        compare({"A": [np.inf, 1, 2], "B": [1, 2, 3]})


def test_a_diverged_run_keeps_an_otherwise_better_side_from_winning_on_average():
    v = compare({"A": [0.95, np.nan, 0.96], "B": [0.50, 0.51, 0.52]})
    assert v.winner is None and "not decided" in v.text and "A: 1 run(s) diverged" in v.text


def test_a_much_narrower_spread_is_decided_and_a_small_difference_is_not():
    from lecture_utils.verdict import compare_spread
    wide, narrow = [0.750, 0.759, 0.532, 0.736, 0.713], [0.752, 0.763, 0.755, 0.760, 0.758]
    v = compare_spread({"plain": wide, "BN": narrow})
    assert v.winner == "BN" and "BN's spread narrower" in v.text and v.standard_error < 0.05
    v = compare_spread({"plain": [0.70, 0.74, 0.62, 0.68, 0.71], "BN": [0.70, 0.767, 0.72, 0.71, 0.74]})
    assert v.winner is None and "not decided" in v.text and v.standard_error > 0.05


def test_the_spread_test_holds_its_level_on_equal_spreads():
    """Over many pairs drawn from one normal distribution, about alpha of them are called different."""
    from lecture_utils.verdict import _f_test_p
    rng = np.random.default_rng(1)
    ps = [_f_test_p(np.var(rng.normal(size=5), ddof=1) / np.var(rng.normal(size=5), ddof=1), 4, 4, draws=20_000)
          for _ in range(400)]
    assert 0.02 < np.mean(np.array(ps) < 0.05) < 0.09


def test_spread_leaves_diverged_runs_out_and_says_so():
    from lecture_utils.verdict import compare_spread
    v = compare_spread({"A": [0.1, np.nan, 0.2, 0.3], "B": [0.5, 0.5, 0.6]})
    assert "A: 1 diverged run(s) left out" in v.text
