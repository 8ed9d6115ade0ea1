"""Prediction.assignment, the copy of its submission's assignment that class results read, stays
true however predictions are created, re-run and deleted, and the results stay a plain count."""

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from classroom import results as res
from classroom.models import Prediction, Submission
from classroom.services import privacy
from classroom.services.classes import create_assignment, delete_assignment
from classroom.services.retention import purge_photos
from classroom.services.submissions import submit_photo
from classroom.services.sweeper import requeue_stale_predictions
from tests import factories
from tests.helpers import synthetic_upload

pytestmark = pytest.mark.usefixtures("fresh_registry")
ROOT = Path(__file__).resolve().parent.parent.parent


def mismatched() -> list[int]:
    """Predictions whose copy differs from their submission's assignment (none, ever)."""
    return list(Prediction.objects.exclude(assignment_id=F("submission__assignment_id")).values_list("pk", flat=True))


def plain_count(assignments) -> Counter:
    """(model, status, guess) of the class's tests, counted in Python through the submissions."""
    rows = Prediction.objects.filter(submission__assignment__in=assignments, submission__preview=False)
    return Counter(rows.values_list("model_version_id", "status", "label"))


def counted_by_results(scope) -> Counter:
    counts = Counter()
    for m in res.compute(scope).models:
        counts.update({(m.model.pk, "failed", ""): m.failed, (m.model.pk, "pending", ""): m.pending})
        counts.update({(m.model.pk, "done", label): n for label, n in m.predicted})
    return +counts  # drops the zeros


def test_every_way_of_creating_a_prediction_copies_the_submissions_assignment(classroom, student, assignment):
    other = create_assignment(
        classroom=classroom,
        title="Second",
        instructions="",
        model_versions=list(assignment.model_versions.all()),
        ask_expected=True,
    )
    models = list(assignment.model_versions.all())
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    assert [p.assignment_id for p in sub.predictions.all()] == [assignment.pk] * len(models)
    # Written directly (fixtures, scripts): the model fills the copy in, and corrects a wrong one.
    direct = Submission.objects.create(assignment=other, student=student)
    Prediction.objects.create(submission=direct, model_version=models[0])
    Prediction.objects.bulk_create([Prediction(submission=direct, assignment=assignment, model_version=models[1])])
    assert set(Prediction.objects.filter(assignment=other).values_list("pk", flat=True)) == set(
        direct.predictions.values_list("pk", flat=True)
    )
    assert Prediction.objects.count() == 2 * len(models) and mismatched() == []


def test_results_stay_a_plain_count_through_reruns_retention_and_deletions(classroom, assignment, run_all):
    other = create_assignment(
        classroom=classroom,
        title="Second",
        instructions="",
        model_versions=list(assignment.model_versions.all()),
        ask_expected=True,
    )
    students = [factories.enrol(classroom, factories.StudentFactory()) for _ in range(2)]
    for i, (a, s) in enumerate([(assignment, students[0]), (assignment, students[1]), (other, students[1])]):
        run_all(submit_photo(assignment=a, student=s, upload=synthetic_upload(group=i, index=i)))
    # One more whose worker died mid-claim: the sweeper sends it again and it is answered.
    stuck = submit_photo(assignment=other, student=students[0], upload=synthetic_upload(group=3, index=3))
    stale = timezone.now() - timedelta(seconds=settings.PREDICTION_STALE_SECONDS + 60)
    stuck.predictions.update(status="running", attempts=1, started_at=stale, claim_token="dead-task")
    assert requeue_stale_predictions()["requeued"] == len(assignment.model_versions.all())
    run_all(stuck)
    assert set(stuck.predictions.values_list("status", flat=True)) == {"done"}
    # A teacher's preview test is stored with its copy too, and never counted.
    submit_photo(assignment=assignment, student=classroom.teacher, upload=synthetic_upload())
    purge_photos(now=timezone.now() + timedelta(days=60))  # retention deletes photos, never answers

    def check():
        assert mismatched() == []
        whole_class = res.classroom_scope(classroom, classroom.teacher)
        assert counted_by_results(whole_class) == plain_count([assignment, other])
        for a in (assignment, other):
            assert counted_by_results(res.assignment_scope(a)) == plain_count([a])
            # The live view's ETag counts the same tests.
            assert res.version(res.assignment_scope(a)).split("-")[0] == str(sum(plain_count([a]).values()))

    check()
    assert sum(plain_count([assignment, other]).values()) == 4 * len(assignment.model_versions.all())

    privacy.delete_student_data(classroom=classroom, student=students[0], actor=classroom.teacher)
    check()
    assert sum(plain_count([assignment, other]).values()) == 2 * len(assignment.model_versions.all())

    delete_assignment(assignment=other, teacher=classroom.teacher)
    assert not Prediction.objects.filter(assignment_id=other.pk).exists()
    whole_class = res.classroom_scope(classroom, classroom.teacher)
    assert counted_by_results(whole_class) == plain_count([assignment]) != Counter()

    privacy.delete_classroom(classroom=classroom, actor=classroom.teacher)
    assert not Prediction.objects.exists()


