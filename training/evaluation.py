"""Per-group evaluation on a held-out split: Fairlearn's MetricFrame for
accuracy by true group (and its disparity), precision and recall per group,
95% Wilson intervals, and the confusion matrix."""

import numpy as np
from django.utils.translation import gettext_noop

from inference.stats import wilson_interval  # one definition, shared with class results


def accuracy_cell(correct: int, n: int) -> dict:
    """{n, accuracy, ci_low, ci_high} of `correct` right answers out of `n` (95% Wilson interval)."""
    low, high = wilson_interval(correct, n)
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else None,
        "ci_low": None if low is None else round(low, 4),
        "ci_high": None if high is None else round(high, 4),
    }


def per_group_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    """Metrics per true group. `accuracy` of a group is the share of its images
    classified as that group (its recall); `precision` is the share of answers
    naming the group that were right."""
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score

    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    n = len(labels)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (y_true, y_pred), 1)
    groups = {}
    for i, label in enumerate(labels):
        total, correct, answered = int(confusion[i].sum()), int(confusion[i, i]), int(confusion[:, i].sum())
        groups[label] = {
            **accuracy_cell(correct, total),
            "precision": round(correct / answered, 4) if answered else None,
            "recall": round(correct / total, 4) if total else None,
        }
    disparity = {}
    if len(y_true) and len(set(y_true.tolist())) > 1:
        frame = MetricFrame(
            metrics=accuracy_score, y_true=y_true, y_pred=y_pred, sensitive_features=[labels[i] for i in y_true]
        )
        ratio = float(frame.ratio())  # 0/0 when no group got any right: no ratio (and no NaN in JSON)
        disparity = {
            "accuracy_difference": round(float(frame.difference()), 4),
            "accuracy_ratio": round(ratio, 4) if np.isfinite(ratio) else None,
        }
    return {
        "overall_accuracy": round(float((y_true == y_pred).mean()), 4) if len(y_true) else None,
        "per_group": groups,
        "disparity": disparity,
        "confusion": confusion.tolist(),
    }


# How the attributes are named on cards: a dataset's own, or the synthetic set's made-up ones. Stored
# with the metrics in English; the card translates them.
ATTRIBUTE_NAMES = {"gender": gettext_noop("Gender"), "age_group": gettext_noop("Age band")}
SYNTHETIC_ATTRIBUTE_NAMES = {
    "gender": gettext_noop("Style (synthetic, gender-like)"),
    "age_group": gettext_noop("Band (synthetic, age-like)"),
}


def intersectional_metrics(
    y_true, y_pred, labels: list[str], attributes: dict[str, list[str]], *, synthetic: bool = False
) -> dict:
    """Accuracy by group x attribute value (Gender Shades), each cell with its count and 95%
    Wilson interval; images whose value is unknown ("") are left out of that attribute."""
    y_true = np.asarray(y_true, dtype=int)
    right = y_true == np.asarray(y_pred, dtype=int)
    names = SYNTHETIC_ATTRIBUTE_NAMES if synthetic else ATTRIBUTE_NAMES
    out = {}
    for attribute, values in attributes.items():
        values = np.asarray(values, dtype=object)
        kinds = sorted({v for v in values if v})
        if len(kinds) < 2:
            continue
        cells = {}
        for g, label in enumerate(labels):
            row = {}
            for kind in kinds:
                mask = (y_true == g) & (values == kind)
                row[kind] = accuracy_cell(int(right[mask].sum()), int(mask.sum()))
            cells[label] = row
        out[attribute] = {"name": names.get(attribute, attribute), "values": kinds, "cells": cells}
    return out


def held_out_metrics(y_true, y_pred, labels: list[str], attributes: dict | None, *, synthetic: bool = False) -> dict:
    """A model's held-out metrics as its card shows them: per group, and by group x attribute
    where the images have attributes (gender, age band; made up on synthetic data)."""
    metrics = per_group_metrics(y_true, y_pred, labels)
    if attributes:
        metrics["intersectional"] = intersectional_metrics(y_true, y_pred, labels, attributes, synthetic=synthetic)
    return metrics
