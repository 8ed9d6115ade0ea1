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


def submitter_required(view):
    """Students (selectors scope them to their classes), or a teacher previewing: a teacher's
    POST must say preview=1, so nothing a teacher sends by mistake becomes a test."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_teacher and request.POST.get("preview") != "1":
            raise Http404()
        return view(request, *args, **kwargs)

    return wrapper
