"""Proportions and their 95% Wilson intervals."""

import math

Z_95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float] | tuple[None, None]:
    """95% Wilson score interval for a proportion; (None, None) without data."""
    if total <= 0:
        return None, None
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def stored_interval(metrics: dict) -> tuple[float, float] | tuple[None, None]:
    """A model card's per-group interval as stored at training time, or recomputed for cards
    trained before intervals were stored."""
    low, high = metrics.get("ci_low"), metrics.get("ci_high")
    n, acc = metrics.get("n"), metrics.get("accuracy")
    if low is None and n and acc is not None:
        low, high = wilson_interval(round(acc * n), n)
    return low, high


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None
