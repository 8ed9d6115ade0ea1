"""The student lab in Debian's Chromium, with a real worker, Redis and PostgreSQL: a teacher
switches the lab on; two students train "balanced" and "10x Group A"; both models finish; the
class chart shows the 10x model's gap larger; another teacher and a student of another class
cannot see either model (404 on their cards, absent from the experiment form)."""

import pytest

from classroom.models import LabModel
from classroom.services import gallery
from classroom.services.classes import create_assignment
from tests import factories
from tests.integration.pages import login as _login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)
from training.importers.synthetic import import_synthetic

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _train(page, url, assignment, username, name, mix):
    from playwright.sync_api import expect

    _login(page, url, username, "pw-student-123")
    page.goto(f"{url}/a/{assignment.public_id}/")
    page.get_by_role("link", name="Open the lab").click()
    page.select_option("#id_mix_kind", mix["kind"])
    if mix["kind"] == "k_times":
        page.select_option("#id_majority", mix["majority"])
        page.fill("#id_k", str(mix["k"]))
    expect(page.locator("#plan-message")).to_contain_text("images")
    expect(page.locator("#start-job")).to_be_enabled()
    page.fill("#id_name", name)
    page.get_by_role("button", name="Train my model").click()
    # Queued, then trained by the worker: the page follows it and shows its held-out numbers.
    expect(page.locator(".lab-model h3")).to_have_text(name)
    expect(page.locator(".lab-model table.held-out tbody tr")).to_have_count(5, timeout=120_000)
    page.get_by_role("button", name="Log out").click()


def test_two_students_train_and_the_class_chart_compares_them(browser, live_server, celery_worker, demo_models):  # noqa: F811
    from playwright.sync_api import expect

    url = live_server.url
    dataset = import_synthetic(train_per_group=70, test_per_group=10).dataset
    teacher = factories.TeacherFactory(username="ms-lab")
    classroom = factories.ClassroomFactory(teacher=teacher, name="Lab lesson")
    for name in ("even-student", "heavy-student"):
        factories.enrol(classroom, factories.StudentFactory(username=name, created_by=teacher))
    gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=2)
    assignment = create_assignment(
        classroom=classroom, title="Mix and gap", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    page = browser.new_page()
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The teacher switches the lab on from the experiment page.
    _login(page, url, "ms-lab", "pw-teacher-123")
    page.goto(f"{url}/a/{assignment.public_id}/")
    page.locator("#lab-link").click()
    page.get_by_role("link", name="Switch on the lab").click()
    page.check("#id_enabled")
    page.select_option("#id_dataset", dataset.key)
    page.check("input[name=mixes][value=k_times]")
    page.fill("#id_images_per_model", "100")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#lab-on")).to_contain_text("100 pictures per model")
    page.get_by_role("button", name="Log out").click()

    _train(page, url, assignment, "even-student", "Even", {"kind": "balanced"})
    _train(page, url, assignment, "heavy-student", "Lots of A", {"kind": "k_times", "majority": "Group A", "k": 10})

    # The class chart: the two students' points beside the experiment's models; the 10x gap is larger.
    _login(page, url, "ms-lab", "pw-teacher-123")
    page.goto(f"{url}/a/{assignment.public_id}/results/")
    rows = page.locator("#lab-points tbody tr")
    expect(rows).to_have_count(4)
    gaps = {
        m.name: float(page.locator(f"#lab-points tr[data-key='{m.job.result.key}']").get_attribute("data-gap"))
        for m in LabModel.objects.select_related("job__result")
    }
    assert gaps["Lots of A"] > gaps["Even"], gaps
    # The results page may go on the projector: students' model names are not on it.
    expect(page.locator("#lab-points")).not_to_contain_text("Lots of A")
    expect(page.locator("#lab-points")).to_contain_text("A student's model")
    assert page.evaluate("!!(window.Chart && window.Chart.getChart(document.getElementById('lab-chart')))")
    page.get_by_role("button", name="Log out").click()

    # Another school: neither model in its experiment form, and their cards are a 404.
    lab_keys = [m.job.result.key for m in LabModel.objects.select_related("job__result")]
    other = factories.ClassroomFactory(teacher=factories.TeacherFactory(username="other-school"))
    factories.enrol(other, factories.StudentFactory(username="other-student", created_by=other.teacher))
    _login(page, url, "other-school", "pw-teacher-123")
    page.goto(f"{url}/c/{other.public_id}/experiments/new/?lesson=")
    offered = page.locator("input[name=model_versions]").evaluate_all("els => els.map(e => e.parentElement.innerText)")
    assert offered and not any("Even" in o or "Lots of A" in o for o in offered), offered
    for key in lab_keys:
        assert page.goto(f"{url}/models/{key}/").status == 404
    page.get_by_role("button", name="Log out").click()
    _login(page, url, "other-student", "pw-student-123")
    for key in lab_keys:
        assert page.goto(f"{url}/models/{key}/").status == 404
    assert not errors, errors
