"""The composition lab and the test gallery in Debian's Chromium, with a real worker:
the live composition chart refuses a mix that is not achievable, a job started from
the page moves its progress bar to a model card, and a student tests a gallery image.
Any console error (a refused inline script or style included) fails the test."""

import os
import time

import pytest

from classroom.services import gallery
from classroom.services.classes import create_assignment
from tests import factories
from tests.integration.pages import login as _login
from training.importers.synthetic import import_synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: run `make browser-deps`."
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _error(message) -> bool:
    """A console error, except the browser's own favicon request (this site has none)."""
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


def _page(browser):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    problems = []
    page.on("console", lambda m: _error(m) and problems.append(f"{m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def _eventually(page, expression: str, timeout: float = 20) -> None:
    """Poll a page expression (not wait_for_function: its polling needs eval, which the CSP refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"Never true: {expression}"
        page.wait_for_timeout(200)


def test_training_page_and_gallery_in_the_browser(browser, live_server, celery_worker, demo_models):
    from playwright.sync_api import expect

    url = live_server.url
    dataset = import_synthetic(train_per_group=10, test_per_group=4).dataset
    teacher = factories.TeacherFactory(username="mr-lab")
    classroom = factories.ClassroomFactory(teacher=teacher, name="Lab class")
    factories.enrol(classroom, factories.StudentFactory(username="lab-student"))
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=2)
    assignment = create_assignment(
        classroom=classroom, title="Gallery run", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    page, problems = _page(browser)

    # The teacher's training page: the live chart and its table follow the mix.
    _login(page, url, "mr-lab", "pw-teacher-123")
    page.get_by_role("link", name="Training").click()
    expect(page.locator("#composition-table tbody tr")).to_have_count(5)
    expect(page.locator("#plan-message")).to_contain_text("50 images")
    page.select_option("#id_mix_kind", "k_times")
    expect(page.locator("#id_per_group")).to_be_hidden()
    page.select_option("#id_majority", "Group C")
    page.fill("#id_k", "10")
    page.fill("#id_per_minority", "5")
    expect(page.locator("#plan-message")).to_contain_text("Not achievable")
    expect(page.locator("#start-job")).to_be_disabled()
    page.fill("#id_per_minority", "1")
    expect(page.locator("#plan-message")).not_to_contain_text("Not achievable")
    expect(page.locator("#composition-table tbody tr").nth(2)).to_contain_text("10")
    expect(page.locator("#start-job")).to_be_enabled()
    page.select_option("#id_mix_kind", "balanced")
    page.fill("#id_per_group", "6")
    page.fill("#id_test_per_group", "2")
    page.fill("#id_name", "Browser MLP")
    expect(page.locator("#plan-message")).to_contain_text("30 images")
    page.get_by_role("button", name="Start training").click()

    # The job page follows the worker to the model card.
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#job-result-link")).to_be_visible(timeout=120_000)
    expect(page.locator("#job-status")).to_have_text("Done")
    expect(page.locator("#cancel-form")).to_be_hidden()
    page.locator("#job-result-link").click()
    expect(page.locator("h1")).to_contain_text("Browser MLP")
    expect(page.locator("#synthetic-note")).to_be_visible()
    expect(page.locator("#per-group tbody tr")).to_have_count(5)
    _eventually(page, "[...document.querySelectorAll('canvas')].every(c => window.Chart && window.Chart.getChart(c))")
    page.get_by_role("button", name="Log out").click()

    # A student tests a gallery image: nothing to upload, and the true label is known.
    _login(page, url, "lab-student", "pw-student-123")
    page.goto(f"{url}/a/{assignment.public_id}/")
    expect(page.locator("#uploads-off")).to_be_visible()
    expect(page.locator(".gallery-choice img")).to_have_count(10)
    page.locator(".gallery-pick").scroll_into_view_if_needed()  # the images load lazily
    _eventually(page, "[...document.querySelectorAll('.gallery-choice img')].every(i => i.naturalWidth > 0)")
    page.locator(".gallery-choice").first.click()
    page.get_by_role("button", name="Run the models on this image").click()
    expect(page.locator("h1")).to_have_text("What the models guess")
    expect(page.locator("#true-label")).to_contain_text("labelled")
    expect(page.locator(".prediction[data-status=done]")).to_have_count(2, timeout=60_000)
    assert not problems, problems
