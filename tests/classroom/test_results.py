import random
from collections import Counter

import pytest

from classroom.models import Prediction, Submission
from classroom.selectors import class_results
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
                submission=sub, model_version=mv, status=status,
                label=rng.choice(labels) if status == "done" else "",
                face_found=rng.random() > 0.2 if status == "done" else None,
            )  # fmt: skip
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
    assert "Accuracy per expected group" in page
    assert "Student Name" not in page
