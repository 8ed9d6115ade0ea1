from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from .. import selectors
from ..forms import ClassroomForm, JoinForm, TeacherSignupForm
from ..services import accounts, classes


@require_http_methods(["GET", "POST"])
def signup(request):
    form = TeacherSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = accounts.signup_teacher(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Welcome! Create your first class below."))
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def home(request):
    context = {"classes": selectors.classes_for(request.user)}
    if request.user.is_teacher:
        context["form"] = ClassroomForm()
    else:
        context["join_form"] = JoinForm()
    return render(request, "classroom/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def join(request):
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            classroom = classes.join_classroom(student=request.user, code=form.cleaned_data["code"])
        except classes.JoinError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, gettext("You joined %(name)s.") % {"name": classroom.name})
            return redirect("classroom", public_id=classroom.public_id)
    return render(request, "classroom/join.html", {"form": form})
