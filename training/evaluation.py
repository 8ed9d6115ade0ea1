"""Per-group evaluation on a held-out split."""

import numpy as np


def per_group_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    """Accuracy (recall) per true group, overall accuracy, and the confusion matrix."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    n = len(labels)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (y_true, y_pred), 1)
    groups = {}
    for i, label in enumerate(labels):
        total = int(confusion[i].sum())
        groups[label] = {"n": total, "accuracy": round(float(confusion[i, i] / total), 4) if total else None}
    return {
        "overall_accuracy": round(float((y_true == y_pred).mean()), 4) if len(y_true) else None,
        "per_group": groups,
        "confusion": confusion.tolist(),
    }
