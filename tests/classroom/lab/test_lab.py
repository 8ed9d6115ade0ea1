"""The student lab: settings, refusals before anything is queued, teams, class models (scope,
tests, chart, names), cleanup and export. Jobs run in this process through the same runner
the worker uses (the browser test drives a real worker)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from classroom.lab import selectors as lab_selectors
from classroom.lab import services as lab
from classroom.models import LabModel, Prediction
from classroom.services import gallery, privacy
from classroom.services.submissions import submit_photo
from inference.models import ModelVersion
from tests import factories
from training.importers.synthetic import import_synthetic
from training.services.jobs import run_job


@pytest.fixture
def dataset(demo_models):
    return import_synthetic(train_per_group=40, test_per_group=8).dataset


@pytest.fixture
def lab_on(assignment, dataset):
    gallery.publish_gallery(
        classroom=assignment.classroom, teacher=assignment.classroom.teacher, dataset=dataset, per_group=1
    )
    return lab.configure_lab(
        assignment=assignment,
        enabled=True,
        dataset=dataset,
        mixes=["balanced", "k_times", "counts"],
        max_k=10,
        images_per_model=100,
        models_per_student=2,
    )


def _train(assignment, student, name, **choice):
    m = lab.start_lab_model(assignment=assignment, student=student, name=name, **choice)
    job = run_job(m.job_id)
    assert job.status == "done", job.error
    m.refresh_from_db()
    return m


def test_settings_are_checked(assignment, dataset):
    with pytest.raises(lab.LabError, match="dataset"):
        lab.configure_lab(assignment=assignment, enabled=True, dataset=None, mixes=["balanced"])
    with pytest.raises(lab.LabError, match="at least one kind"):
        lab.configure_lab(assignment=assignment, enabled=True, dataset=dataset, mixes=["anything"])
    from inference.models import LabelSet
    from training.models import Dataset

    groups = LabelSet.objects.create(key="other-groups", name="Other", labels=["X", "Y"])
    other = Dataset.objects.create(key="other", name="Other", kind="synthetic", label_set=groups, root="/nowhere")
    with pytest.raises(lab.LabError, match="this experiment's groups"):
        lab.configure_lab(assignment=assignment, enabled=True, dataset=other, mixes=["balanced"])
    lab.configure_lab(assignment=assignment, enabled=True, dataset=dataset, mixes=["balanced"])
    assert assignment.lab_enabled and assignment.lab_mixes == ["balanced"]


def test_the_lab_settings_page_saves_while_the_broker_is_away(
    client, assignment, dataset, broker_away, caplog, django_capture_on_commit_callbacks
):
    client.force_login(assignment.classroom.teacher)
    form = {
        "enabled": "on",
        "dataset": dataset.key,
        "mixes": ["balanced"],
        "max_k": 10,
        "images_per_model": 100,
        "models_per_student": 2,
        "teams": "",
    }
    with django_capture_on_commit_callbacks(execute=True):  # the page's commit sends the pool's task
        reply = client.post(reverse("lab_settings", args=[assignment.public_id]), form)
    assert reply.status_code == 302
    assignment.refresh_from_db()
    assert assignment.lab_enabled and assignment.lab_dataset == dataset
    # Not sent again: the first lab job prepares the pool itself (lab.train_lab_model).
    assert f"Could not queue the lab pool of dataset {dataset.key}" in caplog.text


def test_refused_before_anything_is_queued(assignment, student, lab_on):
    from training.models import TrainingJob

    def start(**kw):
        return lab.start_lab_model(assignment=assignment, student=student, **{"name": "M", **kw})

    with pytest.raises(lab.LabError, match="name"):
        start(name="  ", kind="balanced")
    with pytest.raises(lab.LabError, match="from 1 to 10"):
        start(kind="k_times", majority="Group A", k=11)
    # 10x Group A in 100 images needs 70 of Group A; the set has 40: the largest (40 + 4 each) is named.
    with pytest.raises(lab.LabError, match=r"largest version of this mix has 56 images"):
        start(kind="k_times", majority="Group A", k=10)
    with pytest.raises(lab.LabError, match="At most 100 images"):
        start(kind="counts", counts={"Group A": 40, "Group B": 40, "Group C": 40})
    assert not TrainingJob.objects.exists() and not LabModel.objects.exists()
    lab.configure_lab(assignment=assignment, enabled=False)
    with pytest.raises(lab.LabError, match="not switched on"):
        start(kind="balanced")


def test_a_lab_model_is_the_classs_answers_its_students_tests_and_joins_the_chart(
    assignment, student, lab_on, demo_models
):
    classmate = factories.enrol(assignment.classroom, factories.StudentFactory(created_by=assignment.classroom.teacher))
    m = _train(assignment, student, "My even one", kind="balanced")
    model = m.job.result
    assert model.scope == ModelVersion.Scope.CLASS and model.created_by == student
    assert sum(model.composition.values()) == 100 and set(model.composition.values()) == {20}
    image = assignment.classroom.gallery_images.first()
    mine = submit_photo(assignment=assignment, student=student, gallery_image=image)
    theirs = submit_photo(assignment=assignment, student=classmate, gallery_image=image)
    assert model.pk in set(mine.predictions.values_list("model_version_id", flat=True))
    assert model.pk not in set(theirs.predictions.values_list("model_version_id", flat=True))
    assert mine.predictions.count() == len(demo_models) + 1

    # The chart: the student sees their own point named; a classmate sees the mix, not the name.
    mine_points = {p.key: p for p in lab_selectors.class_chart(assignment, student)}
    theirs_points = {p.key: p for p in lab_selectors.class_chart(assignment, classmate)}
    assert mine_points[model.key].mine and mine_points[model.key].name == "My even one"
    assert not theirs_points[model.key].mine and theirs_points[model.key].name == ""
    assert theirs_points[model.key].label == "20 of each group" and theirs_points[model.key].largest_share == 0.2
    # The quota: two models each.
    _train(assignment, student, "Second", kind="counts", counts={"Group A": 30, "Group B": 10})
    with pytest.raises(lab.LabError, match="2 models"):
        lab.start_lab_model(assignment=assignment, student=student, name="Third", kind="balanced")


def test_a_team_shares_its_models_and_its_quota(assignment, student, lab_on):
    mate = factories.enrol(assignment.classroom, factories.StudentFactory(created_by=assignment.classroom.teacher))
    lab.set_teams(assignment=assignment, teams={"Red": [student, mate]})
    m = _train(assignment, student, "Ours", kind="balanced")
    assert [r.lab_model for r in lab_selectors.my_models(assignment, mate)] == [m]
    _train(assignment, mate, "Also ours", kind="balanced")
    with pytest.raises(lab.LabError, match="Your team has trained 2"):
        lab.start_lab_model(assignment=assignment, student=student, name="More", kind="balanced")
    with pytest.raises(lab.LabError, match="two teams"):
        lab.set_teams(assignment=assignment, teams={"A": [student], "B": [student]})


def test_class_models_go_with_the_class_and_are_in_the_students_export(
    assignment, student, lab_on, django_capture_on_commit_callbacks
):
    m = _train(assignment, student, "Gone soon", kind="balanced")
    model = m.job.result
    path = Path(settings.MODEL_STORE) / model.artifact_path
    submit_photo(assignment=assignment, student=student, gallery_image=assignment.classroom.gallery_images.first())
    teacher = assignment.classroom.teacher
    export = privacy.export_student_data(classroom=assignment.classroom, student=student, actor=teacher)
    assert [x["name"] for x in export["lab_models"]] == ["Gone soon"]
    assert export["lab_models"][0]["training_mix"] == model.composition
    assert path.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        privacy.delete_classroom(classroom=assignment.classroom, actor=teacher)
    assert not path.exists()  # the model file too, once the deletion is committed
    assert not ModelVersion.objects.filter(pk=model.pk).exists() and not LabModel.objects.exists()
    assert not Prediction.objects.filter(model_version_id=model.pk).exists()


def test_the_lab_api(assignment, student, lab_on):
    c = APIClient()
    c.force_authenticate(student)
    base = f"/api/assignments/{assignment.public_id}/lab/"
    refused = c.post(base + "models/", {"name": "X", "kind": "k_times", "majority": "Group A", "k": 10}, format="json")
    assert refused.status_code == 400 and "largest version" in str(refused.json())
    started = c.post(base + "models/", {"name": "Via API", "kind": "balanced"}, format="json")
    assert started.status_code == 201, started.content
    assert started.json()["status"] == "queued" and started.json()["place"] == 1
    run_job(LabModel.objects.get().job_id)
    listed = c.get(base + "models/").json()
    assert listed[0]["status"] == "done" and listed[0]["model"]
    teacher = APIClient()
    teacher.force_authenticate(assignment.classroom.teacher)
    points = teacher.get(base + "chart/").json()["points"]
    assert {p["name"] for p in points if not p["reference"]} == {"Via API"}
    assert teacher.post(base + "models/", {"name": "T", "kind": "balanced"}, format="json").status_code == 404


def test_a_class_at_its_limit_of_running_lab_jobs_waits(assignment, student, lab_on, settings):
    from training.models import TrainingJob
    from training.services.jobs import group_busy

    settings.LAB_JOBS_PER_GROUP = 1
    first = lab.start_lab_model(assignment=assignment, student=student, name="First", kind="balanced")
    second = lab.start_lab_model(assignment=assignment, student=student, name="Second", kind="balanced")
    TrainingJob.objects.filter(pk=first.job_id).update(status=TrainingJob.Status.RUNNING)
    sent_back = []
    job = run_job(second.job_id, when_busy=sent_back.append)
    assert job.status == "queued" and [j.pk for j in sent_back] == [second.job_id]
    TrainingJob.objects.filter(pk=first.job_id).update(status=TrainingJob.Status.DONE)
    assert not group_busy(job)
    assert run_job(second.job_id, when_busy=sent_back.append).status == "done" and len(sent_back) == 1
