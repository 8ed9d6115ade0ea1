"""Workers load the models that open experiments use when they start, not on the first photo."""

from datetime import timedelta

import pytest
from django.utils import timezone

from classroom import selectors
from classroom.services.classes import create_assignment
from classroom.services.worker_start import warm_up_worker
from inference import registry
from inference.models import ModelVersion

pytestmark = pytest.mark.usefixtures("fresh_registry")  # models loaded by one test are not cached for the next


def test_models_in_use_are_those_of_open_experiments(classroom, demo_models):
    balanced, unbalanced = demo_models
    create_assignment(classroom=classroom, title="Open", instructions="", model_versions=[balanced], ask_expected=False)
    closed = create_assignment(
        classroom=classroom, title="Over", instructions="", model_versions=[unbalanced], ask_expected=False
    )
    closed.due_at = timezone.now() - timedelta(days=1)
    closed.save()
    assert list(selectors.models_in_use({"mlp"})) == [balanced]
    assert list(selectors.models_in_use({"vgg"})) == []


def test_warm_up_loads_the_queue_models_and_reports_a_broken_one(classroom, demo_models):
    balanced, unbalanced = demo_models
    create_assignment(
        classroom=classroom, title="Both", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    unbalanced.sha256 = "0" * 64  # altered after registration
    unbalanced.save()
    assert warm_up_worker({"vgg", "maintenance"}) == []  # nothing of these families in use
    assert registry._cache == {}
    problems = warm_up_worker({"mlp", "maintenance"})
    assert len(problems) == 1 and problems[0].startswith(unbalanced.key) and "checksum" in problems[0]
    assert set(registry._cache) == {(balanced.pk, balanced.sha256, "")}


def test_a_worker_keeps_at_most_its_share_of_large_vgg_models(db, settings, monkeypatch):
    """Large VGG-Face models (own fc6): a process holds MODELS_PER_WORKER["vgg"] and swaps in turn."""
    from tests.tiny_vgg import tiny_vgg_model

    monkeypatch.setattr(registry, "LARGE_ARTIFACT_BYTES", 0)  # the tiny test models count as large
    settings.MODELS_PER_WORKER = {"vgg": 1}
    first, second = tiny_vgg_model("tiny-vgg-1"), tiny_vgg_model("tiny-vgg-2")
    loaded, problems = registry.warm_up([first, second])
    assert (loaded, problems) == (["tiny-vgg-1"], [])  # the second would only evict the first
    assert [key[0] for key in registry._cache] == [first.pk]
    registry.get_predictor(second)
    assert [key[0] for key in registry._cache] == [second.pk]
    settings.MODELS_PER_WORKER = {"vgg": 2}
    registry.get_predictor(first)
    assert [key[0] for key in registry._cache] == [second.pk, first.pk]


def test_heads_on_one_base_share_its_layers_and_are_not_counted(db, settings):
    from tests.tiny_vgg import tiny_vgg_model

    settings.MODELS_PER_WORKER = {"vgg": 1}
    first, second = tiny_vgg_model("tiny-vgg-1"), tiny_vgg_model("tiny-vgg-2")
    loaded, _ = registry.warm_up([first, second])
    assert loaded == ["tiny-vgg-1", "tiny-vgg-2"]
    a, b = registry.get_predictor(first), registry.get_predictor(second)
    assert a.trunk is b.trunk and a.tail is not b.tail


def test_a_damaged_model_file_evicts_nothing(db, settings, monkeypatch):
    from inference.predictors import ModelArtifactError
    from tests.tiny_vgg import tiny_vgg_model

    monkeypatch.setattr(registry, "LARGE_ARTIFACT_BYTES", 0)  # the tiny test models count as large
    settings.MODELS_PER_WORKER = {"vgg": 1}
    good, damaged = tiny_vgg_model("tiny-vgg-1"), tiny_vgg_model("tiny-vgg-2")
    registry.get_predictor(good)
    ModelVersion.objects.filter(pk=damaged.pk).update(sha256="0" * 64)
    damaged.refresh_from_db()
    with pytest.raises(ModelArtifactError, match="checksum"):
        registry.get_predictor(damaged)
    assert [key[0] for key in registry._cache] == [good.pk]  # still loaded


def test_a_retrained_model_is_a_new_version_and_both_versions_answer(db):
    from tests.tiny_vgg import tiny_vgg_model

    first = tiny_vgg_model("tiny-vgg-1")
    registry.get_predictor(first)
    again = tiny_vgg_model("tiny-vgg-1", epochs=3)  # trained again under the same key: a new version
    assert (again.key, again.version, again.lineage) == ("tiny-vgg-1-v2", 2, first.key)
    assert again.pk != first.pk and again.sha256 != first.sha256
    registry.get_predictor(again)
    # The first version still answers its experiments' tests; the cache holds each version once.
    assert list(registry._cache) == [
        (first.pk, first.sha256, first.base.sha256),
        (again.pk, again.sha256, again.base.sha256),
    ]


def test_only_a_vgg_worker_serving_int8_prepares_before_its_pool_starts(db, monkeypatch):
    """tests/integration/test_int8_worker_start.py runs it in a real worker."""
    from classroom.services.worker_start import prepare_worker
    from inference import int8_prepare, precision

    asked = []
    monkeypatch.setattr(int8_prepare, "prepare_in_child", asked.append)
    monkeypatch.setattr(precision, "decision", lambda: precision.Choice("int8", "int8", "test"))
    assert prepare_worker({"mlp", "maintenance"}) is False
    monkeypatch.setattr(precision, "decision", lambda: precision.Choice("bfloat16", "bfloat16", "test"))
    assert prepare_worker({"vgg"}) is False
    assert asked == []
    monkeypatch.setattr(precision, "decision", lambda: precision.Choice("int8", "int8", "test"))
    assert prepare_worker({"vgg"}) is True and asked == [[]]  # no VGG-Face model in an open experiment
