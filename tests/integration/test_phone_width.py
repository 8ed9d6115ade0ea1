"""No page scrolls sideways on a 390 px phone: every page a teacher and a student use in a lesson,
with data in it (a lesson experiment, answered gallery tests, the lab with a trained model), in
Debian's Chromium. Tables scroll inside their own region instead."""

from unittest import mock

import pytest

from classroom.audits import services as audits
from classroom.lab import services as lab
from classroom.lessons import catalogue
from classroom.lessons import services as lesson_services
from classroom.models import Prediction
from classroom.services import gallery
from classroom.services.submissions import submit_photo
from tests import factories
from tests.integration.pages import login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from training.importers.synthetic import import_synthetic
from training.services.jobs import run_job

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Regions that scroll sideways but neither are nor hold anything focusable (axe: scrollable-region-focusable).
UNREACHABLE = """[...document.querySelectorAll('main *')].filter(e => e.scrollWidth > e.clientWidth + 1
  && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.tabIndex < 0
  && !e.querySelector('a[href], button, input, select, textarea, [tabindex]'))
  .map(e => e.tagName + '.' + e.className)"""
# The outermost elements that stick out (for the failure message).
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
  && !(e.parentElement && e.parentElement.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 6)
  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def lesson_pages(demo_models) -> tuple[list[str], list[str]]:
    """A class with data in every page a lesson uses: (teacher's pages, student's pages)."""
    teacher = factories.TeacherFactory(username="phone-teacher")
    classroom = factories.ClassroomFactory(teacher=teacher, name="Phone class")
    student = factories.enrol(classroom, factories.StudentFactory(username="phone-student", created_by=teacher))
    dataset = import_synthetic(train_per_group=30, test_per_group=6).dataset
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=2)
    lesson = catalogue.get_lesson("who-is-in-the-training-data")
    fields = {
        **lesson_services.experiment_fields(lesson, teacher),
        "ask_predictions": False,
        "results_visibility": "immediate",
    }
    a = lesson_services.create_experiment(classroom=classroom, lesson=lesson, **fields)
    lab.configure_lab(assignment=a, enabled=True, dataset=dataset, mixes=["balanced", "k_times"], images_per_model=50)
    # Trained here, not also by a worker a previous test left running on the `training` queue: two
    # runs of one job at once would register two versions of the model.
    with mock.patch("training.services.jobs._enqueue"):
        trained = lab.start_lab_model(assignment=a, student=student, name="Mine", kind="balanced")
    run_job(trained.job_id)
    trained.refresh_from_db()
    sub = None
    for image in classroom.gallery_images.all()[:6]:
        sub = submit_photo(assignment=a, student=student, gallery_image=image)
        Prediction.objects.filter(submission=sub).update(
            status="done",
            label="Group A",
            face_found=None,
            probabilities={g: 0.2 for g in a.label_set.labels},
            saliency={"method": "occlusion", "grid": [[0.1] * 8] * 8, "params": {}},
        )
    card = trained.job.result.key
    audits.set_enabled(assignment=a, enabled=True)
    audit = audits.create_audit(assignment=a, user=teacher, gallery_counts={"Group A": 2, "Group B": 1})
    for family in ("mlp", "vgg"):
        audits.answer_queue(audit.pk, family)
    teacher_pages = [
        "/",
        f"/c/{classroom.public_id}/",
        "/lessons/",
        f"/lessons/{lesson.slug}/",
        f"/c/{classroom.public_id}/experiments/new/",
        f"/c/{classroom.public_id}/experiments/new/?lesson={lesson.slug}",
        f"/a/{a.public_id}/",
        f"/a/{a.public_id}/edit/",
        f"/a/{a.public_id}/lesson/",
        f"/a/{a.public_id}/lesson/sheet/",
        f"/a/{a.public_id}/results/",
        f"/a/{a.public_id}/projector/",
        f"/a/{a.public_id}/preview/",
        f"/a/{a.public_id}/lab/",
        f"/a/{a.public_id}/lab/settings/",
        f"/c/{classroom.public_id}/gallery/",
        f"/models/{card}/",
        f"/models/{demo_models[0].key}/",
        "/training/",
        "/privacy/",
        f"/a/{a.public_id}/audits/",
        f"/audits/{audit.public_id}/",
    ]
    student_pages = [
        "/",
        f"/c/{classroom.public_id}/",
        f"/a/{a.public_id}/",
        f"/s/{sub.public_id}/",
        f"/a/{a.public_id}/results/",
        f"/c/{classroom.public_id}/results/",
        f"/a/{a.public_id}/lab/",
        f"/models/{card}/",
        "/join/",
        "/account/password/",
        f"/a/{a.public_id}/audits/",
        f"/audits/{audit.public_id}/",
    ]
    return teacher_pages, student_pages


