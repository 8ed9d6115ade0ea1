"""Results pages in Debian's Chromium under a strict Content-Security-Policy:
the charts draw, nothing is refused, and projector mode follows new tests live."""

import os
import random

import pytest

from classroom.models import Prediction, Submission
from classroom.services.classes import create_assignment
from tests import factories
from tests.integration.pages import login as _login

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# What a strict policy allows: only this site's own files; no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread; not after it
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: run `make browser-deps`."
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def class_with_results(demo_models):
    rng = random.Random(3)
    teacher = factories.TeacherFactory(username="ms-okafor")
    classroom = factories.ClassroomFactory(teacher=teacher)
    students = [factories.enrol(classroom, factories.StudentFactory()) for _ in range(5)]
    assignment = create_assignment(
        classroom=classroom, title="Mix matters", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    labels = assignment.label_set.labels
    for i in range(40):
        sub = Submission.objects.create(
            assignment=assignment, student=students[i % 5], expected_label=rng.choice(labels)
        )
        for mv in demo_models:
            Prediction.objects.create(
                submission=sub, model_version=mv, status="done", label=rng.choice(labels), face_found=True
            )
    return assignment, students


def _strict_page(browser, url):
    page = browser.new_page()
    page.set_default_timeout(20_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    def add_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    page.route(f"{url}/**", add_csp)
    return page, problems


def test_results_charts_and_live_projector_under_strict_csp(browser, live_server, class_with_results):
    from playwright.sync_api import expect

    assignment, students = class_with_results
    url = live_server.url
    page, problems = _strict_page(browser, url)
    _login(page, url, "ms-okafor", "pw-teacher-123")

    page.goto(f"{url}/a/{assignment.public_id}/results/")
    expect(page.locator(".model-results")).to_have_count(2)
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
    inline = (
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.append(s); return window.x }"
    )
    assert page.evaluate(inline) is None, "the strict policy is in force (an inline script is refused)"
    problems.clear()  # that refusal was ours
    kinds = page.evaluate("() => [...document.querySelectorAll('canvas[data-chart]')].map(c => c.dataset.chart)")
    assert {"accuracy", "distribution", "trend", "pair"} <= set(kinds)
    text = page.locator("main").inner_text()
    assert all(s.username not in text and s.display_name not in text for s in students)

    page.goto(f"{url}/a/{assignment.public_id}/projector/")
    tests = page.locator('[data-field="tests"]').first
    expect(tests).to_have_text("40")
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
    # A new test arrives: the projector shows it without a reload.
    sub = Submission.objects.create(assignment=assignment, student=students[0], expected_label="Group A")
    for mv in assignment.model_versions.all():
        Prediction.objects.create(submission=sub, model_version=mv, status="done", label="Group A", face_found=True)
    expect(tests).to_have_text("41", timeout=15_000)
    expect(page.locator("#projector-status")).to_contain_text("Updated")

    page.goto(f"{url}/c/{assignment.classroom.public_id}/results/")
    expect(page.locator(".model-results")).to_have_count(2)
    page.goto(f"{url}/api/docs/")
    expect(page.locator("h1")).to_contain_text("EthiTech classroom API")
    assert not [p for p in problems if "favicon" not in p], problems
