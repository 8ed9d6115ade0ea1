"""The teacher's training pages: live composition, start, progress, cancel, model card."""

import json

import pytest
from django.urls import reverse

from classroom.views.training import eta_text
from inference.models import ModelVersion
from tests import factories
from tests.vgg_files import TINY
from training.models import TrainingJob
from training.progress import job_progress
from training.services.jobs import run_job, start_job

pytestmark = pytest.mark.usefixtures("fresh_registry")  # models loaded by one test are not cached for the next


def card_data(page: str) -> dict:
    return json.loads(page.split('id="model-card-data" type="application/json">')[1].split("</script>")[0])


def composition(client, dataset, **mix):
    response = client.get(reverse("training_composition"), {"dataset": dataset.key, **mix})
    return response.status_code, response.json()


def test_composition_endpoint_reports_counts_and_what_is_achievable(client, teacher, dataset):
    client.force_login(teacher)
    status, data = composition(client, dataset, mix_kind="balanced", per_group=8)
    assert status == 200 and data["achievable"] and data["synthetic"]
    assert data["counts"] == dict.fromkeys(dataset.label_set.labels, 8)
    assert data["available"] == dict.fromkeys(dataset.label_set.labels, 10)
    assert data["groups"] == dataset.label_set.labels

    # 10x one group: the dataset has 10 of each, so 5 of every other group cannot be had
    status, data = composition(client, dataset, mix_kind="k_times", majority="Group A", k=10, per_minority=5)
    assert status == 200 and data["achievable"] is False
    assert data["counts"]["Group A"] == 50
    assert "Not achievable" in data["message"] and "allows about 1 of each other group" in data["message"]

    status, data = composition(client, dataset, mix_kind="counts", count_0=3, count_2=12)
    assert data["achievable"] is False and "Group C: asked 12, has 10" in data["message"]
    status, data = composition(client, dataset, mix_kind="cap", cap=4)
    assert data["achievable"] and sum(data["counts"].values()) == 20

    # bad input: a clear message, never a 500
    for bad in (
        {"mix_kind": "k_times", "majority": "Nobody"},
        {"mix_kind": "balanced", "per_group": "-3"},
        {"mix_kind": "cap"},
        {"mix_kind": "counts"},
        {"mix_kind": "sideways"},
    ):
        status, data = composition(client, dataset, **bad)
        assert status == 400 and data["achievable"] is False and data["message"], bad
    response = client.get(reverse("training_composition"), {"dataset": "no-such-set"})
    assert response.status_code == 400 and "imported datasets" in response.json()["message"]
    # no query at all: the first dataset, balanced
    data = client.get(reverse("training_composition")).json()
    assert data["achievable"] and data["counts"] == dict.fromkeys(dataset.label_set.labels, 10)


def test_training_pages_are_for_teachers_only(client, student, dataset):
    client.force_login(student)
    for url in (reverse("training_jobs"), reverse("training_composition")):
        assert client.get(url).status_code == 404


def test_not_achievable_mix_is_refused_with_its_message(client, teacher, dataset):
    client.force_login(teacher)
    response = client.post(
        reverse("training_jobs"),
        {"dataset": dataset.key, "kind": "mlp", "mix_kind": "balanced", "per_group": 500},
    )
    assert response.status_code == 400
    assert "Not achievable" in response.content.decode() and not TrainingJob.objects.exists()
    response = client.post(
        reverse("training_jobs"),
        {"dataset": dataset.key, "kind": "mlp", "mix_kind": "balanced", "per_group": 5, "test_per_group": 9},
    )
    assert response.status_code == 400 and "held-out split has fewer" in response.content.decode()


