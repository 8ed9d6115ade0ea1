"""Proportions and their 95% Wilson intervals."""

from inference.stats import Z_95, wilson_interval  # noqa: F401  (one definition, shared with the cards)


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
