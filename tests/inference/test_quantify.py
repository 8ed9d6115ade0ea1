"""inference.quantify: QuaPy's estimators on answers computed already, with honest ranges."""

import numpy as np

from inference.quantify import NO_HELD_OUT, estimate


def one_hot(answers, k=3):
    return np.eye(k)[answers]


def test_without_a_held_out_evaluation_only_the_raw_count_is_possible():
    result = estimate(one_hot([0, 0, 1, 2]), confusion=None)
    assert result["methods"]["raw"]["share"] == [0.5, 0.25, 0.25]
    assert result["methods"]["adjusted"] is None and result["methods"]["em"] is None
    assert result["why_not"]["adjusted"] == NO_HELD_OUT


def test_the_correction_undoes_a_known_confusion():
    # The model calls 40% of group 1 and 40% of group 2 "group 0"; the collection is a third each.
    confusion = [[100, 0, 0], [40, 60, 0], [40, 0, 60]]
    answers = [0] * 60 + [1] * 20 + [2] * 20  # what it answers on 33/33/33
    result = estimate(one_hot(answers), confusion=confusion)
    assert result["methods"]["raw"]["share"] == [0.6, 0.2, 0.2]
    for method in ("adjusted", "em"):
        m = result["methods"][method]
        assert np.allclose(m["share"], [1 / 3, 1 / 3, 1 / 3], atol=0.01), (method, m)
        assert all(lo <= 1 / 3 <= hi for lo, hi in zip(m["low"], m["high"], strict=True)), (method, m)


def test_a_group_never_named_still_gets_a_range_above_zero():
    result = estimate(one_hot([0] * 30 + [1] * 20), confusion=[[50, 0, 0], [0, 50, 0], [0, 0, 50]])
    for method in ("raw", "adjusted", "em"):
        m = result["methods"][method]
        assert m["share"][2] == 0 and m["low"][2] == 0
        assert m["high"][2] > 0.01, (method, m)  # 0 of 50 cannot rule out a few percent
