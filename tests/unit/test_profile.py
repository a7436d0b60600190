"""lecture_utils.profile: profiles, seeding and the environment report."""
import re

import numpy as np
import pytest

from lecture_utils import profile


def test_default_is_full(monkeypatch):
    monkeypatch.delenv("LECTURE_PROFILE", raising=False)
    p = profile.get_profile()
    assert p.name == "full" and p.n_train == 55_000 and p.epochs(10) == 10 and p.depth(100) == 100


def test_fast_from_environment(monkeypatch):
    monkeypatch.setenv("LECTURE_PROFILE", "fast")
    p = profile.get_profile()
    assert p.name == "fast" and p.n_train < 55_000
    assert p.epochs(10) == p.max_epochs and p.epochs(1) == 1
    assert p.depth(100) == p.max_depth < 100 and p.depth(5) == 5
    assert p.steps(1000) == p.max_steps < 1000 and p.steps(20) == 20
    assert p.n_seeds >= 2


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("LECTURE_PROFILE", "quick")
    with pytest.raises(ValueError, match=r"Unknown LECTURE_PROFILE='quick'.*'full', 'fast'"):
        profile.get_profile()
    with pytest.raises(ValueError, match="lecture_epochs must be at least 1"):
        profile.get_profile("fast").epochs(0)


@pytest.mark.parametrize("bad", [-1, 1.5, "42", True])
def test_seed_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        profile.seed_everything(bad)


def test_seeding_makes_keras_repeatable():
    import keras

    def weights():
        profile.seed_everything(7)
        layer = keras.layers.Dense(5)
        layer.build((None, 3))
        return keras.ops.convert_to_numpy(layer.kernel), np.random.rand(3)

    (k1, n1), (k2, n2) = weights(), weights()
    assert np.array_equal(k1, k2) and np.array_equal(n1, n2)
    profile.seed_everything(8)
    layer = keras.layers.Dense(5)
    layer.build((None, 3))
    assert not np.array_equal(keras.ops.convert_to_numpy(layer.kernel), k1)


def test_environment_report_names_everything():
    import keras

    facts = profile.environment(profile.get_profile("fast"))
    assert facts["Keras"] == keras.__version__
    assert facts["Backend"].startswith(keras.backend.backend())
    assert facts["Device"].startswith(("CPU: ", "GPU: "))
    assert facts["Profile"].startswith("fast")
    assert "verified (sha256)" in facts["Data"]
    text = profile.environment_report(profile.get_profile("fast"))
    assert all(key in text for key in ("Python", "Keras", "Backend", "Device", "Profile", "Data"))


def test_lecture_seeds_replace_the_profiles_seeds(monkeypatch):
    monkeypatch.setenv("LECTURE_PROFILE", "full")
    monkeypatch.setenv("LECTURE_SEEDS", "7, 8,9,10,11")
    p = profile.get_profile()
    assert p.seeds == (7, 8, 9, 10, 11) and p.n_seeds == 5 and p.n_train == 55_000
    assert profile.get_profile("fast").seeds == (7, 8, 9, 10, 11)
    facts = profile.environment(p, check_data=False)
    assert facts["Seeds"] == "7, 8, 9, 10, 11 (from LECTURE_SEEDS; the profile's are 42, 43, 44, 45, 46)"
    monkeypatch.setenv("LECTURE_SEEDS", "3")
    assert profile.get_profile().seeds == (3,)
    monkeypatch.setenv("LECTURE_SEEDS", " ")   # set but empty: the profile's own
    assert profile.get_profile().seeds == (42, 43, 44, 45, 46)
    assert "Seeds" not in profile.environment(profile.get_profile(), check_data=False)


@pytest.mark.parametrize("bad, says", [
    ("7,x", "'x' is not a seed"), ("7,,8", "an empty item is not a seed"), ("-1", "'-1' is not a seed"),
    ("1.5", "'1.5' is not a seed"), ("7,7", "seed 7 is given twice"), (",", "names no seed"),
    ("٣", "'٣' is not a seed"),
])
def test_a_wrong_lecture_seeds_is_a_clear_error(monkeypatch, bad, says):
    monkeypatch.setenv("LECTURE_SEEDS", bad)
    with pytest.raises(ValueError, match=f"LECTURE_SEEDS=.*{re.escape(says)}.*e.g. LECTURE_SEEDS=7,8,9,10,11"):
        profile.get_profile("fast")


def test_tensorflows_retracing_warning_and_only_it_is_dropped():
    import logging

    profile.quiet_retracing_warnings()
    profile.quiet_retracing_warnings()   # once is enough; twice adds nothing
    logger = logging.getLogger("tensorflow")
    assert sum(isinstance(f, profile._NoRetracingWarnings) for f in logger.filters) == 1
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Keep()
    logger.addHandler(handler)
    try:
        logger.warning("5 out of the last 1058 calls to <function f at 0x1> triggered tf.function retracing. "
                       "Tracing is expensive")
        logger.warning("something else went wrong")
    finally:
        logger.removeHandler(handler)
    assert seen == ["something else went wrong"]
