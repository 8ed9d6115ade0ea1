"""Audits in Debian's Chromium with real workers: the teacher builds a gallery collection of a
chosen make-up, follows the audit to its report; a student uploads a zip. Any console error
(a refused inline script or style included) fails the test. With ETHITECH_SCREENSHOTS set to
a folder, the pages are also saved there at desktop and phone width."""

import io
import os
import zipfile

import pytest

from classroom.services import gallery
from classroom.services.classes import create_assignment
from tests import factories
from tests.classroom.audits.helpers import face_png
from tests.integration.pages import login
from tests.integration.test_lab_browser import _page, browser  # noqa: F401  (the Chromium fixture)
from training.importers.synthetic import import_synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("ETHITECH_SCREENSHOTS")
    if not folder:
        return
    for width, suffix in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=os.path.join(folder, f"{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_teacher_and_a_student_audit_collections(browser, live_server, celery_worker, sturdier_demo_models):  # noqa: F811
    from playwright.sync_api import expect

    url = live_server.url
    teacher = factories.TeacherFactory(username="ms-audit")
    classroom = factories.ClassroomFactory(teacher=teacher, name="Audit class")
    factories.enrol(classroom, factories.StudentFactory(username="audit-student", created_by=teacher))
    dataset = import_synthetic(train_per_group=2, test_per_group=30).dataset
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=30)
    assignment = create_assignment(
        classroom=classroom,
        title="Who is in it?",
        instructions="",
        model_versions=list(sturdier_demo_models),
        ask_expected=False,
    )
    page, problems = _page(browser)

    login(page, url, "ms-audit", "pw-teacher-123")
    page.goto(f"{url}/a/{assignment.public_id}/")
    page.locator("#audits-link").click()
    expect(page.locator("h1")).to_have_text("Audit a collection")
    expect(page.locator("#id_files")).to_be_visible()
    page.get_by_label("Images from the class gallery").check()
    expect(page.locator("#id_files")).to_be_hidden()  # the form shows the chosen source only
    page.fill("#id_count_0", "30")
    for i in range(1, 5):
        page.fill(f"#id_count_{i}", "5")
    page.fill("#id_title", "Mostly Group A")
    page.get_by_label("Students can audit collections of their own photos").check()
    page.locator("#audit-settings button").click()
    expect(page.locator(".messages")).to_contain_text("Students can now audit")
    page.get_by_label("Images from the class gallery").check()
    page.fill("#id_count_0", "30")
    for i in range(1, 5):
        page.fill(f"#id_count_{i}", "5")
    page.fill("#id_title", "Mostly Group A")
    page.get_by_role("button", name="Start the audit").click()
    expect(page.locator("h1")).to_have_text("Mostly Group A")
    expect(page.locator(".audit-model")).to_have_count(2, timeout=120_000)  # the page reloads when done
    expect(page.locator("#audit-status")).to_have_text("Done")
    expect(page.locator(".audit-model").first.locator("td.truth").first).to_have_text("60%")
    expect(page.locator(".audit-summary")).to_have_count(2)
    _shot(page, "audit-report-teacher")
    page.get_by_role("button", name="Log out").click()

    login(page, url, "audit-student", "pw-student-123")
    page.goto(f"{url}/a/{assignment.public_id}/")
    page.locator("#audit-invite a").click()
    expect(page.get_by_label("Images from the class gallery")).to_have_count(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for i in range(12):
            archive.writestr(f"photos/{i}.png", face_png(i % 5, 100 + i))
        archive.writestr("photos/readme.txt", "not a photo")
    page.set_input_files(
        "#id_files", files=[{"name": "photos.zip", "mimeType": "application/zip", "buffer": buf.getvalue()}]
    )
    _shot(page, "audit-form-student")
    page.get_by_role("button", name="Start the audit").click()
    expect(page.locator(".audit-model")).to_have_count(2, timeout=120_000)
    expect(page.locator("#audit-skipped")).to_contain_text("readme.txt")
    expect(page.locator("#audit-images")).to_have_count(0)
    _shot(page, "audit-report-student")
    assert not problems, problems
