"""The class scenario in Debian's Chromium, driven by Playwright, against a live
server, a real Celery worker, Redis and PostgreSQL."""

import os
import re

import pytest
from PIL import Image

from training import synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # live server makes happen in its own thread, so this is safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: run `make browser-deps`."
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def test_class_scenario(browser, live_server, celery_worker, demo_models, tmp_path):
    from playwright.sync_api import expect

    url = live_server.url
    page = browser.new_page()
    page.set_default_timeout(20_000)
    # The Content-Security-Policy allows no inline script or style: the browser would report any it blocked.
    csp_violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and csp_violations.append(msg.text))

    # A teacher signs up and creates a class.
    page.goto(f"{url}/signup/")
    page.fill("#id_username", "ms-rivera")
    page.fill("#id_email", "rivera@school.example")
    page.fill("#id_password1", "a-long-teacher-passphrase")
    page.fill("#id_password2", "a-long-teacher-passphrase")
    page.click("button[type=submit]")
    page.fill("#id_name", "Year 8 Computing")
    page.get_by_role("button", name="Create class").click()
    expect(page.locator("h1")).to_have_text("Year 8 Computing")
    class_url = page.url

    # ...confirms the school's consent policy, without which students cannot submit.
    page.check("#id_confirm")
    page.fill("#id_policy", "Greenfield School photo policy 2026")
    page.get_by_role("button", name="Confirm consent").click()
    expect(page.locator("#consent")).to_contain_text("You confirmed the school's consent policy")

    # ...adds two students and gets their login cards.
    page.fill("#id_count", "2")
    page.get_by_role("button", name="Add students").click()
    expect(page.locator(".login-card")).to_have_count(2)
    username = page.locator(".cred-username").first.inner_text()
    password = page.locator(".cred-password").first.inner_text()

    # ...creates an experiment comparing the two demo models.
    page.goto(class_url)
    page.get_by_role("link", name="New experiment").click()
    page.get_by_role("link", name="Start blank").click()
    page.fill("#id_title", "Does the mix matter?")
    page.fill("#id_instructions", "Try **both** models.")
    for box in page.locator("input[name=model_versions]").all():
        box.check()
    page.get_by_role("button", name="Create experiment").click()
    expect(page.locator("h1")).to_have_text("Does the mix matter?")
    page.get_by_role("button", name="Log out").click()

    # A student logs in, submits a photo and sees both answers without reloading.
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.click("text=Year 8 Computing")
    page.click("text=Does the mix matter?")
    photo = tmp_path / "stock-face.png"
    Image.fromarray(synthetic.generate_image(3, 2, split="gallery")).save(photo)
    page.set_input_files("#id_photo", str(photo))
    page.select_option("#id_expected_label", "Group D")
    page.fill("#id_note", "Trying a Group D drawing")
    page.get_by_role("button", name="Run the models").click()
    expect(page.locator("h1")).to_have_text("What the models guess")
    expect(page.locator(".prediction[data-status=done]")).to_have_count(2)
    expect(page.locator(".prediction .label")).to_have_count(2)
    expect(page.locator(".prediction").first.locator("progress")).to_have_count(5)
    page.click("text=Does the mix matter?")
    expect(page.locator("text=Trying a Group D drawing")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    # The teacher sees the class results.
    page.goto(f"{url}/login/")
    page.fill("#id_username", "ms-rivera")
    page.fill("#id_password", "a-long-teacher-passphrase")
    page.click("button[type=submit]")
    page.click("text=Year 8 Computing")
    page.click("text=Does the mix matter?")
    page.get_by_role("link", name="Class results").click()
    expect(page.locator(".model-results")).to_have_count(2)
    text = page.locator("main").inner_text()
    assert re.search(r"1 answered", text)
    assert "Group D" in text and username not in text
    assert not csp_violations, csp_violations
