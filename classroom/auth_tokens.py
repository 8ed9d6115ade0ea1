"""API tokens that end: with the password they were obtained with (classroom.models.User), at
logout, when a teacher revokes a student's, and after ETHITECH_API_TOKEN_HOURS."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

EXPIRED = gettext_lazy("This API token has expired. Get a new one from /api/token/.")


def expired(token: Token, now=None) -> bool:
    return token.created < (now or timezone.now()) - timedelta(hours=settings.API_TOKEN_HOURS)


def revoke(user) -> int:
    """End every API token of a user (a teacher revoking a student's, logout)."""
    n, _ = Token.objects.filter(user=user).delete()
    return n


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if expired(token):
            token.delete()
            raise AuthenticationFailed(EXPIRED)
        return user, token


@receiver(user_logged_out)
def _revoke_at_logout(sender, request, user, **kwargs):
    if user is not None:
        revoke(user)
