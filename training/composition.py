"""Training-set mixes: how many images of each group a model is trained on."""

from django.utils import formats
from django.utils.translation import gettext


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


# --- Sampling a dataset ------------------------------------------------------
#
# A mix is a small dict, the same from the page, the API, commands and jobs:
#   {"kind": "balanced", "per_group": 1000}            (per_group omitted: as many as possible)
#   {"kind": "k_times", "majority": "White", "k": 10, "per_minority": 500}   (per_minority optional)
#   {"kind": "counts", "counts": {"White": 300, "Black": 120}}
#   {"kind": "cap", "cap": 2000}                       (every group, at most `cap` each)


class CompositionError(ValueError):
    """The mix cannot be drawn; the message says what is achievable instead."""


def available(dataset, split: str = "train") -> dict[str, int]:
    """Images per group in one split (one GROUP BY query), in label-set order."""
    from django.db.models import Count

    rows = dict(dataset.images.filter(split=split).values_list("label").annotate(n=Count("id")))
    return {g: rows.get(g, 0) for g in dataset.label_set.labels}


def number(n: int) -> str:
    """A count as people read it in the page's language ("1,000" in English)."""
    return formats.number_format(n, force_grouping=True)


def plan(mix: dict, avail: dict[str, int]) -> dict:
    """Counts per group for `mix`, and whether the dataset can supply them.

    Returns {"counts", "available", "achievable": bool, "message"}; never
    shrinks a request silently: when short, `achievable` is False and the
    message names the largest achievable version of the same mix.
    """
    groups = list(avail)
    kind = mix.get("kind", "balanced")
    if kind == "balanced":
        most = min(avail.values())
        per = int(mix.get("per_group") or most)
        counts = dict.fromkeys(groups, per)
        short_message = gettext("Not achievable (%(detail)s); balanced allows at most %(most)s per group.")
        values = {"most": number(most)}
    elif kind == "k_times":
        major, k = mix.get("majority"), int(mix.get("k", 10))
        if major not in avail:
            raise CompositionError(
                gettext("Unknown group %(group)r; choose one of %(groups)s.") % {"group": major, "groups": groups}
            )
        if k < 1:
            raise CompositionError(gettext("k must be at least 1."))
        most = min(min(n for g, n in avail.items() if g != major), avail[major] // k)
        per = int(mix.get("per_minority") or most)
        counts = {g: per * k if g == major else per for g in groups}
        short_message = gettext(
            "Not achievable (%(detail)s); %(k)sx %(group)s allows about %(most)s of each other group "
            "(%(most_k)s %(group)s)."
        )
        values = {"k": k, "group": major, "most": number(most), "most_k": number(most * k)}
    elif kind == "counts":
        unknown = set(mix.get("counts", {})) - set(groups)
        if unknown:
            raise CompositionError(
                gettext("Unknown group(s) %(unknown)s; the groups are %(groups)s.")
                % {"unknown": sorted(unknown), "groups": groups}
            )
        counts = {g: int(mix["counts"].get(g, 0)) for g in groups}
        short_message = gettext("Not achievable (%(detail)s); the dataset has %(available)s.")
        values = {"available": ", ".join(f"{g}: {number(n)}" for g, n in avail.items())}
    elif kind == "cap":
        cap = int(mix["cap"])
        counts = {g: min(cap, n) for g, n in avail.items()}
        short_message = gettext("Not achievable (%(detail)s); a cap of %(cap)s per group.")
        values = {"cap": number(cap)}
    else:
        raise CompositionError(gettext("Unknown mix kind %(kind)r.") % {"kind": kind})
    if any(n < 0 for n in counts.values()):
        raise CompositionError(gettext("Counts cannot be negative."))
    short = {g: (counts[g], avail[g]) for g in groups if counts[g] > avail[g]}
    if short:
        detail = ", ".join(
            gettext("%(group)s: asked %(asked)s, has %(has)s")
            % {"group": g, "asked": number(want), "has": number(have)}
            for g, (want, have) in short.items()
        )
        message = short_message % {"detail": detail, **values}
    else:
        message = gettext("%(total)s images: %(counts)s.") % {
            "total": number(sum(counts.values())),
            "counts": describe(counts),
        }
    return {"counts": counts, "available": avail, "achievable": not short, "message": message}


def sample(dataset, mix: dict, *, split: str = "train", seed: int = 0) -> tuple[list[int], dict[str, int]]:
    """Draw the mix (image ids) deterministically; raises CompositionError if it is not achievable."""
    import numpy as np

    p = plan(mix, available(dataset, split))
    if not p["achievable"]:
        raise CompositionError(p["message"])
    ids = []
    for gi, (group, n) in enumerate(p["counts"].items()):
        if not n:
            continue
        pool = np.array(dataset.images.filter(split=split, label=group).order_by("path").values_list("id", flat=True))
        pick = np.random.default_rng([seed, gi]).permutation(len(pool))[:n]
        ids += pool[np.sort(pick)].tolist()
    return ids, p["counts"]
