import numpy as np
import pytest

from training import composition, synthetic
from training.evaluation import per_group_metrics
from training.services.mlp import accuracy_table, train_demo_mlp_pair

GROUPS = synthetic.GROUPS


def test_synthetic_images_are_deterministic_and_distinct():
    a = synthetic.generate_image(0, 3)
    np.testing.assert_array_equal(a, synthetic.generate_image(0, 3))
    assert not np.array_equal(a, synthetic.generate_image(0, 4))
    assert not np.array_equal(a, synthetic.generate_image(0, 3, split="test"))
    assert a.shape == (synthetic.IMAGE_SIZE, synthetic.IMAGE_SIZE, 3) and a.dtype == np.uint8


def test_compositions_are_exact():
    assert composition.balanced(GROUPS, 3000) == dict.fromkeys(GROUPS, 600)
    mix = composition.k_times(GROUPS, 3000, majority="Group A", k=10)
    assert mix["Group A"] == 10 * mix["Group B"]
    assert len(set(mix[g] for g in GROUPS[1:])) == 1
    assert sum(mix.values()) <= 3000
    with pytest.raises(ValueError, match="Unknown group"):
        composition.k_times(GROUPS, 100, majority="White", k=10)


def test_per_group_metrics():
    m = per_group_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["x", "y"])
    assert m["per_group"]["x"]["n"] == 2 and m["per_group"]["x"]["accuracy"] == 0.5
    assert m["per_group"]["x"]["precision"] == 1.0 and m["per_group"]["y"]["precision"] == 0.6667
    assert m["per_group"]["y"]["accuracy"] == 1.0
    assert m["overall_accuracy"] == 0.75
    assert m["confusion"] == [[1, 1], [0, 2]]
    assert m["disparity"] == {"accuracy_difference": 0.5, "accuracy_ratio": 0.5}
    low, high = m["per_group"]["x"]["ci_low"], m["per_group"]["x"]["ci_high"]
    assert 0 < low < 0.5 < high < 1


@pytest.mark.parametrize(
    "correct,total,low,high",
    [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (50, 100, 0.4038, 0.5962), (81, 263, 0.2553, 0.3662)],
)
def test_wilson_interval_matches_published_values(correct, total, low, high):
    from training.evaluation import wilson_interval

    lo, hi = wilson_interval(correct, total)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)
    assert wilson_interval(0, 0) == (None, None)


@pytest.mark.django_db
def test_unbalanced_model_is_worse_on_under_represented_groups():
    report = train_demo_mlp_pair(total=1200, test_per_group=80, majority="Group A", k=10)
    bal = report.balanced.metrics["per_group"]
    unb = report.unbalanced.metrics["per_group"]
    minority = GROUPS[1:]
    bal_minority = np.mean([bal[g]["accuracy"] for g in minority])
    unb_minority = np.mean([unb[g]["accuracy"] for g in minority])
    assert unb_minority < bal_minority - 0.1, accuracy_table([report.balanced, report.unbalanced])
    assert unb["Group A"]["accuracy"] >= bal["Group A"]["accuracy"]
    assert report.unbalanced.composition["Group A"] == 10 * report.unbalanced.composition["Group B"]
    assert report.balanced.synthetic and report.balanced.sha256
