import csv
import io
import random
import re
from collections import Counter

import pytest

from classroom.models import Assignment, Prediction, Submission
from classroom.results import class_results
from tests import factories


@pytest.fixture
def random_results(classroom, assignment, demo_models):
    """Stored predictions with random labels, written directly (no model needed)."""
    rng = random.Random(7)
    labels = assignment.label_set.labels
    students = [factories.enrol(classroom, factories.StudentFactory()) for _ in range(4)]
    for i in range(60):
        sub = Submission.objects.create(
            assignment=assignment, student=students[i % 4], expected_label=rng.choice(labels + ["", ""])
        )
        for mv in demo_models:
            status = rng.choice(["done"] * 6 + ["failed", "pending"])
            Prediction.objects.create(
                submission=sub,
                model_version=mv,
                status=status,
                label=rng.choice(labels) if status == "done" else "",
                face_found=rng.random() > 0.2 if status == "done" else None,
            )
    return assignment


def test_class_results_match_a_plain_python_count(random_results, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        results = class_results(random_results)
    rows = list(Prediction.objects.filter(submission__assignment=random_results).select_related("submission"))
    for res in results:
        mine = [p for p in rows if p.model_version_id == res.model.pk]
        done = [p for p in mine if p.status == "done"]
        assert res.done == len(done)
        assert res.failed == sum(p.status == "failed" for p in mine)
        assert res.pending == sum(p.status == "pending" for p in mine)
        assert res.no_face == sum(p.face_found is False for p in done)
        counts = Counter(p.label for p in done)
        assert dict(res.predicted) == {label: counts.get(label, 0) for label in random_results.label_set.labels}
        for g in res.groups:
            expected = [p for p in done if p.submission.expected_label == g.group]
            assert g.total == len(expected)
            assert g.correct == sum(p.label == g.group for p in expected)


def test_results_page_has_no_student_names(client, random_results):
    client.force_login(random_results.classroom.teacher)
    from django.urls import reverse

    page = client.get(reverse("results", args=[random_results.public_id])).content.decode()
    assert "Accuracy per group" in page
    assert "Student Name" not in page


# --- Pages: per assignment, per class, projector, live JSON, export ----------------------


def _no_names(page: str, classroom, viewer=None):
    """No student's name or username (the viewer's own username is in the page header)."""
    for enrollment in classroom.enrollments.select_related("student"):
        if enrollment.student != viewer:
            assert enrollment.student.username not in page
        assert enrollment.student.display_name not in page


def _csp_clean(page: str):
    """No inline scripts or style attributes: a strict CSP must not break these pages."""
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<[^>]+\sstyle=", page)
    assert "<style" not in page


def test_assignment_results_page(client, random_results, django_assert_max_num_queries):
    from django.urls import reverse

    classroom = random_results.classroom
    client.force_login(classroom.teacher)
    url = reverse("results", args=[random_results.public_id])
    with django_assert_max_num_queries(9):
        page = client.get(url).content.decode()
    for text in ["Confusion matrix", "95% interval", "largest gap", "Face not found", "Trend", "Where two models"]:
        assert text in page, text
    assert 'id="results-data"' in page and "vendor/chartjs/chart.umd.min.js" in page
    assert page.count('class="card model-results"') == 2
    assert "Projector mode" in page and "Download anonymised CSV" in page
    assert reverse("model_card", args=[random_results.model_versions.first().key]) in page
    _no_names(page, classroom)
    _csp_clean(page)


def test_query_count_does_not_grow_with_tests(client, random_results, django_assert_max_num_queries):
    """Same number of queries for 60 tests as for 600."""
    from django.urls import reverse

    from classroom.models import Prediction, Submission

    subs = list(Submission.objects.filter(assignment=random_results))
    for _ in range(9):
        for s in subs:
            new = Submission.objects.create(assignment=random_results, student=s.student, expected_label="Group A")
            Prediction.objects.bulk_create(
                Prediction(submission=new, model_version=mv, status="done", label="Group B", face_found=True)
                for mv in random_results.model_versions.all()
            )
    client.force_login(random_results.classroom.teacher)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("results", args=[random_results.public_id])).status_code == 200


def test_student_sees_own_results_beside_the_class(client, random_results):
    from django.urls import reverse

    student = random_results.classroom.enrollments.first().student
    client.force_login(student)
    page = client.get(reverse("results", args=[random_results.public_id])).content.decode()
    assert "Your tests:" in page and "Yours" in page
    assert "Projector mode" not in page and "Download anonymised CSV" not in page
    _no_names(page, random_results.classroom, viewer=student)
    random_results.results_visibility = Assignment.ResultsVisibility.AFTER_DUE
    random_results.save()
    assert client.get(reverse("results", args=[random_results.public_id])).status_code == 404


