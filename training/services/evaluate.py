"""Evaluate any registered model (trained here or imported) on a dataset's held-out split, and
store the per-group numbers its card shows, with the dataset they come from."""

import time

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inference.models import ModelVersion
from inference.preprocessing import InputSpec

from ..datasets import held_out_set
from ..evaluation import held_out_metrics
from ..features import preprocess_many
from ..models import Dataset
from ..progress import JobCancelled

BATCH = 32


def add_face_found(metrics: dict, labels: list[str], y_true, found) -> None:
    """Each group's share of held-out images in which the model's detector found a face."""
    for i, label in enumerate(labels):
        mine = np.asarray(found)[np.asarray(y_true) == i]
        metrics["per_group"][label]["face_found"] = round(float(mine.mean()), 4) if len(mine) else None


def record_face_found(model: ModelVersion, y_true, found) -> None:
    add_face_found(model.metrics, list(model.label_set.labels), y_true, found)
    model.save(update_fields=["metrics"])


class EvaluationError(ValueError):
    """The model cannot be evaluated on that dataset; the message says why."""


def check(model: ModelVersion, dataset: Dataset) -> None:
    if dataset.label_set_id != model.label_set_id:
        raise EvaluationError(
            gettext(
                "%(model)s answers with the groups of %(model_groups)s; %(dataset)s has %(dataset_groups)s. "
                "Choose a dataset with the model's groups."
            )
            % {
                "model": model.name,
                "model_groups": model.label_set.name,
                "dataset": dataset.name,
                "dataset_groups": dataset.label_set.name,
            }
        )
    if not dataset.images.filter(split="test").exists():
        raise EvaluationError(gettext("%(dataset)s has no held-out images to evaluate on.") % {"dataset": dataset.name})


def evaluate_model(
    *,
    model: ModelVersion,
    dataset: Dataset,
    per_group: int | None = None,
    seed: int = 0,
    progress=None,
    should_stop=None,
) -> ModelVersion:
    """Answer every held-out image (at most `per_group` of each group) through the same
    preprocessing as training and serving; store the card's metrics, face-found rate per group
    included."""
    from inference.registry import get_predictor
    from inference.services import in_label_set_order

    check(model, dataset)
    images = held_out_set(dataset, per_group=per_group, seed=seed)
    spec = InputSpec.from_dict(model.input_spec)
    predictor = get_predictor(model)
    answers, found = [], []
    started = time.perf_counter()
    for start in range(0, len(images), BATCH):
        if should_stop is not None and should_stop():
            raise JobCancelled(gettext_noop("Cancelled while answering the held-out images."))
        x, batch_found = preprocess_many((images.load(i) for i in range(start, min(len(images), start + BATCH))), spec)
        probs = in_label_set_order(predictor.predict_proba(x), model)
        answers.append(probs.argmax(axis=1))
        found += list(batch_found)
        done = start + len(x)
        if progress is not None:
            per_image = (time.perf_counter() - started) / done
            progress(
                gettext_noop("Answering the held-out images"), done / len(images), per_image * (len(images) - done)
            )
    labels = list(model.label_set.labels)
    y_pred = np.concatenate(answers)
    metrics = held_out_metrics(images.labels, y_pred, labels, images.attributes, synthetic=dataset.synthetic)
    add_face_found(metrics, labels, images.labels, np.asarray(found))
    metrics["evaluated_on"] = {
        "dataset": dataset.key,
        "name": dataset.name,
        "synthetic": dataset.synthetic,
        "images": len(images),
        "at": timezone.now().isoformat(),
        "precision": predictor.precision,  # VGG-Face: float32 or bfloat16; empty for the MLPs
    }
    model.metrics = metrics
    model.save(update_fields=["metrics"])
    return model
