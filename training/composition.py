"""Training-set mixes: how many images of each group a model is trained on."""


def balanced(groups: list[str], total: int) -> dict[str, int]:
    """Equal counts per group; the remainder goes to the first groups."""
    base, extra = divmod(total, len(groups))
    return {g: base + (1 if i < extra else 0) for i, g in enumerate(groups)}


def k_times(groups: list[str], total: int, *, majority: str, k: int) -> dict[str, int]:
    """`majority` gets k times as many images as each other group, same total."""
    if majority not in groups:
        raise ValueError(f"Unknown group {majority!r}; choose one of {groups}.")
    minority = total // (k + len(groups) - 1)
    return {g: (minority * k if g == majority else minority) for g in groups}


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{g}: {n}" for g, n in counts.items())