MIGRATION_PROBE = r"""
import importlib, os
os.environ["DJANGO_SETTINGS_MODULE"] = "ethitech.settings"
import django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

before, after = [("classroom", "0018_prediction_unsent")], [("classroom", "0020_prediction_assignment_required")]
executor = MigrationExecutor(connection)
executor.migrate(before)
apps = executor.loader.project_state(before).apps
User, Classroom, Assignment, Submission, Prediction, LabelSet, ModelVersion = (
    apps.get_model(*name.split(".")) for name in ("classroom.User", "classroom.Classroom", "classroom.Assignment",
    "classroom.Submission", "classroom.Prediction", "inference.LabelSet", "inference.ModelVersion"))
teacher = User.objects.create(username="t", role="teacher")
student = User.objects.create(username="s", role="student")
classroom = Classroom.objects.create(name="C", teacher=teacher, join_code="ABCDEFGH")
labels = LabelSet.objects.create(key="l", name="L", labels=["A", "B"])
models = [ModelVersion.objects.create(key=f"m{i}", name="M", family="mlp", label_set=labels) for i in range(2)]
from django.utils import timezone
assignments = [Assignment.objects.create(classroom=classroom, title=f"E{i}", label_set=labels, opens_at=timezone.now())
               for i in range(3)]
expected = {}
for i in range(7):
    sub = Submission.objects.create(assignment=assignments[i % 3], student=student)
    for m in models:
        expected[Prediction.objects.create(submission=sub, model_version=m).pk] = sub.assignment_id
importlib.import_module("classroom.migrations.0019_prediction_assignment").BATCH = 3  # several batches


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps.get_model("classroom", "Prediction")


filled = migrate([("classroom", "0019_prediction_assignment")])
assert dict(filled.objects.values_list("pk", "assignment_id")) == expected, "0019 did not fill them"
# A test taken while the upgrade runs (old code: no copy): 0020 fills it before making the copy required.
late_sub = Submission.objects.create(assignment=assignments[1], student=student)
late = filled.objects.create(submission_id=late_sub.pk, model_version_id=models[0].pk)
expected[late.pk] = late_sub.assignment_id
assert filled.objects.filter(assignment__isnull=True).count() == 1
migrate(after)
from classroom.models import Prediction
assert dict(Prediction.objects.values_list("pk", "assignment_id")) == expected, "0020 did not fill it"
print("MIGRATION OK", len(expected))
"""


def test_the_migration_fills_the_copy_for_existing_predictions(tmp_path):
    """0019/0020 on a database with tests in it (SQLite here, as the demo; PostgreSQL by make bench-results)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["ETHITECH_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", MIGRATION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "MIGRATION OK 15" in proc.stdout