def test_classroom_results_page(client, random_results, django_assert_max_num_queries):
    from django.urls import reverse

    classroom = random_results.classroom
    url = reverse("classroom_results", args=[classroom.public_id])
    client.force_login(classroom.teacher)
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    assert "Class results across experiments" in page and random_results.title in page
    assert page.count('class="card model-results"') == 2
    _no_names(page, classroom)
    _csp_clean(page)
    # A student sees only experiments whose results are shared.
    random_results.results_visibility = Assignment.ResultsVisibility.ON_RELEASE
    random_results.save()
    client.force_login(classroom.enrollments.first().student)
    page = client.get(url).content.decode()
    assert "No experiment results are shared yet." in page and random_results.title not in page


def test_projector_and_live_json(client, random_results, django_assert_max_num_queries):
    from django.urls import reverse

    from classroom.models import Prediction

    classroom = random_results.classroom
    client.force_login(classroom.teacher)
    page = client.get(reverse("projector", args=[random_results.public_id])).content.decode()
    assert 'class="projector"' in page and "js/projector.js" in page and "largest gap" in page
    assert "Model card" in page
    _no_names(page, classroom)
    _csp_clean(page)

    url = reverse("results_json", args=[random_results.public_id])
    first = client.get(url)
    assert first.status_code == 200 and first.json()["models"][0]["groups"]
    assert not any(s.username in first.content.decode() for s in classroom.students.all())
    with django_assert_max_num_queries(4):  # session, user, assignment, version
        unchanged = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304
    pending = Prediction.objects.filter(submission__assignment=random_results, status="pending").first()
    Prediction.objects.filter(pk=pending.pk).update(status="done", label="Group A", face_found=True)
    from django.utils import timezone

    Prediction.objects.filter(pk=pending.pk).update(finished_at=timezone.now())
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]

    # Projector mode is the teacher's; students get a 404 like any teacher page.
    client.force_login(classroom.enrollments.first().student)
    assert client.get(reverse("projector", args=[random_results.public_id])).status_code == 404


def test_csv_export_is_anonymised(client, random_results):
    from django.urls import reverse

    from classroom.models import Prediction

    classroom = random_results.classroom
    url = reverse("export_csv", args=[random_results.public_id])
    client.force_login(classroom.teacher)
    response = client.get(url)
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == Prediction.objects.filter(submission__assignment=random_results).count()
    columns = {"test", "student", "expected_group", "known_group", "model", "guess", "face_found", "p_Group A"}
    assert set(rows[0]) >= columns
    _no_names(text, classroom)
    assert len({r["student"] for r in rows}) == 4  # one pseudonym per student
    done = [r for r in rows if r["status"] == "done"]
    assert all(r["guess"] for r in done)
    # Students cannot export; nor can another teacher.
    client.force_login(classroom.enrollments.first().student)
    assert client.get(url).status_code == 404
    client.force_login(factories.TeacherFactory())
    assert client.get(url).status_code == 404


def test_other_teacher_gets_404_on_every_results_page(client, random_results):
    from django.urls import reverse

    client.force_login(factories.TeacherFactory())
    a, c = random_results.public_id, random_results.classroom.public_id
    for url in [
        reverse("results", args=[a]),
        reverse("results_json", args=[a]),
        reverse("projector", args=[a]),
        reverse("export_csv", args=[a]),
        reverse("classroom_results", args=[c]),
    ]:
        assert client.get(url).status_code == 404, url


def test_results_pages_before_any_test(client, assignment):
    """An experiment nobody has tested yet: every page answers, with dashes instead of numbers."""
    from django.urls import reverse

    client.force_login(assignment.classroom.teacher)
    for name in ("results", "projector", "results_json", "export_csv"):
        assert client.get(reverse(name, args=[assignment.public_id])).status_code == 200, name
    assert client.get(reverse("classroom_results", args=[assignment.classroom.public_id])).status_code == 200
    page = client.get(reverse("projector", args=[assignment.public_id])).content.decode()
    assert 'data-field="gap"><small>Not enough tests yet to compare groups</small>' in page


def test_trend_and_confusion_withhold_rates_below_the_minimum(settings):
    """One test is not "100%": the trend table and the confusion matrix say "too few" like the rest."""
    from classroom.results.shapes import ConfusionRow, TrendPoint

    settings.MIN_TESTS_PER_GROUP = 5
    point = TrendPoint(start=None, tests=7, groups=[(1, 1), (6, 3)])
    assert point.accuracies == [None, 0.5] and point.gap is None
    assert ConfusionRow("Group A", [1, 0], total=1).shares == [None, None]
    assert ConfusionRow("Group A", [4, 1], total=5).shares == [0.8, 0.2]
