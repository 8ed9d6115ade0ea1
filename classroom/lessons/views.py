"""Lesson pages: the lesson library, experiments from a lesson (create, edit, close, reopen,
delete), students' predictions and reflections, the teacher's lesson page and preview."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from .. import selectors
from ..forms import ConfirmDeleteForm
from ..markup import render_markdown
from ..services import classes
from ..views.access import teacher_required
from . import catalogue, services
from . import selectors as lesson_selectors
from .forms import AssignmentForm, LessonAnswersForm
from .localize import show_in_language
from .roles import cast, follow

# --- The lesson library (teachers) ----------------------------------------------------------


@teacher_required
def lesson_list(request):
    return render(request, "classroom/lessons/list.html", {"lessons": catalogue.all_lessons()})


@teacher_required
def lesson_detail(request, slug):
    lesson = catalogue.get_lesson(slug)
    if lesson is None:
        raise Http404("No such lesson.")
    return render(request, "classroom/lessons/detail.html", _lesson_context(lesson, request.user))


def _lesson_context(lesson, user) -> dict:
    return {
        "lesson": lesson,
        "guide": [(h, render_markdown(body)) for h, body in lesson.guide_sections()],
        "background_html": render_markdown(lesson.background),
        "casting": cast(lesson.models, candidates=selectors.usable_models(user)),
    }


# --- Creating and editing experiments -----------------------------------------------------------


def _save_kwargs(form) -> dict:
    d = form.cleaned_data
    return {
        "title": d["title"],
        "instructions": d["instructions"],
        "ask_expected": d["ask_expected"],
        "opens_at": d["opens_at"],
        "due_at": d["due_at"],
        "results_visibility": d["results_visibility"],
        # The teacher's choice, always passed on (it used to be dropped, so uploads followed the gallery).
        "allow_uploads": d["allow_uploads"],
        "keep_photos_days": d["keep_photos_days"] if d["keep_photos"] else None,
        "ask_predictions": d["ask_predictions"],
        "prediction_questions": form.prediction_questions(),
        "reflection_questions": form.reflection_list(),
        "tests_goal": d["tests_goal"] or 10,
        "perception_activity": d["perception_activity"],
        "explain_answers": d["explain_answers"],
        "audits_enabled": d["audits_enabled"],
    }


@teacher_required
def create_assignment(request, public_id):
    """Step 1: choose a lesson (or blank); step 2: the pre-filled form."""
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    slug = request.POST.get("lesson", "") if request.method == "POST" else request.GET.get("lesson")
    if slug is None:
        return render(
            request,
            "classroom/lessons/choose.html",
            {"classroom": classroom, "lessons": catalogue.all_lessons()},
        )
    lesson = catalogue.get_lesson(slug) if slug else None
    if slug and lesson is None:
        messages.error(request, gettext("That lesson is not available. Choose another one."))
        return redirect("create_assignment", public_id=public_id)
    defaults = services.experiment_defaults(lesson, request.user) if lesson else None
    initial = defaults["initial"] if defaults else {"lesson": ""}
    initial.setdefault("allow_uploads", not classroom.gallery_images.exists())
    questions = defaults["prediction_questions"] if defaults else []
    form = AssignmentForm(request.POST or None, initial=initial, questions=questions, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = services.create_experiment(
                classroom=classroom,
                lesson=lesson,
                model_versions=list(form.cleaned_data["model_versions"]),
                **_save_kwargs(form),
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext('Experiment created. Try it as a student with "Preview as a student".'))
            return redirect("assignment", public_id=assignment.public_id)
    return render(
        request,
        "classroom/assignment_form.html",
        {"classroom": classroom, "form": form, "lesson": lesson, "casting": defaults and defaults["casting"]},
    )


def _edit_initial(a) -> dict:
    return {
        "lesson": a.lesson_key,
        "title": a.title,
        "instructions": a.instructions,
        "model_versions": list(a.model_versions.values_list("pk", flat=True)),
        "ask_expected": a.ask_expected,
        "allow_uploads": a.allow_uploads,
        "opens_at": a.opens_at,
        "due_at": a.due_at,
        "results_visibility": a.results_visibility,
        "keep_photos": bool(a.keep_photos_days),
        "keep_photos_days": a.keep_photos_days,
        "ask_predictions": a.ask_predictions,
        "reflection_questions": "\n".join(a.reflection_questions),
        "tests_goal": a.tests_goal,
        "perception_activity": a.perception_activity,
        "explain_answers": a.explain_answers,
        "audits_enabled": a.audits_enabled,
    }


@teacher_required
def edit_assignment(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    locked = assignment.submissions.exists()
    form = AssignmentForm(
        request.POST or None,
        initial=_edit_initial(assignment),
        questions=list(assignment.prediction_questions),
        models_locked=locked,
        user=request.user,
        current=assignment,
    )
    if request.method == "POST" and form.is_valid():
        models = list(form.cleaned_data["model_versions"])
        try:
            classes.update_assignment(
                assignment=assignment,
                model_versions=None if locked else models,
                model_roles=assignment.model_roles if locked else follow(models, assignment.model_roles),
                **_save_kwargs(form),
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Experiment saved."))
            return redirect("assignment", public_id=public_id)
    return render(
        request,
        "classroom/assignment_form.html",
        {"classroom": assignment.classroom, "form": form, "assignment": assignment, "editing": True},
    )


@teacher_required
@require_POST
def close_assignment(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    classes.close_assignment(assignment=assignment)
    messages.success(request, gettext("Experiment closed: students can no longer test images. You can reopen it."))
    return redirect("assignment", public_id=public_id)


@teacher_required
@require_POST
def reopen_assignment(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    classes.reopen_assignment(assignment=assignment)
    messages.success(request, gettext("Experiment reopened: students can test images again."))
    return redirect("assignment", public_id=public_id)


@teacher_required
def delete_assignment(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    form = ConfirmDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        classroom = assignment.classroom
        n = classes.delete_assignment(assignment=assignment, teacher=request.user)
        message = ngettext(
            "Experiment deleted, with its %(n)s test and their photos.",
            "Experiment deleted, with its %(n)s tests and their photos.",
            n,
        )
        messages.success(request, message % {"n": n})
        return redirect("classroom", public_id=classroom.public_id)
    return render(
        request,
        "classroom/confirm_delete.html",
        {
            "classroom": assignment.classroom,
            "form": form,
            "title": gettext("Delete the experiment “%(title)s”?") % {"title": assignment.title},
            "what": [
                gettext("its %(n)s test(s), every model's answers and any photo still stored")
                % {"n": assignment.submissions.count()},
                gettext("students' predictions, reflections and notes for this experiment"),
                gettext("its class results"),
            ],
            "button": gettext("Delete this experiment"),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Students' predictions and reflections ---------------------------------------------------------


def _answers(request, public_id, save, anchor):
    if request.user.is_teacher and not request.POST.get("preview"):
        raise Http404()  # role first, then method, then scope: as for the other student routes
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    assignment = selectors.assignment_for(request.user, public_id)
    answers = {int(k[1:]): v for k, v in request.POST.items() if k.startswith("q") and k[1:].isdigit() and len(k) < 5}
    try:
        save(assignment=assignment, student=request.user, answers=answers)
    except services.LessonAnswerError as exc:
        messages.error(request, str(exc), extra_tags=f"at-{anchor}")
    else:
        messages.success(request, gettext("Saved."), extra_tags=f"at-{anchor}")
    target = "preview_assignment" if request.user.is_teacher else "assignment"
    return redirect(f"{reverse(target, args=[public_id])}#{anchor}")


@login_required
def save_predictions(request, public_id):
    return _answers(request, public_id, services.save_predictions, "predict")


@login_required
def save_reflections(request, public_id):
    return _answers(request, public_id, services.save_reflections, "explain")


def answer_forms(assignment, user, progress, data=None):
    """The predict and explain forms of the student's page (also the teacher's preview)."""
    models = list(assignment.model_versions.order_by("family", "key"))
    questions = list(assignment.prediction_questions)
    predict = LessonAnswersForm(
        questions=questions,
        choices=[services.question_choices(assignment, q, models=models) for q in questions],
        initial_answers=progress.predictions,
        disabled=progress.tests > 0 and not user.is_teacher,
    )
    reflect = LessonAnswersForm(
        questions=list(assignment.reflection_questions),
        choices=[None] * len(assignment.reflection_questions),
        initial_answers=progress.reflections,
        disabled=not progress.can_reflect,
    )
    return predict, reflect


# --- The teacher's lesson page ---------------------------------------------------------------------


@teacher_required
def lesson_page(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    return render(request, "classroom/lessons/lesson_page.html", _lesson_page_context(request, assignment))


@teacher_required
def discussion_sheet(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    context = _lesson_page_context(request, assignment)
    return render(request, "classroom/lessons/discussion_sheet.html", context)


def _lesson_page_context(request, assignment) -> dict:
    show_in_language(assignment)
    lesson = catalogue.get_lesson(assignment.lesson_key)
    progress = lesson_selectors.progress(assignment)
    context = {
        "assignment": assignment,
        "classroom": assignment.classroom,
        "lesson": lesson,
        "show_names": request.GET.get("names") == "1",
        "progress": progress,
        "n_started": sum(p.started for p in progress),
        "n_predicted": sum(p.predicted for p in progress),
        "n_reflected": sum(bool(p.reflections) for p in progress),
        "summaries": lesson_selectors.prediction_summaries(assignment),
        "reflections": lesson_selectors.reflections(assignment),
        "agreement": lesson_selectors.agreement(assignment) if assignment.perception_activity else None,
    }
    if lesson:
        context.update(_lesson_context(lesson, request.user))
        context["discussion_html"] = render_markdown(lesson.guide_section("Discussion questions"))
    return context
