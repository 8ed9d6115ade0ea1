"""Every way of starting a training job checks the same rules (training.services.jobs.check_params): the
page's form, the commands and the API alike; the VGG-Face commands used to skip them."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training.composition import CompositionError
from training.importers.synthetic import import_synthetic
from training.models import TrainingJob
from training.services.jobs import start_job


def test_an_unachievable_mix_or_held_out_split_is_refused_before_a_job_exists(dataset):
    too_many = {"kind": "balanced", "per_group": 50}
    with pytest.raises(CompositionError, match="Not achievable"):
        start_job(kind=TrainingJob.Kind.MLP, params={"dataset": dataset.key, "mix": too_many}, enqueue=False)
    dataset.images.filter(split="test").delete()
    with pytest.raises(CompositionError, match="no held-out images"):
        start_job(
            kind=TrainingJob.Kind.VGG_HEAD, params={"dataset": dataset.key, "mix": {"kind": "balanced"}}, enqueue=False
        )
    with pytest.raises(CompositionError, match="No dataset 'nope'"):
        start_job(kind=TrainingJob.Kind.MLP, params={"dataset": "nope", "mix": {"kind": "balanced"}}, enqueue=False)
    assert not TrainingJob.objects.exists()
    import_synthetic(train_per_group=6, test_per_group=2)  # the held-out split back
    ok = start_job(
        kind=TrainingJob.Kind.MLP, params={"dataset": dataset.key, "mix": {"kind": "balanced"}}, enqueue=False
    )
    assert ok.status == "queued"


def test_the_vgg_head_command_says_what_is_achievable(dataset):
    with pytest.raises(CommandError, match="balanced allows at most 10 per group"):
        call_command("train_vgg_head", dataset=dataset.key, mix='{"kind": "balanced", "per_group": 50}')
    assert not TrainingJob.objects.exists()
