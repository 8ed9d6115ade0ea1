"""Per-user limits counted in the shared cache (Redis in production, a folder for the demo), so
every web process and the API count the same events: one limit, however a photo arrives."""

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext


class RateLimited(Exception):
    """Too many of one action in a short time; the message says what to do, in plain words."""


def hit(key: str, *, limit: int, window: int = 60) -> bool:
    """Count one event for `key`; False once more than `limit` happened in the current window."""
    bucket = int(time.time() // window)
    name = f"ratelimit:{key}:{bucket}"
    if cache.add(name, 1, timeout=window + 5):
        return 1 <= limit
    try:
        return cache.incr(name) <= limit
    except ValueError:  # expired between add and incr: a new window
        cache.add(name, 1, timeout=window + 5)
        return True


def check_uploads(user) -> None:
    limit = settings.UPLOADS_PER_MINUTE
    if not hit(f"uploads:{user.pk}", limit=limit):
        raise RateLimited(
            gettext(
                "You have tested %(n)s photos in the last minute. Take a moment to look at the answers, "
                "then try again in a minute."
            )
            % {"n": limit}
        )


def check_join(user) -> None:
    if not hit(f"join:{user.pk}", limit=settings.JOIN_ATTEMPTS_PER_MINUTE):
        raise RateLimited(
            gettext("Too many join codes tried in a minute. Check the code with your teacher, then try again.")
        )
