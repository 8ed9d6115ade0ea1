"""Django's handler for exceptions no view or middleware answered (ethitech.urls.handler500)."""

import sys

from django.views.defaults import server_error as django_server_error

from ..middleware import SERVICE_DOWN, service_unavailable


def server_error(request):
    """The database or Redis unreachable outside a view (a middleware saving the session, say):
    503 "try again", as ServiceUnavailableMiddleware answers for views. Anything else: the 500 page.
    Django calls this while handling the exception, so sys.exc_info() is that exception."""
    if isinstance(sys.exc_info()[1], SERVICE_DOWN):
        return service_unavailable(request)
    return django_server_error(request)
