"""Role checks for views. A wrong role gets 404, like a wrong id."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def teacher_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_teacher:
            raise Http404()
        return view(request, *args, **kwargs)

    return wrapper


def student_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_student:
            raise Http404()
        return view(request, *args, **kwargs)

    return wrapper
