"""Refuse request bodies over the upload limit before any of the body is read.

Django reads a multipart body while parsing it, so a 2 GB "photo" would be
streamed in before the form could say it is too large. This middleware looks
at Content-Length only and answers 413 with a page that says what to do; the
body is never touched. (Without a Content-Length Django reads no body at all.)
"""

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext

from inference.intake import too_large_message

# Room for the multipart framing, the CSRF token, the expected group and a 1000-character note.
FORM_OVERHEAD_BYTES = 256 * 1024


# Routes that take a collection of photos (an audit) rather than one.
COLLECTION_ROUTES = {"audits", "api-audit-list"}


def request_max_bytes(request=None) -> int:
    if request is not None and _route(request) in COLLECTION_ROUTES:
        return settings.AUDIT_MAX_BYTES + FORM_OVERHEAD_BYTES
    return settings.UPLOAD_MAX_BYTES + FORM_OVERHEAD_BYTES


def _route(request) -> str:
    try:
        return resolve(request.path_info).url_name or ""
    except Resolver404:
        return ""


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > request_max_bytes(request):
            return self.too_large(request)
        return self.get_response(request)

    def too_large(self, request):
        message = too_large_message(request_max_bytes(request) - FORM_OVERHEAD_BYTES)
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"detail": message}, status=413)
        else:
            response = render(
                request, "errors/too_large.html", {"message": message, "back_url": _back_url(request)}, status=413
            )
        return response


def _back_url(request) -> str:
    """Where "choose another photo" leads: the experiment page for a submission."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return reverse("home")
    if match.url_name == "submit" and "public_id" in match.kwargs:
        return reverse("assignment", kwargs={"public_id": match.kwargs["public_id"]})
    return reverse("home")


# Views that keep "private" browser caching on purpose, and why (tests/test_access_matrix.py):
DELIBERATELY_CACHED = {
    "gallery_image": "a dataset image, not a student's data: an hour in the browser's own cache",
    "results_json": "anonymous aggregates the projector polls: revalidated by ETag each time (no-cache)",
}


log = logging.getLogger(__name__)

# The database cannot be reached or dropped the connection (restarting, failing over), or Redis
# cannot (the shared cache; the broker's own errors never reach a view: see services.submissions).
SERVICE_DOWN = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
RETRY_AFTER_SECONDS = 10


def wants_json(request) -> bool:
    return (
        request.path.startswith("/api/")
        or request.path.endswith(".json")
        or "application/json" in request.headers.get("Accept", "")
    )


def service_unavailable(request) -> HttpResponse:
    """503 with a plain "try again": the page is rendered without the request, as Django's own
    error pages are, so nothing in it needs the database (no user, no session, no messages)."""
    if wants_json(request):
        message = gettext("The classroom's server is restarting. Nothing was changed: try again in a minute.")
        response = JsonResponse({"detail": message}, status=503)
    else:
        # "Try again" reloads a page; after a form was sent it leads home (the form's page may not take a GET).
        again = request.get_full_path() if request.method in ("GET", "HEAD") else reverse("home")
        response = HttpResponse(render_to_string("errors/try_again.html", {"again_url": again}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class ServiceUnavailableMiddleware:
    """While the database or Redis cannot be reached (a restart takes seconds), a page or API call
    that needs it answers 503 "try again" instead of a 500 error page. Exceptions raised outside
    views (in other middleware) reach the same answer through `classroom.views.errors`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, SERVICE_DOWN):
            log.warning("%s %s: 503, a service is unreachable (%s)", request.method, request.path, exception)
            return service_unavailable(request)
        return None


def _signed_in(request) -> bool:
    try:
        return getattr(request, "user", None) is not None and request.user.is_authenticated
    except DatabaseError:
        return True  # unknown while the database is away: keep nothing, as for a signed-in page


class PrivateResponsesMiddleware:
    """Signed-in pages and every API answer are `Cache-Control: no-store` (login cards, rosters,
    notes: shared classroom computers and proxies keep nothing), and an API error is always JSON,
    even one Django raises before the view answers (too many files, an unknown URL)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        api = request.path.startswith("/api/")
        # A view may keep a deliberate private cache (DELIBERATELY_CACHED); everything else is no-store.
        deliberate = "private" in response.get("Cache-Control", "") and "no-store" not in response["Cache-Control"]
        if (api or _signed_in(request)) and not deliberate:
            response["Cache-Control"] = "no-store"
        if api and response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
            json = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
            json["Cache-Control"] = "no-store"
            return json
        return response

    def process_exception(self, request, exception):
        from django.core.exceptions import SuspiciousOperation

        if request.path.startswith("/api/") and isinstance(exception, SuspiciousOperation):
            # e.g. TooManyFilesSent: a plain answer, not an HTML page and a logged traceback.
            response = JsonResponse({"detail": str(exception) or gettext("The request was refused.")}, status=400)
            response["Cache-Control"] = "no-store"
            return response
        return None
