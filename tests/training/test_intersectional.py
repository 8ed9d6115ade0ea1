"""Groups within groups (Gender Shades): accuracy by group x attribute on cards, from the
importers' gender and age columns or the synthetic set's made-up style and band."""

import numpy as np
import pytest
from django.urls import reverse

from training import synthetic
from training.evaluation import intersectional_metrics


def test_cells_count_right_answers_per_group_and_value_and_leave_unknowns_out():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [0, 1, 0, 1, 1, 0]
    out = intersectional_metrics(y_true, y_pred, ["A", "B"], {"gender": ["F", "M", "F", "F", "", "M"]})
    cells = out["gender"]["cells"]
    assert out["gender"]["name"] == "Gender" and out["gender"]["values"] == ["F", "M"]
    assert cells["A"]["F"]["n"] == 2 and cells["A"]["F"]["accuracy"] == 1.0
    assert cells["A"]["M"] == {"n": 1, "accuracy": 0.0, "ci_low": 0.0, "ci_high": pytest.approx(0.7935, abs=1e-3)}
    assert cells["B"]["F"]["n"] == 1 and cells["B"]["M"]["accuracy"] == 0.0  # the "" image counts nowhere
    assert intersectional_metrics(y_true, y_pred, ["A", "B"], {"gender": ["F"] * 6}) == {}  # one value: no table


def test_the_synthetic_attributes_are_read_off_the_drawing_and_change_no_pixel():
    a = synthetic.attributes(2, 7, split="gallery", seed=3)
    assert a["style"] in synthetic.STYLE_NAMES and a["band"] in synthetic.BAND_NAMES
    assert a == synthetic.attributes(2, 7, split="gallery", seed=3)
    bands = {synthetic.attributes(0, i)["band"] for i in range(60)}
    assert bands == set(synthetic.BAND_NAMES)
    assert np.array_equal(
        synthetic.generate_image(2, 7, split="gallery", seed=3), synthetic.generate_image(2, 7, split="gallery", seed=3)
    )


def test_demo_cards_break_accuracy_down_by_the_made_up_style_and_band(client, teacher, demo_models):
    unbalanced = demo_models[1]
    inter = unbalanced.metrics["intersectional"]
    assert inter["gender"]["name"] == "Style (synthetic, gender-like)" and inter["gender"]["values"] == [
        "Style 1",
        "Style 2",
    ]
    assert sum(c["n"] for row in inter["age_group"]["cells"].values() for c in row.values()) == 100  # 20 x 5 groups
    client.force_login(teacher)
    card = client.get(reverse("model_card", args=[unbalanced.key])).content.decode()
    assert 'id="intersectional"' in card and "Accuracy by group and style (synthetic, gender-like)" in card
    assert "Band 3</th>" in card and "too few (n=" in card  # 20 test images per group: some cells are small
