"""Formatting for results pages: percentages, intervals and heat-map classes (no inline styles)."""

from django import template
from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from ..results.small_counts import hidden

register = template.Library()

DASH = "—"


@register.filter
def pct(value, digits=0):
    """0.8123 -> "81%"; None -> "—"."""
    if value is None or value == "":
        return DASH
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def points(value):
    """A difference of two proportions, in percentage points."""
    if value is None or value == "":
        return DASH
    n = round(float(value) * 100)
    return ngettext("%(n)s point", "%(n)s points", n) % {"n": f"{float(value) * 100:.0f}"}


@register.filter
def ratio(value):
    return DASH if value is None or value == "" else f"{float(value):.2f}"


@register.filter
def interval(item):
    """An object with .low/.high (or a (low, high) pair) -> "62–88%"."""
    low, high = (item.low, item.high) if hasattr(item, "low") else item
    if low is None:
        return DASH
    return f"{low * 100:.0f}–{high * 100:.0f}%"


@register.filter
def rate(group):
    """A group's (or model's) accuracy with its interval, or "not enough tests yet" below the minimum:
    a rate from two or three images says almost nothing, on every page including the projector."""
    from django.conf import settings

    if not group.images:
        return DASH
    if not group.enough:
        return gettext("Not enough tests yet (%(n)s of %(min)s)") % {
            "n": group.images,
            "min": settings.MIN_TESTS_PER_GROUP,
        }
    return f"{pct(group.accuracy)} ({interval(group.interval)})"


@register.filter
def held_out(model, group):
    """The model card's held-out accuracy for a group: "88% (84–91%) of 200"."""
    from ..results.serialize import held_out as card

    h = card(model, group)
    if h is None:
        return DASH
    return gettext("%(accuracy)s (%(interval)s) of %(n)s") % {
        "accuracy": pct(h["accuracy"]),
        "interval": interval((h["low"], h["high"])),
        "n": formats.number_format(h["n"], force_grouping=True),
    }


@register.filter
def heat(share):
    """A share of a row (0..1) -> CSS class heat-0 ... heat-10."""
    if share is None:
        return "heat-none"
    return f"heat-{max(0, min(10, round(float(share) * 10)))}"


@register.filter
def at(sequence, index):
    try:
        return sequence[int(index)]
    except (IndexError, TypeError, ValueError):
        return None


@register.filter
def thinned(points, limit=24):
    from ..results import thin

    return thin(list(points), int(limit))


BUCKET_FORMATS = {"minute": "j M H:i", "hour": "j M H:00", "day": "j M Y"}


@register.filter
def bucket_format(granularity):
    if granularity == "week":
        # A format for Django's `date` filter: its words are escaped letter by letter, translated too.
        return pgettext("date format: the week starting on a day", "\\w\\e\\e\\k \\o\\f j M Y")
    return BUCKET_FORMATS.get(granularity, "j M Y H:i")


@register.filter
def few(value, student_view):
    """A class-wide count as a student may see it: "fewer than 5" instead of 1 to 4 (see
    classroom.results.small_counts, which also stores a withheld count as None); teachers see the number."""
    if student_view and (value is None or hidden(value)):
        return gettext("fewer than %(n)s") % {"n": settings.STUDENT_MIN_COUNT}
    return value


@register.filter
def few_count(value, student_view):
    """The number a sentence agrees with when `few` may hide the count: "fewer than 5 photos", never
    "fewer than 5 photo"."""
    if student_view and (value is None or hidden(value)):
        return settings.STUDENT_MIN_COUNT
    return value


@register.filter
def rate_of(rate, count):
    """Pair a rate with the count it is out of, for `few_rate`."""
    return (rate, count)


@register.filter
def few_rate(pair, student_view):
    """A rate as a student may see it: none when it is out of 1 to 4 (it would tell on someone)."""
    rate, count = pair
    if student_view and hidden(count):
        return "—"
    return pct(rate)


# The details an audit-log entry may carry (classroom.services.audit.record's keyword arguments).
DETAIL_NAMES = {
    "account_deleted": _("account deleted"),
    "audits": _("audits"),
    "count": _("count"),
    "days": _("days"),
    "experiment": _("experiment"),
    "experiments": _("experiments"),
    "gallery_images": _("gallery images"),
    "lab_models": _("lab models"),
    "lesson_answers": _("lesson answers"),
    "photos": _("photos"),
    "policy": _("policy"),
    "students": _("students"),
    "submissions": _("submissions"),
    "tests": _("tests"),
}


@register.filter
def in_words(details: dict) -> str:
    """An audit-log entry's details for people: "account deleted: yes", not "account_deleted: True"."""

    def word(v):
        return gettext("yes") if v is True else gettext("no") if v is False else v

    return ", ".join(
        f"{DETAIL_NAMES.get(k) or str(k).replace('_', ' ')}: {word(v)}" for k, v in (details or {}).items()
    )


@register.simple_tag
def lockout_minutes() -> int:
    """How long a locked login waits, in whole minutes (django-axes' own value prints as PT15M)."""
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
