"""Tests for classroom.lessons.agreement (pure Python, no database)."""

import pytest

from classroom.lessons.agreement import AgreementRow, perception_agreement

NOT_SURE = "Not sure"
MORE_THAN_ONE = "More than one group"

# Fleiss (1971) / Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories.
# Each row holds how many raters put that subject into categories 1..5.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
FLEISS_CATEGORIES = ["1", "2", "3", "4", "5"]


def _ratings(images):
    """Expand {image id: (label, [choices])} into (image id, label, choice) tuples."""
    return [(image_id, label, choice) for image_id, (label, choices) in images.items() for choice in choices]


def _by_group(rows):
    return {row.group: row for row in rows}


def _fleiss_ratings(label="5"):
    ratings = []
    for subject, counts in enumerate(FLEISS_TABLE):
        for category, count in zip(FLEISS_CATEGORIES, counts, strict=True):
            ratings.extend([(subject, label, category)] * count)
    return ratings


def test_fleiss_textbook_example():
    rows = _by_group(perception_agreement(_fleiss_ratings(), FLEISS_CATEGORIES))
    everything = rows[None]

    assert everything.images == 10
    assert everything.perceptions == 140
    assert everything.rated_by_two == 10
    assert everything.pairwise_agreement == pytest.approx(0.378, abs=5e-4)
    assert everything.kappa == pytest.approx(0.210, abs=5e-4)
    # P_e is not returned; recover it from kappa = (P_bar - P_e) / (1 - P_e).
    expected = (everything.pairwise_agreement - everything.kappa) / (1 - everything.kappa)
    assert expected == pytest.approx(0.213, abs=5e-4)
    # Every subject is labelled "5": column 5 of the table sums to 32.
    assert everything.agree_with_label == 32
    assert everything.label_agreement == pytest.approx(32 / 140)

    # All images belong to group "5", so its row has the same figures.
    assert rows["5"] == AgreementRow(
        group="5",
        images=everything.images,
        perceptions=everything.perceptions,
        agree_with_label=everything.agree_with_label,
        label_agreement=everything.label_agreement,
        pairwise_agreement=everything.pairwise_agreement,
        kappa=everything.kappa,
        rated_by_two=everything.rated_by_two,
    )
    assert rows["1"].images == 0
    assert rows["1"].kappa is None


def test_rows_follow_groups_order_then_all_images():
    rows = perception_agreement([("x", "B", "B")], ["C", "A", "B"])

    assert [row.group for row in rows] == ["C", "A", "B", None]


def test_perfect_agreement_with_label():
    images = {
        "a1": ("A", ["A", "A", "A"]),
        "a2": ("A", ["A", "A", "A"]),
        "b1": ("B", ["B", "B", "B"]),
        "b2": ("B", ["B", "B", "B"]),
    }
    rows = _by_group(perception_agreement(_ratings(images), ["A", "B"]))

    for group in ("A", "B", None):
        assert rows[group].label_agreement == 1.0
        assert rows[group].pairwise_agreement == 1.0
    assert rows[None].agree_with_label == 12
    # Across groups there are two categories, so chance agreement is below 1 and kappa is perfect.
    assert rows[None].kappa == pytest.approx(1.0)
    # Within one group every rating is the same category: P_e == 1, kappa undefined.
    assert rows["A"].kappa is None
    assert rows["B"].kappa is None


def test_kappa_none_when_every_rating_is_one_category():
    images = {
        "a1": ("A", [NOT_SURE, NOT_SURE]),
        "b1": ("B", [NOT_SURE, NOT_SURE, NOT_SURE]),
    }
    everything = perception_agreement(_ratings(images), ["A", "B"])[-1]

    assert everything.rated_by_two == 2
    assert everything.pairwise_agreement == 1.0
    assert everything.kappa is None
    assert everything.label_agreement == 0.0


def test_per_group_kappa_uses_only_that_groups_images():
    images = {
        # Group A: raters agree within each image, split evenly between categories.
        "a1": ("A", ["A", "A"]),
        "a2": ("A", ["B", "B"]),
        # Group B: raters always disagree.
        "b1": ("B", ["A", "B"]),
        "b2": ("B", ["B", "A"]),
    }
    rows = _by_group(perception_agreement(_ratings(images), ["A", "B"]))

    assert rows["A"].pairwise_agreement == 1.0
    assert rows["A"].kappa == pytest.approx(1.0)
    assert rows["B"].pairwise_agreement == 0.0
    assert rows["B"].kappa == pytest.approx(-1.0)
    assert rows[None].pairwise_agreement == pytest.approx(0.5)
    assert rows[None].kappa == pytest.approx(0.0)
    assert rows["A"].agree_with_label == 2
    assert rows["B"].agree_with_label == 2
    assert rows["A"].label_agreement == pytest.approx(0.5)


