"""axe-core (bundled by axe-playwright-python; nothing is downloaded) on every page of the site
(test_phone_width.every_page: each page route, as each role that may see it, anonymous too), at
desktop width and on a 390 px phone, in English and in Spanish, with data in them (lesson
experiment, answered gallery tests, the lab, an audit). Fails on any serious or critical
violation and lists them; prints how many pages were checked."""

import pytest

from tests.integration.pages import login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.integration.test_phone_width import PHONE, every_page, visit_every_page

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
BLOCKING = ("serious", "critical")


def test_no_serious_or_critical_axe_violation(browser, live_server, demo_models):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = every_page(demo_models)
    problems, checked = [], 0

    def run_axe(page, role, path):
        for v in axe.run(page).response["violations"]:
            if v["impact"] in BLOCKING:
                where = "; ".join(n["target"][0] for n in v["nodes"][:3])
                problems.append(f"{page.viewport_size['width']}px {role} {path}: {v['id']} ({v['impact']}) {where}")

    for size in (DESKTOP, PHONE):
        checked += visit_every_page(browser, live_server.url, pages, size, run_axe)
    # Spanish words are longer: the phone-width pages once more in Spanish.
    checked += visit_every_page(browser, live_server.url, pages, PHONE, run_axe, locale="es-ES")
    roles = len(pages)
    # Keyboard: the first Tab reaches a visible skip link, which moves the focus to the content.
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url, "phone-student", "pw-student-123")
    page.goto(live_server.url + pages["phone-student"][2])
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.textContent, document.activeElement.getBoundingClientRect().top]")
    assert focused[0] == "Skip to the content" and focused[1] >= 0, focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()
    print(f"axe: {checked} pages checked ({roles} roles, 2 widths, 2 languages), {len(problems)} serious or critical")
    assert not problems, "\n".join(problems)
