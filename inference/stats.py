"""Proportions and their 95% Wilson intervals: one definition for model cards (training) and
class results (classroom), so a card's interval and a page's are the same numbers."""

import math

Z_95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float] | tuple[None, None]:
    """95% Wilson score interval for a proportion; sensible for small counts and 0% / 100%;
    (None, None) without data."""
    if total <= 0:
        return None, None
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
