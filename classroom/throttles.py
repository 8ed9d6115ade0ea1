"""The API's throttles (Django REST framework's, by client address, user and token request),
counted in the shared cache: while it cannot be reached they let requests through, as the
per-student limits do (services.rate_limits), instead of failing every API call."""

import logging

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .services.rate_limits import CACHE_UNREACHABLE

log = logging.getLogger(__name__)


class _OpenWhileCacheAway:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_UNREACHABLE as exc:
            log.warning("API throttle %s not counted: the shared cache is unreachable (%s)", self.scope, exc)
            return True


class AnonThrottle(_OpenWhileCacheAway, AnonRateThrottle):
    """Anonymous calls, per client address."""


class UserThrottle(_OpenWhileCacheAway, UserRateThrottle):
    """Signed-in calls, per user."""


class TokenThrottle(_OpenWhileCacheAway, AnonRateThrottle):
    """Password guesses through the token endpoint, per client address."""

    scope = "token"
