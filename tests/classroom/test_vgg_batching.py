"""VGG-Face predictions are claimed in batches (SKIP LOCKED) and never run twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from classroom.models import Prediction
from classroom.services import predictions
from classroom.services.classes import create_assignment
from classroom.services.submissions import submit_photo
from inference import registry
from tests.helpers import synthetic_upload
from tests.tiny_vgg import tiny_vgg_model


@pytest.fixture
def vgg_assignment(classroom, demo_models):
    registry.clear_cache()
    vgg = tiny_vgg_model()
    assignment = create_assignment(
        classroom=classroom,
        title="Three models",
        instructions="",
        model_versions=[*demo_models, vgg],
        ask_expected=True,
    )
    yield assignment, vgg
    registry.clear_cache()


def died_mid_batch(assignment, student, vgg, n: int):
    """n submissions whose VGG-Face predictions task "vgg-task" claimed as one batch before its
    worker process died (Celery then delivers that task again). Returns submissions and predictions."""
    subs = [submit_photo(assignment=assignment, student=student, upload=synthetic_upload(i, i)) for i in range(n)]
    batch = Prediction.objects.filter(model_version=vgg).order_by("created_at")
    batch.update(status="running", started_at=timezone.now(), attempts=1, claim_token="vgg-task")
    return subs, batch


def test_one_task_runs_pending_vgg_predictions_as_a_batch(
    student, vgg_assignment, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    assignment, vgg = vgg_assignment
    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 3}
    subs = [submit_photo(assignment=assignment, student=student, upload=synthetic_upload(i % 5, i)) for i in range(4)]
    vgg_preds = list(Prediction.objects.filter(model_version=vgg).order_by("created_at"))
    with django_capture_on_commit_callbacks(execute=True):
        assert predictions.run_prediction(prediction_id=vgg_preds[0].pk) == "done"
    statuses = [Prediction.objects.get(pk=p.pk).status for p in vgg_preds]
    assert statuses == ["done", "done", "done", "pending"]  # one batch of 3, oldest first
    # the tasks of the batched predictions arrive later and do nothing
    before = list(Prediction.objects.filter(model_version=vgg).values_list("finished_at", "attempts"))
    for p in vgg_preds[1:3]:
        with django_assert_num_queries(1):  # one plain read, no lock: the worker moves on to the next batch
            assert predictions.run_prediction(prediction_id=p.pk) == "done"
    assert list(Prediction.objects.filter(model_version=vgg).values_list("finished_at", "attempts")) == before
    # MLP predictions are untouched by the VGG batch
    assert all(
        p.status == "pending" for p in Prediction.objects.filter(submission__in=subs, model_version__family="mlp")
    )


def test_fresh_batch_claim_is_left_alone_and_stale_one_is_rerun(student, vgg_assignment, settings):
    assignment, vgg = vgg_assignment
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    p = Prediction.objects.get(submission=sub, model_version=vgg)
    Prediction.objects.filter(pk=p.pk).update(status="running", started_at=timezone.now(), attempts=1)
    assert predictions.run_prediction(prediction_id=p.pk) == "running"  # another worker's batch has it
    stale = timezone.now() - timedelta(seconds=settings.PREDICTION_LEASE_SECONDS + 1)
    Prediction.objects.filter(pk=p.pk).update(started_at=stale)
    assert predictions.run_prediction(prediction_id=p.pk) == "done"
    assert Prediction.objects.get(pk=p.pk).attempts == 2


def test_a_redelivered_batch_task_runs_its_own_photo_and_sends_the_rest_again(
    student, vgg_assignment, settings, django_capture_on_commit_callbacks
):
    """A batch that died is never run together again: a photo that kills its worker is retried alone."""
    assignment, vgg = vgg_assignment
    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 3}
    _, batch = died_mid_batch(assignment, student, vgg, 3)
    first, second, third = (p.pk for p in batch)
    with django_capture_on_commit_callbacks() as sent:
        assert predictions.run_prediction(prediction_id=first, claim_token="vgg-task") == "done"
    assert list(batch.values_list("status", "attempts", "claim_token")) == [
        ("done", 2, "vgg-task"),
        ("pending", 1, ""),
        ("pending", 1, ""),
    ]
    assert sorted(cb.args for cb in sent) == [(second, "vgg"), (third, "vgg")]  # their tasks are sent again
    # Each runs with its own submission only: it has been in a batch that died.
    assert predictions.run_prediction(prediction_id=second, claim_token="task-2") == "done"
    assert Prediction.objects.get(pk=third).status == "pending"
    assert predictions.run_prediction(prediction_id=third, claim_token="task-3") == "done"
    assert list(batch.values_list("attempts", flat=True)) == [2, 2, 2]


def test_a_redelivered_task_whose_own_photo_was_answered_still_sends_its_batch_again(
    student, vgg_assignment, settings, django_capture_on_commit_callbacks
):
    assignment, vgg = vgg_assignment
    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 3}
    _, batch = died_mid_batch(assignment, student, vgg, 2)
    first, second = batch
    # The first answer was stored, then the worker died before the second.
    Prediction.objects.filter(pk=first.pk).update(status="done", label="x", finished_at=timezone.now())
    with django_capture_on_commit_callbacks() as sent:
        assert predictions.run_prediction(prediction_id=first.pk, claim_token="vgg-task") == "done"
    assert Prediction.objects.get(pk=second.pk).status == "pending"
    assert [cb.args for cb in sent] == [(second.pk, "vgg")]


def test_a_redelivered_task_whose_submission_was_deleted_still_sends_its_batch_again(
    student, vgg_assignment, settings, django_capture_on_commit_callbacks
):
    assignment, vgg = vgg_assignment
    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 3}
    subs, batch = died_mid_batch(assignment, student, vgg, 2)
    first, second = batch
    subs[0].delete()  # the student deleted their test while the batch ran, and then the worker died
    with django_capture_on_commit_callbacks() as sent:
        assert predictions.run_prediction(prediction_id=first.pk, claim_token="vgg-task") == "missing"
    assert Prediction.objects.get(pk=second.pk).status == "pending"
    assert [cb.args for cb in sent] == [(second.pk, "vgg")]


def test_every_vgg_model_of_a_submission_gets_run_when_experiments_share_a_model(classroom, student, settings):
    """A task whose named prediction an earlier batch ran must still run the submission's others."""
    from tests.tiny_vgg import tiny_vgg_model

    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 3}
    one, two = tiny_vgg_model("tiny-vgg-1"), tiny_vgg_model("tiny-vgg-2")

    def experiment(title, models):
        return create_assignment(
            classroom=classroom, title=title, instructions="", model_versions=models, ask_expected=False
        )

    only_two, both = experiment("Second model only", [two]), experiment("Both models", [one, two])
    subs = [
        submit_photo(assignment=a, student=student, upload=synthetic_upload(i, i))
        for i, a in enumerate([only_two, only_two, both, both])
    ]
    for i, sub in enumerate(subs):  # the queue delivers each submission's one VGG-Face task, in order
        named = sub.predictions.filter(model_version__family="vgg").order_by("pk").first()
        predictions.run_prediction(prediction_id=named.pk, claim_token=f"task-{i}")
    assert not Prediction.objects.exclude(status__in=Prediction.FINAL).exists()