def test_images_rated_once_count_for_label_but_not_for_pairwise_or_kappa():
    images = {
        "x": ("A", ["A", "A"]),  # P_i = 1
        "y": ("A", ["A", "B"]),  # P_i = 0
        "z": ("A", ["A"]),  # rated once
    }
    row = _by_group(perception_agreement(_ratings(images), ["A"]))["A"]

    assert row.images == 3
    assert row.perceptions == 5
    assert row.agree_with_label == 4
    assert row.label_agreement == pytest.approx(4 / 5)
    assert row.rated_by_two == 2
    assert row.pairwise_agreement == pytest.approx(0.5)
    # Over x and y only: p_A = 3/4, p_B = 1/4, P_e = 10/16, kappa = (1/2 - 5/8) / (3/8) = -1/3.
    # Including z would give p_A = 4/5 and a different kappa.
    assert row.kappa == pytest.approx(-1 / 3)


def test_pairwise_and_kappa_need_images_rated_twice():
    images = {
        "a1": ("A", ["A"]),
        "a2": ("A", ["B"]),
        "b1": ("B", ["B", "A"]),
    }
    rows = _by_group(perception_agreement(_ratings(images), ["A", "B"]))

    assert rows["A"].images == 2
    assert rows["A"].rated_by_two == 0
    assert rows["A"].pairwise_agreement is None
    assert rows["A"].kappa is None
    assert rows["A"].label_agreement == pytest.approx(0.5)
    # One image rated twice: pairwise is defined, kappa needs at least two such images.
    assert rows["B"].rated_by_two == 1
    assert rows["B"].pairwise_agreement == 0.0
    assert rows["B"].kappa is None


def test_not_sure_is_a_category_and_never_agrees_with_label():
    images = {
        "a1": ("A", [NOT_SURE, NOT_SURE, "A"]),
        "b1": ("B", [NOT_SURE, "B", "B"]),
        "b2": ("B", [MORE_THAN_ONE, MORE_THAN_ONE]),
    }
    rows = _by_group(perception_agreement(_ratings(images), ["A", "B"]))
    everything = rows[None]

    assert everything.perceptions == 8
    assert everything.agree_with_label == 3
    assert everything.label_agreement == pytest.approx(3 / 8)
    assert rows["B"].agree_with_label == 2
    # Two "Not sure" ratings on a1 agree with each other: P_i = (2*2 + 1 - 3) / (3*2) = 1/3.
    assert rows["A"].pairwise_agreement == pytest.approx(1 / 3)
    assert everything.pairwise_agreement == pytest.approx((1 / 3 + 1 / 3 + 1) / 3)
    # Categories: Not sure 3, A 1, B 2, More than one group 2 of 8 -> P_e = (9 + 1 + 4 + 4) / 64.
    p_bar = 5 / 9
    p_e = 18 / 64
    assert everything.kappa == pytest.approx((p_bar - p_e) / (1 - p_e))


def test_label_outside_groups_counts_only_in_all_images_row():
    images = {
        "a1": ("A", ["A", "A"]),
        "o1": ("Other", ["Other", "A"]),
    }
    rows = _by_group(perception_agreement(_ratings(images), ["A"]))

    assert set(rows) == {"A", None}
    assert rows["A"].images == 1
    assert rows["A"].perceptions == 2
    assert rows[None].images == 2
    assert rows[None].perceptions == 4
    assert rows[None].agree_with_label == 3
    assert rows[None].rated_by_two == 2


def test_empty_input_gives_zero_rows():
    rows = perception_agreement([], ["A", "B"])

    assert rows == [
        AgreementRow(
            group=group,
            images=0,
            perceptions=0,
            agree_with_label=0,
            label_agreement=None,
            pairwise_agreement=None,
            kappa=None,
            rated_by_two=0,
        )
        for group in ("A", "B", None)
    ]


def test_accepts_a_one_shot_iterator():
    rows = perception_agreement(iter(_fleiss_ratings()), FLEISS_CATEGORIES)

    assert rows[-1].perceptions == 140
    assert rows[-1].kappa == pytest.approx(0.210, abs=5e-4)


def test_one_image_with_two_labels_is_rejected():
    with pytest.raises(ValueError, match="two dataset labels"):
        perception_agreement([("x", "A", "A"), ("x", "B", "A")], ["A", "B"])