def start_from_page(client, dataset, **extra):
    form = {
        "dataset": dataset.key,
        "kind": "mlp",
        "mix_kind": "k_times",
        "majority": "Group B",
        "k": 2,
        "per_minority": 4,
        "test_per_group": 3,
        "name": "Page MLP",
        **extra,
    }
    response = client.post(reverse("training_jobs"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = TrainingJob.objects.latest("created_at")
    assert response["Location"] == reverse("training_job", args=[job.public_id])
    return job


def test_job_started_from_the_page_shows_progress_and_can_be_cancelled(client, teacher, dataset):
    client.force_login(teacher)
    job = start_from_page(client, dataset, epochs=5)  # epochs are for VGG-Face: not sent for an MLP
    assert job.kind == "mlp" and job.created_by == teacher and job.status == "queued"
    assert job.params == {
        "dataset": dataset.key,
        "mix": {"kind": "k_times", "majority": "Group B", "k": 2, "per_minority": 4},
        "test_per_group": 3,
        "name": "Page MLP",
    }
    page = client.get(reverse("training_job", args=[job.public_id])).content.decode()
    assert 'id="job-bar"' in page and 'id="cancel-form"' in page and "2x as many Group B" in page

    # the worker reports progress into the row; the page's JSON shows it
    update, should_stop = job_progress(job, min_interval=0)
    TrainingJob.objects.filter(pk=job.pk).update(status="running")
    update("Preparing training images", 0.4, 150)
    state = client.get(reverse("training_job_status", args=[job.public_id])).json()
    assert state["status"] == "running" and state["stage"] == "Preparing training images"
    assert state["percent"] == 40 and state["eta_text"] == "about 2 min left" and not state["final"]

    response = client.post(reverse("cancel_training_job", args=[job.public_id]))
    assert response.status_code == 302
    assert should_stop()  # the running job stops at its next check
    state = client.get(reverse("training_job_status", args=[job.public_id])).json()
    assert state["status"] == "cancelled" and state["final"] and state["result"] is None
    assert run_job(job.pk).status == "cancelled"  # a cancelled job never runs
    page = client.get(reverse("training_job", args=[job.public_id])).content.decode()
    assert 'id="cancel-form" hidden' in page


def test_finished_job_links_to_its_model_card(client, teacher, dataset):
    client.force_login(teacher)
    job = start_from_page(client, dataset)
    job = run_job(job.pk)  # what the `training` worker does
    assert job.status == "done", job.error
    state = client.get(reverse("training_job_status", args=[job.public_id])).json()
    assert state["percent"] == 100 and state["final"]
    assert state["result"]["url"] == reverse("model_card", args=[job.result.key])
    listing = client.get(reverse("training_jobs")).content.decode()
    assert job.result.name in listing

    card = client.get(state["result"]["url"]).content.decode()
    mv = job.result
    assert mv.composition == {"Group A": 4, "Group B": 8, "Group C": 4, "Group D": 4, "Group E": 4}
    assert 'id="synthetic-note"' in card and "synthetic" in card
    assert mv.sha256 in card and teacher.username in card
    assert reverse("training_job", args=[job.public_id]) in card  # the teacher's own job
    data = card_data(card)
    assert data["train"] == [4, 8, 4, 4, 4] and data["groups"] == mv.label_set.labels
    rows = zip(data["low"], data["accuracy"], data["high"], strict=True)
    assert all(lo is None or lo <= acc <= hi for lo, acc, hi in rows)
    assert 'id="per-group"' in card and "95% interval" in card and 'id="composition"' in card
    assert "chart.umd.min.js" in card and "cdn" not in card.lower()

    # another teacher sees the card, but not the job
    other = factories.TeacherFactory()
    client.force_login(other)
    assert reverse("training_job", args=[job.public_id]) not in client.get(state["result"]["url"]).content.decode()


def test_a_teacher_sees_only_their_own_jobs(client, teacher, dataset):
    job = start_job(kind="mlp", params={"dataset": dataset.key, "mix": {"kind": "balanced"}}, created_by=teacher)
    client.force_login(factories.TeacherFactory())
    assert job.created_at.strftime("%H:%M") not in client.get(reverse("training_jobs")).content.decode()
    assert client.get(reverse("training_job", args=[job.public_id])).status_code == 404
    assert client.get(reverse("training_job_status", args=[job.public_id])).status_code == 404
    assert client.post(reverse("cancel_training_job", args=[job.public_id])).status_code == 404
    job.refresh_from_db()
    assert job.status == "queued"


def test_failed_job_shows_why(client, teacher, dataset):
    job = start_job(kind="mlp", params={"dataset": dataset.key, "mix": {"kind": "balanced"}}, created_by=teacher)
    dataset.delete()  # removed by an operator while the job waited in the queue
    job = run_job(job.pk)
    assert job.status == "failed"
    client.force_login(teacher)
    state = client.get(reverse("training_job_status", args=[job.public_id])).json()
    assert state["final"] and state["error"]
    page = client.get(reverse("training_job", args=[job.public_id])).content.decode()
    assert 'id="job-error" class="error">' in page and "This job failed" in page


def test_vgg_head_job_card_says_base_not_pretrained(client, teacher, dataset):
    params = {
        "dataset": dataset.key,
        "mix": {"kind": "balanced", "per_group": 3},
        "test_per_group": 2,
        "epochs": 2,
        "width": TINY,
    }
    job = run_job(start_job(kind="vgg_head", params=params, created_by=teacher).pk)
    assert job.status == "done", job.error
    client.force_login(teacher)
    page = client.get(reverse("training_job", args=[job.public_id])).content.decode()
    assert "random weights — not pretrained" in page
    card = client.get(reverse("model_card", args=[job.result.key])).content.decode()
    assert 'id="not-pretrained"' in card and "base not pretrained" in card


def test_model_card_computes_intervals_for_older_metrics(client, teacher, demo_models):
    mv = demo_models[0]
    mv.metrics = {"overall_accuracy": 0.5, "per_group": {"Group A": {"n": 20, "accuracy": 0.5}}}
    mv.save()
    client.force_login(teacher)
    card = client.get(reverse("model_card", args=[mv.key])).content.decode()
    data = card_data(card)
    assert data["low"][0] == pytest.approx(0.2993, abs=1e-3) and data["high"][0] == pytest.approx(0.7007, abs=1e-3)
    assert data["low"][1] is None  # no held-out images of that group: no interval
    assert ModelVersion.objects.filter(key=mv.key).exists()


def test_eta_text():
    assert eta_text(None) == "" and eta_text(20) == "less than a minute left"
    assert eta_text(600) == "about 10 min left" and eta_text(3 * 3600) == "about 3.0 h left"
