"""The worker-side workflow, run in-process (the queue itself is tested in integration/)."""

import pytest

from classroom.models import Prediction
from classroom.services import predictions
from classroom.services.submissions import SubmissionError, submit_photo
from tests.helpers import stored_uploads, synthetic_upload

pytestmark = pytest.mark.usefixtures("fresh_registry")  # models loaded by one test are not cached for the next


def test_predictions_are_stored_and_photo_deleted(student, assignment, run_all):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(), expected_label="Group C")
    assert len(stored_uploads()) == 1
    run_all(sub)
    sub.refresh_from_db()
    preds = list(sub.predictions.all())
    assert all(p.status == "done" for p in preds)
    for p in preds:
        assert p.label in assignment.label_set.labels
        assert abs(sum(p.probabilities.values()) - 1) < 0.01
        assert p.latency_ms > 0 and p.face_found is not None
    assert sub.photo == "" and sub.photo_deleted_at is not None
    assert stored_uploads() == []


def test_finished_prediction_is_not_run_twice(student, assignment, run_all):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    run_all(sub)
    p = sub.predictions.first()
    before = (p.label, p.finished_at, p.attempts)
    assert predictions.run_prediction(prediction_id=p.pk) == "done"
    p.refresh_from_db()
    assert (p.label, p.finished_at, p.attempts) == before


def test_one_broken_model_fails_alone(student, assignment, demo_models, run_all):
    balanced, unbalanced = demo_models
    unbalanced.sha256 = "0" * 64  # as if the file had been altered after registration
    unbalanced.save()
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    run_all(sub)
    good = sub.predictions.get(model_version=balanced)
    bad = sub.predictions.get(model_version=unbalanced)
    assert good.status == "done"
    assert bad.status == "failed" and "checksum" in bad.error
    assert stored_uploads() == []  # both final: the photo is gone


def test_attempts_are_capped(student, assignment, settings):
    settings.PREDICTION_MAX_ATTEMPTS = 2
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    p = sub.predictions.first()
    Prediction.objects.filter(pk=p.pk).update(attempts=2, status="running")  # two workers died on it
    assert predictions.run_prediction(prediction_id=p.pk) == "failed"
    p.refresh_from_db()
    assert "Gave up after 2 attempts" in p.error


def test_photo_missing_marks_failed(student, assignment, run_all):
    from django.core.files.storage import default_storage

    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    default_storage.delete(sub.photo)
    run_all(sub)
    assert set(sub.predictions.values_list("status", flat=True)) == {"failed"}


def test_submission_rules(student, assignment, classroom):
    with pytest.raises(SubmissionError, match="expected group"):
        submit_photo(assignment=assignment, student=student, upload=synthetic_upload(), expected_label="White")
    with pytest.raises(SubmissionError, match="1000"):
        submit_photo(assignment=assignment, student=student, upload=synthetic_upload(), note="x" * 1001)
    from tests.factories import StudentFactory

    with pytest.raises(PermissionError):
        submit_photo(assignment=assignment, student=StudentFactory(), upload=synthetic_upload())
    assert stored_uploads() == []


def test_one_task_per_queue_runs_both_mlps_on_one_decoded_photo(
    student, assignment, django_capture_on_commit_callbacks, monkeypatch, settings
):
    from inference import preprocessing

    settings.FIND_FACES_AT_UPLOAD = False  # the workers search (test_faces_at_upload.py: the web does)
    with django_capture_on_commit_callbacks() as callbacks:
        sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first, second = sub.predictions.order_by("pk")
    assert [cb.args for cb in callbacks] == [(first.pk, "mlp")]  # one message for the submission's MLP queue

    crops = []
    original = preprocessing.detect_face
    monkeypatch.setattr(preprocessing, "detect_face", lambda rgb, d="haar": crops.append(d) or original(rgb, d))
    with django_capture_on_commit_callbacks(execute=True):
        assert predictions.run_prediction(prediction_id=first.pk) == "done"
    assert set(sub.predictions.values_list("status", flat=True)) == {"done"}
    assert crops == ["haar"]  # decoded and face-detected once for both models (both use Haar)
    assert stored_uploads() == []
    second.refresh_from_db()
    assert second.attempts == 1 and second.latency_ms > 0


