"""Importing VGG-Face weight files the user already has. Nothing is downloaded.

Every layer's shape is checked, and every array read once (so a truncated
file is caught), before anything is copied into the model store; the copy
itself is atomic. Re-importing the same file returns what is registered.
"""

import hashlib
import shutil
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from . import label_sets
from .artifacts import delete_artifact, save_artifact
from .models import BaseWeights, ModelVersion
from .preprocessing import VGG_SPEC
from .services import ensure_label_set, register_model_version
from .vggface import IDENTITY_CLASSES
from .vggface_weights import WeightsFileError, check_shapes, iter_layers, layer_shapes


def _validate(path: Path, n_classes: int | None) -> float:
    width, _ = check_shapes(layer_shapes(path), n_classes=n_classes)
    for _ in iter_layers(path):  # read every array: truncation shows up here, not in a worker
        pass
    return width


def _copy(path: Path, folder: str) -> tuple[str, str]:
    return save_artifact(folder, slugify(path.stem)[:40] or "weights", ".h5", lambda tmp: shutil.copyfile(path, tmp))


@contextmanager
def _kept_only_if_registered(relative: str):
    """Remove the copied file again if registering it fails (unless an earlier import uses it)."""
    try:
        yield
    except BaseException:
        in_use = (
            BaseWeights.objects.filter(artifact_path=relative).exists()
            or ModelVersion.objects.filter(artifact_path=relative).exists()
        )
        if not in_use:
            delete_artifact(relative)
        raise


def import_vggface_weights(*, path: Path, key: str = "vggface-pretrained", name: str = "") -> BaseWeights:
    """The public 2622-identity VGG-Face weights: registered as a pretrained base."""
    path = Path(path)
    width = _validate(path, n_classes=None)
    heads = layer_shapes(path)[-1][1][0][-1]
    if width == 1.0 and heads != IDENTITY_CLASSES:
        raise WeightsFileError(
            f"{path.name} has a {heads}-class head, not VGG-Face's {IDENTITY_CLASSES} identities. "
            "If it is a race model, use import_race_model with --labels."
        )
    relative, digest = _copy(path, "vggface")
    with _kept_only_if_registered(relative), transaction.atomic():
        base, _ = BaseWeights.objects.update_or_create(
            key=key,
            defaults={
                "name": name or f"VGG-Face pretrained ({path.name})",
                "artifact_path": relative,
                "sha256": digest,
                "width": width,
                "pretrained": True,
                "source": path.name,
            },
        )
    return base


def import_race_model(*, path: Path, labels: list[str], key: str = "", name: str = "") -> ModelVersion:
    """A complete race model (all 16 layers), labels in the file's class order. Labels that are a
    known dataset's groups (the deepface race model's six are FairFace's) attach the model to that
    dataset's label set; any other labels get a label set of their own."""
    path = Path(path)
    labels = [label.strip() for label in labels if label.strip()]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise WeightsFileError("Give at least two distinct labels, in the file's class order.")
    width = _validate(path, n_classes=len(labels))
    label_hash = hashlib.sha256("\n".join(labels).encode()).hexdigest()[:8]
    relative, digest = _copy(path, "vgg")
    known = label_sets.match(labels)
    with _kept_only_if_registered(relative), transaction.atomic():
        if known:
            label_set = label_sets.label_set_for(known[0])
            outputs = {"output_labels": known[1]}  # the file's class order, in the set's spelling
        else:
            label_set = ensure_label_set(
                key=f"imported-{len(labels)}-{label_hash}",
                name=f"Imported race labels ({len(labels)}): {', '.join(labels)}",
                labels=labels,
                synthetic=False,
            )
            outputs = {}
        mv = register_model_version(
            key=key or f"vgg-race-{digest[:8]}",
            name=name or f"VGG-Face race model ({path.name})",
            family=ModelVersion.Family.VGG,
            label_set=label_set,
            artifact_path=relative,
            sha256=digest,
            input_spec=VGG_SPEC.to_dict(),
            training_params={"width": width, "imported_from": path.name, **outputs},
            data_source=f"Imported weights file {path.name}; training data as documented by its authors",
            synthetic=False,
            pretrained=True,
            active=True,
        )
    return mv
