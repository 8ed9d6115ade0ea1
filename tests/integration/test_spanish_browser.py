"""In Spanish, the student's path shows no English: login, class, experiment (with the lesson's
steps and questions), answer, results, in Debian's Chromium. The switcher's choice is kept.

"English" here means any English message of the catalogue (three words or more, so a group or
model name never counts) found in the page's text or in what a screen reader reads."""

import re
import subprocess
from pathlib import Path

import pytest

from classroom.lessons import catalogue
from tests.integration.pages import login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.integration.test_phone_width import lesson_pages

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
# What a screen reader reads besides the text.
READ_ALOUD = """[...document.querySelectorAll('[aria-label], [title], img[alt], [placeholder]')]
  .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('alt'),
             e.getAttribute('placeholder')].filter(Boolean).join(' | ')).join('\\n')"""


def _unquote(s: str) -> str:
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in s else s


def english_messages() -> set[str]:
    """The source sentences (or their longest fixed part around placeholders) whose Spanish differs."""
    found = set()
    for po in LOCALE.glob("*.po"):
        text = subprocess.run(["msgcat", "--no-wrap", str(po)], capture_output=True, text=True, check=True).stdout
        for block in text.split("\n\n"):
            ids = re.findall(r'^msgid(?:_plural)? "(.*)"$', block, re.M)
            strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', block, re.M)
            for msgid in ids:
                if not msgid or msgid in strs:
                    continue
                part = max(PLACEHOLDER.split(_unquote(msgid)), key=len)
                part = re.sub(r"<[^>]+>", " ", part).strip(" .,:;")
                for piece in re.split(r"\s{2,}", part):
                    if len(piece.split()) >= 3:
                        found.add(" ".join(piece.split()))
    return found


def english_in(page, messages: set[str]) -> list[str]:
    shown = " ".join((page.inner_text("body") + "\n" + page.evaluate(READ_ALOUD)).split())
    return sorted(m for m in messages if m in shown)


def test_the_student_path_in_spanish_has_no_english(browser, live_server, demo_models):  # noqa: F811
    messages = english_messages()
    assert len(messages) > 200, "the Spanish catalogue looks empty: run makemessages (docs/translating.md)"
    _, student_pages = lesson_pages(demo_models)
    url = live_server.url
    context = browser.new_context(locale="es-ES")  # the browser asks for Spanish (Accept-Language)
    page = context.new_page()
    page.goto(f"{url}/login/")
    assert page.get_attribute("html", "lang") == "es"
    leftovers = {"/login/": english_in(page, messages)}
    login(page, url, "phone-student", "pw-student-123")
    for path in student_pages:
        response = page.goto(url + path)
        assert response.status == 200, (path, response.status)
        page.wait_for_timeout(150)  # scripts fill in their text
        leftovers[path] = english_in(page, messages)
    # The lesson's own words: the experiment page shows its Spanish title and steps, not the English.
    english = catalogue.get_lesson("who-is-in-the-training-data", "en")
    spanish = english.in_language("es")
    assert spanish.language == "es", "the lesson has no Spanish version"
    page.goto(url + student_pages[2])
    body = page.inner_text("body")
    first_sentence = english.student_steps.split(".")[0].replace("**", "")
    assert first_sentence not in body and spanish.student_steps.split(".")[0].replace("**", "") in body
    context.close()
    found = {path: f for path, f in leftovers.items() if f}
    print(f"{len(leftovers)} pages checked in Spanish against {len(messages)} English messages")
    assert not found, "English on the Spanish student path:\n" + "\n".join(f"{p}: {f}" for p, f in found.items())


def test_the_language_switcher_remembers_the_choice(browser, live_server, demo_models):  # noqa: F811
    _, student_pages = lesson_pages(demo_models)
    url = live_server.url
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    login(page, url, "phone-student", "pw-student-123")
    page.goto(url + student_pages[2])
    assert page.get_attribute("html", "lang") == "en"
    page.select_option("#language-choice", "es")
    page.click("form.language button")
    page.wait_for_load_state()
    assert page.url == url + student_pages[2]  # back on the same page
    assert page.get_attribute("html", "lang") == "es"
    page.goto(url + student_pages[0])  # and on the next one, though the browser still asks for English
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("#language-choice").input_value() == "es"
    context.close()