def test_a_damaged_photo_fails_only_its_own_batch_member(student, vgg_assignment, settings):
    from django.core.files.storage import default_storage

    assignment, vgg = vgg_assignment
    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 3}
    subs = [submit_photo(assignment=assignment, student=student, upload=synthetic_upload(i, i)) for i in range(3)]
    with open(default_storage.path(subs[1].photo), "wb") as fh:
        fh.write(b"not a photo any more")
    batch = Prediction.objects.filter(model_version=vgg).order_by("created_at")
    assert predictions.run_prediction(prediction_id=batch[0].pk) == "done"
    assert [p.status for p in batch] == ["done", "failed", "done"]
    assert batch[1].error == predictions.PHOTO_UNREADABLE


def test_the_second_model_family_crops_where_the_first_found_the_face(
    student, vgg_assignment, monkeypatch, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """Finding a face costs more than decoding a phone photo: the MLP worker's box is reused, with the same answer."""
    import inference.preprocessing

    assignment, vgg = vgg_assignment
    settings.PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": 1}
    settings.FIND_FACES_AT_UPLOAD = False  # the workers search (test_faces_at_upload.py: the web does)
    first, second = (submit_photo(assignment=assignment, student=student, upload=synthetic_upload(2, 7)) for _ in "ab")
    vgg_of = {s.pk: Prediction.objects.get(submission=s, model_version=vgg).pk for s in (first, second)}
    with django_capture_on_commit_callbacks(execute=True):  # photos are deleted after commit
        assert predictions.run_prediction(prediction_id=vgg_of[first.pk]) == "done"  # finds the face itself
        mlp = first.predictions.filter(model_version__family="mlp").first()
        assert predictions.run_prediction(prediction_id=mlp.pk) == "done"
        mlp = second.predictions.filter(model_version__family="mlp").first()
        # A look, the claim (lock, mark), then both answers and the face box in one transaction.
        with django_assert_num_queries(12):
            assert predictions.run_prediction(prediction_id=mlp.pk) == "done"
    first.refresh_from_db(), second.refresh_from_db()
    assert first.photo == "" and first.face_box is None  # the box goes with the photo
    assert second.face_box and len(second.face_box["haar"]) == 4  # by detector: both models use Haar's

    def no_search(rgb, detector="haar"):
        raise AssertionError("the face was searched for again")

    monkeypatch.setattr(inference.preprocessing, "detect_face", no_search)
    assert predictions.run_prediction(prediction_id=vgg_of[second.pk]) == "done"
    searched, reused = (Prediction.objects.get(pk=vgg_of[s.pk]) for s in (first, second))
    assert reused.probabilities == searched.probabilities and reused.face_found == searched.face_found


# What a CPU that runs each precision has (whatever this one has); int8 unchecked against float32:
# tests/inference/test_int8_gate.py checks the check.
CPU_FOR = {"bfloat16": {"avx512f", "avx512_bf16"}, "int8": {"avx512f", "avx512_vnni"}}
CARD_SAYS = {"bfloat16": "bfloat16 (16-bit", "int8": "int8 (8-bit"}


@pytest.fixture(params=["bfloat16", "int8"])
def reduced_here(request, settings, monkeypatch):
    """ETHITECH_VGG_PRECISION set to a reduced precision, on a CPU that runs it and no GPU."""
    from inference import precision

    settings.VGG_PRECISION = request.param
    settings.VGG_INT8_MIN_AGREEMENT = 0
    monkeypatch.setattr(precision, "cpu_flags", lambda cpuinfo=None: CPU_FOR[request.param])
    monkeypatch.setattr(precision, "nvidia_gpus", lambda *args: [])
    precision.decision.cache_clear()
    registry.clear_cache()
    yield request.param
    precision.decision.cache_clear()
    registry.clear_cache()


def test_answers_say_which_precision_computed_them_and_so_does_the_card(
    student, vgg_assignment, reduced_here, client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    assignment, vgg = vgg_assignment
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(2, 2))
    with django_capture_on_commit_callbacks(execute=True):
        for p in sub.predictions.all():
            predictions.run_prediction(prediction_id=p.pk)
    stored = {p.model_version.family: p for p in sub.predictions.select_related("model_version")}
    assert stored["vgg"].status == "done" and stored["vgg"].precision == reduced_here
    assert stored["mlp"].status == "done" and stored["mlp"].precision == ""  # the MLPs have no choice
    client.force_login(assignment.classroom.teacher)
    page = client.get(reverse("model_card", args=[vgg.key])).content.decode()
    assert 'id="precision"' in page and CARD_SAYS[reduced_here] in page
    mlp_card = client.get(reverse("model_card", args=[stored["mlp"].model_version.key])).content.decode()
    assert 'id="precision"' not in mlp_card
    api = client.get(f"/api/submissions/{sub.public_id}/").json()
    assert {p["model"]: p["precision"] for p in api["predictions"]}[vgg.key] == reduced_here