# Routes that answer with something other than a page (files, JSON, redirects after a POST).
NOT_PAGES = {
    "javascript-catalog",
    "set_language",
    "logout",
    "api-schema",
    "submission_photo",
    "gallery_image",
    "answers_csv",
    "export_csv",
    "evaluate_model",
}


def every_page(demo_models) -> dict[str, list[str]]:
    """Every page of the site, for each role that may see it: {"anonymous"|"phone-teacher"|"phone-student": paths}.

    The lesson's pages with data, plus accounts, confirmations, the operator's page and the
    public pages. test_every_page_route_is_checked fails when a new page route is missing here.
    """
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from classroom.models import Assignment, User
    from training.models import TrainingJob

    teacher_pages, student_pages = lesson_pages(demo_models)
    teacher = User.objects.get(username="phone-teacher")
    teacher.is_staff = True  # an operator too: the Models and data page
    teacher.save(update_fields=["is_staff"])
    student = User.objects.get(username="phone-student")
    a = Assignment.objects.get(classroom__teacher=teacher)
    c, job = a.classroom, TrainingJob.objects.create(kind=TrainingJob.Kind.MLP, created_by=teacher)
    uid, token = urlsafe_base64_encode(force_bytes(teacher.pk)), default_token_generator.make_token(teacher)
    teacher_pages += [
        f"/c/{c.public_id}/logins/",
        f"/c/{c.public_id}/students/{student.public_id}/delete/",
        f"/c/{c.public_id}/delete/",
        f"/a/{a.public_id}/delete/",
        "/training/data/",
        f"/training/jobs/{job.public_id}/",
        "/account/password/",
        "/account/password/done/",
        *[f"/lessons/{lesson.slug}/" for lesson in catalogue.all_lessons()],
    ]
    public = [
        "/login/",
        "/signup/",
        "/password-reset/",
        "/password-reset/sent/",
        f"/reset/{uid}/{token}/",
        "/reset/done/",
        "/privacy/",
        "/api/docs/",
    ]
    return {"anonymous": public, "phone-teacher": list(dict.fromkeys(teacher_pages)), "phone-student": student_pages}


PASSWORDS = {"phone-teacher": "pw-teacher-123", "phone-student": "pw-student-123"}


def visit_every_page(browser, url: str, pages: dict, viewport: dict, check, locale="en-US") -> int:  # noqa: F811
    """Open every page as its role at `viewport`, the browser asking for `locale`, and call
    check(page, role, path); returns the count."""
    n = 0
    for role, paths in pages.items():
        context = browser.new_context(viewport=viewport, locale=locale)
        page = context.new_page()
        if role != "anonymous":
            login(page, url, role, PASSWORDS[role])
        for path in paths:
            response = page.goto(url + path)
            assert response.status == 200, (role, path, response.status)
            page.wait_for_timeout(150)  # charts lay themselves out
            check(page, role, path)
            n += 1
        context.close()
    return n


def test_every_page_route_is_checked(demo_models):
    """Every route that shows a page is in every_page(), so the axe and width checks reach it."""
    from django.urls import URLResolver, get_resolver, resolve

    from tests.test_access_matrix import ROUTES

    def names(resolver):
        for p in resolver.url_patterns:
            yield from names(p) if isinstance(p, URLResolver) else [p.name]

    pages = {r for r in names(get_resolver()) if r and not ROUTES[r].api and r not in NOT_PAGES}
    pages -= {r for r in pages if ROUTES[r].methods == ("POST",)}
    pages -= {r for r in pages if r.endswith(("_status", "_json", "_composition")) or r == "training_composition"}
    visited = {resolve(path.split("?")[0]).url_name for paths in every_page(demo_models).values() for path in paths}
    assert not pages - visited, f"pages no browser check visits: {sorted(pages - visited)}"


def test_no_page_is_wider_than_a_phone(browser, live_server, demo_models):  # noqa: F811
    widths = {}

    def measure(page, role, path):
        path = f"{path} ({page.evaluate('document.documentElement.lang')})"
        widths[f"{role} {path}"] = page.evaluate("document.documentElement.scrollWidth")
        # A region that scrolls sideways can be reached with the keyboard (scroll-regions.js).
        unreachable = page.evaluate(UNREACHABLE)
        assert not unreachable, (role, path, unreachable)
        if widths[f"{role} {path}"] > PHONE["width"]:
            print(path, page.evaluate(WIDEST))

    pages = every_page(demo_models)
    for locale in ("en-US", "es-ES"):  # Spanish words are longer
        visit_every_page(browser, live_server.url, pages, PHONE, measure, locale=locale)
    too_wide = {p: w for p, w in widths.items() if w > PHONE["width"]}
    print(f"{len(widths)} pages checked at {PHONE['width']} px")
    assert not too_wide, "\n".join(f"{p}: {w}" for p, w in too_wide.items())
