"""VGG-Face training on a tiny-width network: the real code paths, small arrays."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from inference import registry
from inference.models import ModelVersion
from tests.vgg_files import TINY
from training.models import TrainingJob
from training.services.jobs import start_job

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("fresh_registry")  # models loaded by one test are not cached for the next


@pytest.mark.django_db
def test_head_from_command_registers_a_usable_model(capsys):
    call_command(
        "train_vgg_head",
        "--width",
        str(TINY),
        "--per-group",
        "4",
        "--test-per-group",
        "2",
        "--epochs",
        "3",
        "--key",
        "tiny-head",
    )
    mv = ModelVersion.objects.get(key="tiny-head")
    assert mv.family == "vgg" and mv.base and not mv.base.pretrained and not mv.pretrained
    assert set(mv.metrics["per_group"]) == {"Group A", "Group B", "Group C", "Group D", "Group E"}
    assert all(g["n"] == 2 for g in mv.metrics["per_group"].values())
    assert mv.composition == dict.fromkeys(mv.label_set.labels, 4)
    assert mv.training_params["trained_layers"] == ["head"]
    job = TrainingJob.objects.get()
    assert job.status == "done" and job.result == mv and job.percent == 100
    from io import BytesIO

    from PIL import Image

    from inference.services import predict_photos
    from training import synthetic
    from training.image_sets import synthetic_image_set

    buf = BytesIO()
    Image.fromarray(synthetic.generate_image(0, 1, split="gallery")).save(buf, format="PNG")
    buf.seek(0)
    (outcome,) = predict_photos(model_version=mv, sources=[buf])
    assert outcome.label in mv.label_set.labels
    assert synthetic_image_set({"Group A": 1}, split="train").composition(mv.label_set.labels)["Group A"] == 1


@pytest.mark.django_db
def test_fc6_cut_trains_fc7_and_head():
    call_command(
        "train_vgg_head",
        "--width",
        str(TINY),
        "--per-group",
        "3",
        "--test-per-group",
        "1",
        "--epochs",
        "2",
        "--cut",
        "fc6",
        "--key",
        "tiny-fc6",
    )
    mv = ModelVersion.objects.get(key="tiny-fc6")
    assert mv.training_params["trained_layers"] == ["fc7", "head"]
    registry.get_predictor(mv)  # base (14 layers) + artifact (2 layers) load as one network


@pytest.mark.django_db
def test_feature_cache_resumes_where_it_stopped():
    from training.image_sets import synthetic_image_set
    from training.services.vgg import ensure_random_base
    from training.vgg_features import extract_features

    base = ensure_random_base(width=TINY)
    images = synthetic_image_set({"Group A": 5, "Group C": 5}, split="train", seed=3)
    calls = {"n": 0}

    def stop_after_first_batch():
        calls["n"] += 1
        return calls["n"] > 1

    partial, _ = extract_features(
        base=base, image_ids=images.ids, load_image=images.load, batch_size=4, should_stop=stop_after_first_batch
    )
    assert len(partial) == 4
    loaded = []
    resumed, faces = extract_features(
        base=base, image_ids=images.ids, load_image=lambda i: loaded.append(i) or images.load(i), batch_size=4
    )
    assert len(resumed) == 10 and loaded == list(range(4, 10))  # only the missing images were processed
    fresh, _ = extract_features(base=base, image_ids=images.ids + ["x"], load_image=lambda i: images.load(i % 10))
    # Same features as one uninterrupted run (up to float16 rounding of batch-size-dependent sums).
    np.testing.assert_allclose(
        np.asarray(resumed, np.float32), np.asarray(fresh[:10], np.float32), rtol=1e-2, atol=1e-4
    )


@pytest.mark.django_db(transaction=True)
def test_finetune_killed_mid_run_resumes_from_checkpoint(tmp_path):
    from django.db import connection

    job = start_job(
        kind=TrainingJob.Kind.VGG_FINETUNE,
        params={
            "width": TINY,
            "per_group": 4,
            "test_per_group": 2,
            "epochs": 12,
            "samples_per_epoch": 16,
            "batch_size": 4,
            "key": "tiny-finetune",
        },
        enqueue=False,
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    from urllib.parse import urlparse, urlunparse

    u = urlparse(os.environ["DATABASE_URL"])
    env["DATABASE_URL"] = urlunparse(u._replace(path="/" + connection.settings_dict["NAME"]))
    cmd = [sys.executable, "manage.py", "run_training_job", str(job.pk)]
    state = Path(settings.MODEL_STORE) / "checkpoints" / f"job-{job.pk}" / "state.json"

    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while not (state.exists() and json.loads(state.read_text())["epochs_done"] >= 1):
        assert first.poll() is None, first.stdout.read().decode()[-2000:]
        assert time.time() < deadline, "no checkpoint written in time"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = json.loads(state.read_text())["epochs_done"]
    assert killed_at < 12
    job.refresh_from_db()
    assert job.status == "running"  # as a killed worker leaves it

    second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert f"Resuming from the checkpoint after epoch {killed_at}" in second.stdout
    job.refresh_from_db()
    assert job.status == "done", job.error
    mv = job.result
    assert mv.training_params["resumed_from_epoch"] == killed_at
    assert mv.training_params["trained_layers"] == ["fc6", "fc7", "head"]
    assert json.loads(state.read_text())["epochs_done"] == 12
    registry.get_predictor(mv)
