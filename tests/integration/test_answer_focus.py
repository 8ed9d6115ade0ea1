"""Keyboard and screen-reader users: the first model answer to arrive takes the focus (the live
regions announce the rest), unless the person is busy with another control, in Debian's Chromium."""

import pytest

from classroom.models import Prediction
from classroom.services import gallery
from classroom.services.classes import create_assignment
from classroom.services.submissions import submit_photo
from tests import factories
from tests.integration.pages import login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from training.importers.synthetic import import_synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FOCUSED_MODEL = "document.activeElement.closest('[data-model]')?.dataset.model || document.activeElement.tagName"


def _waiting_submission(demo_models):
    teacher = factories.TeacherFactory(username="focus-teacher")
    classroom = factories.ClassroomFactory(teacher=teacher)
    student = factories.enrol(classroom, factories.StudentFactory(username="focus-student", created_by=teacher))
    dataset = import_synthetic(train_per_group=4, test_per_group=2).dataset
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=1)
    a = create_assignment(
        classroom=classroom, title="Focus", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    subs = [submit_photo(assignment=a, student=student, gallery_image=g) for g in classroom.gallery_images.all()[:2]]
    return subs  # no worker runs: their answers wait until the test stores them


def _answer(submission, model):
    labels = submission.assignment.label_set.labels
    Prediction.objects.filter(submission=submission, model_version=model).update(
        status="done", label=labels[0], probabilities={g: 1 / len(labels) for g in labels}
    )


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy-typing-a-note"])
def test_the_first_answer_takes_the_focus_unless_the_student_is_busy(browser, live_server, demo_models, busy):  # noqa: F811
    sub, _ = _waiting_submission(demo_models)
    page = browser.new_page()
    login(page, live_server.url, "focus-student", "pw-student-123")
    page.goto(f"{live_server.url}/s/{sub.public_id}/")
    if busy:
        page.focus("textarea")  # writing a note about the photo
    first, second = demo_models[0], demo_models[1]
    _answer(sub, first)
    page.wait_for_selector(f"[data-model='{first.key}'][data-status='done']", timeout=15_000)
    expected = "TEXTAREA" if busy else first.key
    assert page.evaluate(FOCUSED_MODEL) == expected
    _answer(sub, second)  # the next answer is announced, and leaves the focus where it is
    page.wait_for_selector(f"[data-model='{second.key}'][data-status='done']", timeout=15_000)
    assert page.evaluate(FOCUSED_MODEL) == expected
    page.close()
