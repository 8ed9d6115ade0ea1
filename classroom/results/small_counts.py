"""What a student sees of the class's numbers: no count small enough to single out a classmate.

In every view a student sees (pages, their charts' data, the API), a class-wide count from 1 to
ETHITECH_STUDENT_MIN_COUNT - 1 is withheld ("fewer than 5"), and times are coarsened to the day
(no trend by minute): in a class of three, "Group C: 1 test at 10:42" names somebody. The
student's own numbers are theirs to see. Teachers see everything."""

from django.conf import settings

# Class-wide counts in classroom.results.serialize's output (the student's own are under "mine_*").
COUNT_KEYS = {
    "total",
    "correct",
    "images",
    "images_correct",
    "no_face",
    "uploads_looked",
    "done",
    "pending",
    "failed",
    "with_expected",
    "unknown_group",
    "no_face_unknown_group",
    "predicted",
    "expected",
    "predicted_known",
    "both",
    "agree",
    "a_only",
    "b_only",
    "disagree_known",
    "a_right",
    "b_right",
    "neither_right",
    "tests",
}


def hidden(n) -> bool:
    return isinstance(n, int) and 0 < n < settings.STUDENT_MIN_COUNT


def _walk(value):
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if key in COUNT_KEYS and hidden(v):
                out[key] = None
            elif key == "face_not_found_rate" and hidden(value.get("uploads_looked")):
                out[key] = None  # a rate out of 1 to 4 uploads tells on someone too
            elif key == "counts" and isinstance(v, list):  # a confusion-matrix row
                out[key] = [None if hidden(n) else n for n in v]
            else:
                out[key] = _walk(v)
        return out
    if isinstance(value, list):
        return [_walk(v) for v in value]
    return value


def for_students(data: dict) -> dict:
    """classroom.results.as_dict's output, as a student may see it."""
    out = _walk(data)
    out["trend"] = []  # by minute, a trend points at who tested when
    for key in ("first", "last"):
        if out.get(key):
            out[key] = out[key][:10]  # the day only
    for model in out.get("models", []):
        model["trend"] = []
    out["small_counts_hidden_below"] = settings.STUDENT_MIN_COUNT
    return out
