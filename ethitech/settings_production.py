"""Production settings: the environment-driven settings, hardened for a school
server behind HTTPS. Use with DJANGO_SETTINGS_MODULE=ethitech.settings_production;
`manage.py check --deploy` reports nothing under them (a test runs it).

DJANGO_SECRET_KEY must be set. Behind a reverse proxy that terminates TLS, the
proxy must set X-Forwarded-Proto.
"""

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import _str, env

DEBUG = False
SECRET_KEY = _str("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("django-insecure", "insecure-dev-key")):
    raise ImproperlyConfigured(
        'Set DJANGO_SECRET_KEY to a long random string: python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

# HTTPS only, and browsers told to remember it.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Also upgrade any http:// sub-resource a page might still name.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {**CONTENT_SECURITY_POLICY["DIRECTIVES"], "upgrade-insecure-requests": True}  # noqa: F405
}
