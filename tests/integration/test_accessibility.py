"""axe-core (bundled by axe-playwright-python; nothing is downloaded) on every page of a lesson,
as the teacher and as a student, at desktop width and on a 390 px phone, with data in them
(lesson experiment, answered gallery tests, the lab, an audit). Fails on any serious or
critical violation and lists them; prints how many pages were checked."""

import pytest

from tests.integration.pages import login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.integration.test_phone_width import PHONE, lesson_pages

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
BLOCKING = ("serious", "critical")


def test_no_serious_or_critical_axe_violation(browser, live_server, demo_models):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    teacher_pages, student_pages = lesson_pages(demo_models)
    problems, checked = [], 0
    for size in (DESKTOP, PHONE):
        for username, password, pages in (
            ("phone-teacher", "pw-teacher-123", teacher_pages),
            ("phone-student", "pw-student-123", student_pages),
        ):
            page = browser.new_page(viewport=size)
            login(page, live_server.url, username, password)
            for path in pages:
                assert page.goto(live_server.url + path).status == 200, path
                page.wait_for_timeout(150)  # charts lay themselves out
                result = axe.run(page)
                checked += 1
                for v in result.response["violations"]:
                    if v["impact"] in BLOCKING:
                        where = "; ".join(n["target"][0] for n in v["nodes"][:3])
                        problems.append(f"{size['width']}px {username} {path}: {v['id']} ({v['impact']}) {where}")
            page.close()
    # Keyboard: the first Tab reaches a visible skip link, which moves the focus to the content.
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url, "phone-student", "pw-student-123")
    page.goto(live_server.url + student_pages[2])
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.textContent, document.activeElement.getBoundingClientRect().top]")
    assert focused[0] == "Skip to the content" and focused[1] >= 0, focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()
    print(f"axe: {checked} pages checked (2 roles, 2 widths), {len(problems)} serious or critical violations")
    assert not problems, "\n".join(problems)
