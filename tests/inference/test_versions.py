"""Model versions never change: registering under a key again adds the next version, and the
answers and experiments of the earlier version keep it."""

import pytest
from django.urls import reverse

from classroom.models import Prediction
from classroom.services.classes import create_assignment
from classroom.services.submissions import submit_photo
from inference.models import ModelVersion
from inference.services import latest_version, register_model_version
from tests.helpers import synthetic_upload


def again(mv: ModelVersion, **changes) -> ModelVersion:
    fields = {
        f.name: getattr(mv, f.name)
        for f in mv._meta.concrete_fields
        if f.name not in ("id", "key", "lineage", "version", "created_at")
    }
    return register_model_version(key=mv.lineage, **{**fields, **changes})


def test_retraining_adds_a_version_and_old_answers_keep_the_first(client, classroom, student, demo_models):
    first = demo_models[0]
    old_experiment = create_assignment(
        classroom=classroom, title="Before", instructions="", model_versions=[first], ask_expected=False
    )
    submission = submit_photo(assignment=old_experiment, student=student, upload=synthetic_upload())
    Prediction.objects.filter(submission=submission).update(status="done", label="Group A")
    artifact, digest = first.artifact_path, first.sha256

    second = again(first, artifact_path="mlp/retrained.skops", sha256="0" * 64, name="Retrained")
    first.refresh_from_db()
    assert (second.key, second.lineage, second.version) == (f"{first.key}-v2", first.key, 2)
    assert (first.artifact_path, first.sha256, first.name) == (artifact, digest, "Demo MLP (balanced, synthetic)")
    assert first.active is False and second.active is True
    assert latest_version(first.key) == second
    assert list(old_experiment.model_versions.all()) == [first]
    assert Prediction.objects.get(submission=submission).model_version == first
    third = again(second)
    assert third.key == f"{first.key}-v3" and latest_version(first.key) == third

    client.force_login(classroom.teacher)
    card = client.get(reverse("model_card", args=[first.key])).content.decode()
    assert 'id="versions"' in card and "Version 1" in card and "A newer version exists" in card
    assert f'href="/models/{third.key}/">version 3</a>' in card
    newest = client.get(reverse("model_card", args=[third.key])).content.decode()
    assert "Version 3" in newest and "A newer version exists" not in newest


def test_a_key_taken_outside_the_lineage_is_refused(demo_models):
    first = demo_models[0]
    fields = {
        f.name: getattr(first, f.name)
        for f in first._meta.concrete_fields
        if f.name not in ("id", "key", "lineage", "version", "created_at")
    }
    register_model_version(key=f"{first.key}-v2", **fields)  # someone chose this key by hand
    with pytest.raises(ValueError, match="exists outside this lineage"):
        register_model_version(key=first.key, **fields)
