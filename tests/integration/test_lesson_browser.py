"""A whole lesson in Debian's Chromium: a teacher creates an experiment from "Who is in the
training data?", edits a question; a student predicts, runs three gallery tests, reflects;
the teacher's lesson page and the projector show what happened. Real worker, Redis, PostgreSQL."""

import pytest

from classroom.models import GalleryImage
from classroom.services import gallery, privacy
from tests import factories
from tests.integration.pages import login as _login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from training.importers.synthetic import import_synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_whole_lesson(browser, live_server, celery_worker, demo_models):  # noqa: F811
    from playwright.sync_api import expect

    teacher = factories.TeacherFactory(username="ms-okafor")
    classroom = factories.ClassroomFactory(teacher=teacher, name="Year 9 Citizenship")
    privacy.confirm_consent(classroom=classroom, teacher=teacher, policy="School policy")
    factories.enrol(classroom, factories.StudentFactory(username="amira", display_name="Amira"))
    dataset = import_synthetic(train_per_group=4, test_per_group=6).dataset
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=2)
    assert GalleryImage.objects.filter(classroom=classroom).count() == 10

    url = live_server.url
    page = browser.new_page()
    page.set_default_timeout(20_000)
    csp_violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and csp_violations.append(msg.text))

    # The teacher picks the lesson; everything is pre-filled; she edits one question.
    _login(page, url, "ms-okafor", "pw-teacher-123")
    page.click("text=Year 9 Citizenship")
    page.get_by_role("link", name="New experiment").click()
    page.locator(".lesson-card", has_text="Who is in the training data?").get_by_role(
        "link", name="Use this lesson"
    ).click()
    expect(page.locator("#from-lesson")).to_contain_text("Who is in the training data?")
    expect(page.locator("#casting-note")).to_contain_text("synthetic demo models")
    page.fill("#id_pq_0", "Which model will be fairer to every group?")
    # The lesson suggests releasing results when the class is ready; this class sees them at once.
    expect(page.locator("#id_results_visibility")).to_have_value("on_release")
    page.select_option("#id_results_visibility", "immediate")
    page.get_by_role("button", name="Create experiment").click()
    expect(page.locator("h1")).to_have_text("Who is in the training data?")
    experiment_url = page.url
    page.get_by_role("button", name="Log out").click()

    # The student predicts first, then tests three gallery images.
    _login(page, url, "amira", "pw-student-123")
    page.goto(experiment_url)
    expect(page.locator("#predict-first")).to_be_visible()
    expect(page.locator("#predict")).to_contain_text("Which model will be fairer to every group?")
    for fieldset in page.locator("#predict fieldset").all():
        radios = fieldset.locator("input[type=radio]")
        if radios.count():
            radios.first.check()
        else:
            fieldset.locator("textarea").fill("The one that saw mostly Group A will get Group C wrong.")
    page.get_by_role("button", name="Save my predictions").click()
    for n in range(3):
        page.goto(experiment_url)
        page.locator(".gallery-choice:not(.tried)").first.click()
        page.get_by_role("button", name="Run the models on this image").click()
        expect(page.locator("h1")).to_have_text("What the models guess")
        expect(page.locator("#tested-image")).to_be_visible()
        expect(page.locator(".prediction[data-status=done]")).to_have_count(2)
        expect(page.locator(".prediction .mark")).to_have_count(2)
        expect(page.locator(".prediction .mix").first).to_contain_text("In training, this model saw")
        expect(page.locator("#progress-line")).to_contain_text(f"{n + 1} of the 10 tests your teacher asked for")
        assert "face finder could not find" not in page.locator("main").inner_text()
    page.goto(experiment_url)
    expect(page.locator(".gallery-choice.tried")).to_have_count(3)
    expect(page.locator("#observe-table")).to_be_visible()
    page.locator("#explain textarea").first.fill("The 10x model said Group A even when it was wrong.")
    page.get_by_role("button", name="Save my reflections").click()
    expect(page.locator("#explain .section-message")).to_contain_text("Saved")
    page.get_by_role("button", name="Log out").click()

    # The teacher's lesson page: who started, predictions against what happened, the reflection.
    _login(page, url, "ms-okafor", "pw-teacher-123")
    page.goto(experiment_url)
    page.get_by_role("link", name="Lesson page").click()
    expect(page.locator("#progress")).to_contain_text("Amira")
    summary = page.locator("#predictions-vs-outcome")
    expect(summary).to_contain_text("Which model will be fairer to every group?")
    expect(summary).to_contain_text("1 predicted. Not enough tests yet")
    expect(page.locator("#reflections")).to_contain_text("The 10x model said Group A even when it was wrong.")
    assert "Amira:" not in page.locator("#reflections").inner_text()  # anonymised by default
    # The projector: three tests, so every group is under the minimum.
    page.get_by_role("link", name="Projector mode").click()
    expect(page.locator(".projector-model").first).to_contain_text("Not enough tests yet to compare groups")
    expect(page.locator(".projector-model").first).to_contain_text("Not enough tests yet (1 of 5)")
    assert "largest gap" not in page.locator("main").inner_text()
    assert not csp_violations, csp_violations
