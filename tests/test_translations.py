"""Every user-facing string is translatable, and every language in settings.LANGUAGES
has all of them translated (nothing missing, nothing fuzzy)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests import i18n_scan

ROOT = i18n_scan.ROOT
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", i18n_scan.templates(), ids=_rel)
def test_template_text_is_marked_for_translation(path):
    found = i18n_scan.untranslated_template_text(path)
    assert not found, f"{_rel(path)} has text outside {{% translate %}}:\n" + "\n".join(found)


@pytest.mark.parametrize("path", i18n_scan.scripts(), ids=_rel)
def test_script_text_goes_through_gettext(path):
    found = i18n_scan.untranslated_script_text(path)
    assert not found, f"{_rel(path)} has sentences not passed to gettext():\n" + "\n".join(found)


@pytest.mark.parametrize("path", i18n_scan.python_modules(), ids=_rel)
def test_python_messages_and_labels_are_marked(path):
    found = i18n_scan.untranslated_python_text(path)
    assert not found, f"{_rel(path)} has user-facing text not wrapped in gettext:\n" + "\n".join(found)


def test_the_scans_find_unmarked_text(tmp_path):
    """The scans themselves can fail: each finds a planted sentence and passes its marked twin."""
    page = tmp_path / "page.html"
    page.write_text('{% load i18n %}<p>Pick a face</p><p>{% translate "Pick a face" %}</p><img alt="A face">')
    found = [f.split(": ", 1)[1] for f in i18n_scan.untranslated_template_text(page)]
    assert found == ["alt='A face'", "'Pick a face'"]
    page.write_text('{% load i18n %}<p>{% translate "Pick a face" %}</p><img alt="{% translate "A face" %}">')
    assert i18n_scan.untranslated_template_text(page) == []

    script = tmp_path / "page.js"
    script.write_text('el.textContent = "Waiting for the models";\nel.title = gettext("Waiting for the models");\n')
    assert i18n_scan.untranslated_script_text(script) == ["1: 'Waiting for the models'"]

    module = tmp_path / "views.py"
    module.write_text('messages.success(request, "Class created.")\nmessages.success(request, _("Class created."))\n')
    assert i18n_scan.untranslated_python_text(module) == ["1: 'Class created.'"]


def _makemessages(copy: Path) -> None:
    """makemessages on a copy of the project, so the check never rewrites the real catalogues."""
    ignore = ["--ignore", ".venv", "--ignore", "var", "--ignore", "tests", "--ignore", "bench"]
    for domain, extra in (("django", []), ("djangojs", ["--ignore", "static/vendor"])):
        args = ["makemessages", "-d", domain, "--no-obsolete", *ignore, *extra]
        for code in TRANSLATED:
            args += ["-l", code]
        subprocess.run([sys.executable, "manage.py", *args], cwd=copy, check=True, capture_output=True)


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory):
    copy = tmp_path_factory.mktemp("project")
    skip = shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "*.mo", "node_modules", "test-artifacts")
    for item in ROOT.iterdir():
        if item.name in {".venv", "var", ".git", "test-artifacts"}:
            continue
        if item.is_dir():
            shutil.copytree(item, copy / item.name, ignore=skip)
        else:
            shutil.copy2(item, copy / item.name)
    _makemessages(copy)
    return copy


def _entries(po: Path, flag: str) -> list[str]:
    out = subprocess.run(["msgattrib", flag, "--no-wrap", str(po)], capture_output=True, text=True, check=True).stdout
    return [line[6:] for line in out.splitlines() if line.startswith('msgid "') and line != 'msgid ""']


@pytest.mark.parametrize("code", TRANSLATED)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated(fresh_catalogues, code, domain):
    """makemessages finds nothing new, and nothing is left untranslated or fuzzy."""
    po = fresh_catalogues / "locale" / code / "LC_MESSAGES" / f"{domain}.po"
    assert po.exists(), f"locale/{code}/LC_MESSAGES/{domain}.po is missing: run makemessages (docs/translating.md)"
    untranslated = _entries(po, "--untranslated")
    fuzzy = _entries(po, "--only-fuzzy")
    assert not untranslated, f"{len(untranslated)} messages lack a {code} translation:\n" + "\n".join(untranslated[:40])
    assert not fuzzy, f"{len(fuzzy)} {code} translations are marked fuzzy (check, then remove the flag):\n" + "\n".join(
        fuzzy[:40]
    )
