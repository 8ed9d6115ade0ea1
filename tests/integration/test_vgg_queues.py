"""VGG-Face on its own queue, training jobs on `training` and `gpu`, with real workers."""

import time

import pytest

from classroom.models import Prediction
from classroom.services.classes import create_assignment
from classroom.services.submissions import submit_photo
from tests import factories
from tests.helpers import synthetic_upload, wait_until_final
from tests.tiny_vgg import tiny_vgg_model
from tests.vgg_files import TINY
from training.models import TrainingJob
from training.services.jobs import start_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_burst_with_three_models_is_served_with_batching(celery_worker, demo_models):
    vgg = tiny_vgg_model()
    classroom = factories.ClassroomFactory()
    students = [factories.enrol(classroom, factories.StudentFactory()) for _ in range(3)]
    assignment = create_assignment(
        classroom=classroom, title="Burst", instructions="", model_versions=[*demo_models, vgg], ask_expected=True
    )
    subs = [
        submit_photo(assignment=assignment, student=students[i % 3], upload=synthetic_upload(i % 5, i))
        for i in range(8)
    ]
    for sub in subs:
        wait_until_final(sub, timeout=120)
    preds = Prediction.objects.filter(submission__in=subs)
    assert preds.count() == 24 and set(preds.values_list("status", flat=True)) == {"done"}
    assert set(preds.values_list("attempts", flat=True)) == {1}
    vgg_claims = set(preds.filter(model_version=vgg).values_list("started_at", flat=True))
    assert len(vgg_claims) < 8, "VGG-Face predictions should have been claimed in batches"


def wait_for_job(job, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job.refresh_from_db()
        if job.is_final:
            return job
        time.sleep(0.3)
    from tests.workers import worker_logs

    raise AssertionError(f"job {job.pk} still {job.status} ({job.stage}):\n{worker_logs()}")


def test_head_training_job_on_the_training_queue(celery_worker):
    job = start_job(
        kind=TrainingJob.Kind.VGG_HEAD,
        params={"width": TINY, "per_group": 3, "test_per_group": 1, "epochs": 2, "key": "queued-head"},
    )
    job = wait_for_job(job)
    assert job.status == "done", job.error
    assert job.result.key == "queued-head" and job.result.metrics["per_group"]


def test_finetune_job_on_the_gpu_queue_runs_on_cpu(celery_worker):
    job = start_job(
        kind=TrainingJob.Kind.VGG_FINETUNE,
        params={
            "width": TINY,
            "per_group": 3,
            "test_per_group": 1,
            "epochs": 2,
            "samples_per_epoch": 8,
            "batch_size": 4,
            "key": "queued-finetune",
        },
    )
    job = wait_for_job(job)
    assert job.status == "done", job.error
    assert job.result.training_params["trained_layers"] == ["fc6", "fc7", "head"]
