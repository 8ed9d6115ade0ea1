"""Per-user limits counted in the shared cache (Redis in production, a folder for the demo), so
every web process and the API count the same events: one limit, however a photo arrives.

While the cache cannot be reached (Redis restarting) nothing is counted and nothing is refused:
the limits guard against floods, and a class should not stop for a broker restart. Such events
are logged."""

import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

log = logging.getLogger(__name__)

# What the cache raises when its server is away: Redis's errors, or the demo's folder unreadable.
CACHE_UNREACHABLE = (redis.RedisError, OSError)


class RateLimited(Exception):
    """Too many of one action in a short time; the message says what to do, in plain words."""


def hit(key: str, *, limit: int, window: int = 60) -> bool:
    """Count one event for `key`; False once more than `limit` happened in the current window
    (never while the cache is unreachable)."""
    try:
        return _count(key, limit=limit, window=window)
    except CACHE_UNREACHABLE as exc:
        log.warning("Rate limit %s not counted: the shared cache is unreachable (%s)", key.split(":")[0], exc)
        return True


def _count(key: str, *, limit: int, window: int) -> bool:
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
