"""What the model looked at, in Debian's Chromium with a real worker: a student runs gallery tests
and sees one map per model over the tested image; the teacher's results page shows each model's
mean map per group. Any page error fails the test."""

import pytest

from classroom.models import GalleryImage
from classroom.services import gallery
from classroom.services.classes import create_assignment
from tests import factories
from tests.integration.pages import login as _login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from training.importers.synthetic import import_synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def shoot(page, name: str) -> None:
    """With ETHITECH_SCREENSHOTS=<folder>: the page at desktop and phone width, for a person to look at."""
    import os

    folder = os.environ.get("ETHITECH_SCREENSHOTS")
    if not folder:
        return
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_student_sees_a_map_per_model_and_the_teacher_sees_maps_per_group(
    browser,  # noqa: F811
    live_server,
    celery_worker,
    demo_models,
    settings,  # noqa: F811
):
    from playwright.sync_api import expect

    settings.MIN_TESTS_PER_GROUP = 2  # two Group A images give a mean map
    url = live_server.url
    dataset = import_synthetic(train_per_group=4, test_per_group=4).dataset
    teacher = factories.TeacherFactory(username="mr-maps")
    classroom = factories.ClassroomFactory(teacher=teacher, name="Maps class")
    factories.enrol(classroom, factories.StudentFactory(username="map-student", created_by=teacher))
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=2)
    assignment = create_assignment(
        classroom=classroom,
        title="Where it looks",
        instructions="",
        model_versions=list(demo_models),
        ask_expected=False,
    )
    page = browser.new_page()
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    _login(page, url, "map-student", "pw-student-123")
    for image in GalleryImage.objects.filter(classroom=classroom, label="Group A"):
        page.goto(f"{url}/a/{assignment.public_id}/")
        page.locator(f".gallery-choice input[value='{image.public_id}']").check(force=True)
        page.get_by_role("button", name="Run the models on this image").click()
        expect(page.locator(".prediction[data-status=done]")).to_have_count(2, timeout=60_000)
        maps = page.locator(".prediction figure.saliency:not([hidden])")
        expect(maps).to_have_count(2)  # one per model
        assert page.locator(".prediction figure.saliency canvas").first.evaluate("c => c.width") >= 4
        base = page.locator(".prediction figure.saliency img").first.get_attribute("src")
        assert base == f"/g/{image.public_id}/image.jpg"  # drawn over the tested gallery image
        expect(page.locator("#how-to-read-maps")).to_contain_text("It does not show what the model")
        shoot(page, "answer")
    page.get_by_role("button", name="Log out").click()

    _login(page, url, "mr-maps", "pw-teacher-123")
    page.goto(f"{url}/a/{assignment.public_id}/results/")
    expect(page.locator("#group-maps figure.saliency:not([hidden])")).to_have_count(2)  # Group A, each model
    expect(page.locator("#group-maps")).to_contain_text("Group A (2 images)")
    expect(page.locator("#group-maps")).to_contain_text("Group B: not enough tests yet (0 of 2)")
    shoot(page, "results")
    assert not errors, errors
