"""Presentation helpers shared by pages, projector and API: plain JSON-ready data."""

from django.conf import settings

from .shapes import GroupAccuracy, ModelResults, PairResults, Results
from .stats import stored_interval


def thin(points: list, limit: int = 24) -> list:
    """At most `limit` evenly spaced points, always keeping the last (running totals stay exact)."""
    n = len(points)
    if n <= limit:
        return list(points)
    return [points[i] for i in sorted({round((k + 1) * n / limit) - 1 for k in range(limit)})]


def held_out(model, group: str) -> dict | None:
    """The model card's held-out numbers for a group (hundreds of images), beside the class's own."""
    m = ((model.metrics or {}).get("per_group") or {}).get(group) or {}
    if m.get("accuracy") is None or not m.get("n"):
        return None
    low, high = stored_interval(m)
    return {"accuracy": m["accuracy"], "low": low, "high": high, "n": m["n"]}


def _group_dict(g: GroupAccuracy, shows_mine: bool, model=None) -> dict:
    return {
        "group": g.group,
        "total": g.total,
        "correct": g.correct,
        # Accuracy counts each image once; below the minimum it is withheld ("not enough tests yet").
        "images": g.images,
        "images_correct": g.images_correct,
        "enough": g.enough,
        "accuracy": g.accuracy if g.enough else None,
        "low": g.low if g.enough else None,
        "high": g.high if g.enough else None,
        "held_out": held_out(model, g.group) if model is not None else None,
        "no_face": g.no_face,
        "uploads_looked": g.looked,
        "face_not_found_rate": g.face_not_found_rate,
        "mine_total": g.mine_total if shows_mine else None,
        "mine_correct": g.mine_correct if shows_mine else None,
    }


def model_dict(r: ModelResults, shows_mine: bool = False) -> dict:
    from django.urls import reverse

    d = r.disparity
    predicted_known = dict(r.predicted_known)
    low, high = r.interval
    return {
        "key": r.model.key,
        "name": r.model.name,
        "model_card": reverse("model_card", args=[r.model.key]),
        "synthetic": r.model.synthetic,
        "labels": r.labels,
        "done": r.done,
        "pending": r.pending,
        "failed": r.failed,
        "no_face": r.no_face,
        "uploads_looked": r.looked,
        "face_not_found_rate": r.face_not_found_rate,
        "unknown_group": r.unknown_group,
        "no_face_unknown_group": r.no_face_unknown_group,
        "with_expected": r.with_expected,
        "correct": r.correct,
        "enough": r.enough,
        "accuracy": r.accuracy if r.enough else None,
        "low": low if r.enough else None,
        "high": high if r.enough else None,
        "over_represented": r.over_represented,
        "min_tests": settings.MIN_TESTS_PER_GROUP,
        "images": r.images,
        "images_correct": r.images_correct,
        "groups": [_group_dict(g, shows_mine, r.model) for g in r.groups],
        "distribution": [
            {"group": label, "predicted": n, "expected": g.total, "predicted_known": predicted_known[label]}
            for (label, n), g in zip(r.predicted, r.groups, strict=True)
        ],
        "confusion": [{"expected": row.group, "total": row.total, "counts": row.cells} for row in r.confusion],
        "disparity": None
        if d is None
        else {
            "best": d.best.group,
            "worst": d.worst.group,
            "best_accuracy": d.best.accuracy,
            "worst_accuracy": d.worst.accuracy,
            "gap": d.gap,
            "ratio": d.ratio,
            "clear": d.clear,
            "overlap": d.overlap,
        },
        "trend": [
            {"start": p.start.isoformat(), "tests": p.tests, "accuracy": p.accuracies, "gap": p.gap} for p in r.trend
        ],
        "mine": None
        if not shows_mine
        else {"done": r.mine_done, "with_expected": r.mine_total, "correct": r.mine_correct},
    }


def pair_dict(p: PairResults) -> dict:
    return {
        "a": p.a.model.key,
        "b": p.b.model.key,
        "both": p.both,
        "agree": p.agree,
        "agreement": p.agreement,
        "highlight": p.highlight,
        "groups": [{"group": g.group, "a_only": g.a_only, "b_only": g.b_only} for g in p.groups],
        "disagree_known": p.disagree_known,
        "a_right": p.a_right,
        "b_right": p.b_right,
        "neither_right": p.neither_right,
    }


def as_dict(results: Results) -> dict:
    """Plain JSON-ready data: the page's charts, the projector and the API all read this. A
    student's copy has no count small enough to single out a classmate (small_counts.py)."""
    data = {
        "granularity": results.granularity,
        "first": results.first.isoformat() if results.first else None,
        "last": results.last.isoformat() if results.last else None,
        "shows_mine": results.shows_mine,
        "models": [model_dict(r, results.shows_mine) for r in results.models],
        "pairs": [pair_dict(p) for p in results.pairs],
    }
    if results.shows_mine:
        from .small_counts import for_students

        return for_students(data)
    return data