def test_a_redelivered_task_reclaims_its_own_claim_and_nobody_elses(student, assignment):
    from django.utils import timezone

    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first, _ = sub.predictions.order_by("pk")
    # The task "task-1" claimed both, then its worker process died.
    sub.predictions.update(status="running", started_at=timezone.now(), attempts=1, claim_token="task-1")
    assert predictions.run_prediction(prediction_id=first.pk, claim_token="task-2") == "running"  # not its claim
    assert set(sub.predictions.values_list("attempts", flat=True)) == {1}
    assert predictions.run_prediction(prediction_id=first.pk, claim_token="task-1") == "done"  # the redelivery
    assert list(sub.predictions.values_list("status", "attempts")) == [("done", 2), ("done", 2)]


def test_a_redelivered_task_runs_the_sibling_its_worker_died_on(student, assignment):
    """Both MLPs were claimed, the first answer stored, then the worker died: the redelivery runs the second."""
    from django.utils import timezone

    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first, second = sub.predictions.order_by("pk")
    sub.predictions.update(status="running", started_at=timezone.now(), attempts=1, claim_token="task-1")
    Prediction.objects.filter(pk=first.pk).update(status="done", label="x", finished_at=timezone.now())
    assert predictions.run_prediction(prediction_id=first.pk, claim_token="task-1") == "done"
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("done", 2)


def test_a_task_out_of_time_fails_what_it_has_not_run_with_a_message(student, assignment, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    import inference.services

    def out_of_time(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(inference.services, "predict_photos", out_of_time)
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first = sub.predictions.order_by("pk").first()
    assert predictions.run_prediction(prediction_id=first.pk) == "failed"
    errors = set(sub.predictions.values_list("status", "error"))
    assert errors == {("failed", predictions.TOO_SLOW)}  # not "the photo could not be read"


def test_answers_are_kept_when_the_time_limit_strikes_while_storing_them(student, assignment, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    finish, calls = predictions._finish, []

    def out_of_time_once(submission_id, results, *boxes):
        calls.append(submission_id)
        if len(calls) == 1:
            raise SoftTimeLimitExceeded()
        return finish(submission_id, results, *boxes)

    monkeypatch.setattr(predictions, "_finish", out_of_time_once)
    # Both answers stored at the end, however busy the machine (else the first is stored after its
    # model, the limit strikes there and the second model, not yet run, rightly fails as too slow).
    monkeypatch.setattr(predictions, "STORE_EVERY_SECONDS", {"mlp": 600, "vgg": 600})
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    assert predictions.run_prediction(prediction_id=sub.predictions.order_by("pk").first().pk) == "done"
    assert set(sub.predictions.values_list("status", flat=True)) == {"done"}  # none left running


def test_maps_are_made_in_the_prediction_task_for_uploads_unless_switched_off(student, assignment, run_all):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    run_all(sub)
    maps = [p.saliency for p in sub.predictions.all()]
    assert all(m and m["method"] == "occlusion" and len(m["grid"]) == 8 and len(m["grid"][0]) == 8 for m in maps)
    assert all(isinstance(v, float) for m in maps for row in m["grid"] for v in row)  # numbers, not an image
    assignment.explain_answers = False
    assignment.save()
    off = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(2))
    run_all(off)
    assert [p.status for p in off.predictions.all()] == ["done", "done"]
    assert [p.saliency for p in off.predictions.all()] == [None, None]


def test_a_failed_map_never_fails_the_answer(student, assignment, run_all, monkeypatch):
    import inference.saliency

    def broken(*args, **kwargs):
        raise RuntimeError("map failed")

    monkeypatch.setattr(inference.saliency, "occlusion", broken)
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    run_all(sub)
    assert [(p.status, p.saliency) for p in sub.predictions.all()] == [("done", None), ("done", None)]
