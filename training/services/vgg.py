"""VGG-Face training workflows: random demo base, head on cached features."""

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext_noop

from inference.artifacts import save_artifact, sha256_file, store_path
from inference.models import BaseWeights, LabelSet, ModelVersion
from inference.precision import serving_precision
from inference.services import latest_version, register_model_version
from inference.vggface import channels
from inference.vggface_weights import random_layers, write_layers

from .. import synthetic
from ..evaluation import held_out_metrics
from ..image_sets import ImageSet, synthetic_image_set
from ..progress import JobCancelled, ProgressFn
from ..trainers.vgg_head import DEFAULT_HEAD_PARAMS, auto_epochs, fit_head, head_as_conv_layers, predict_head
from ..vgg_features import VGG_SPEC, extract_features


def ensure_random_base(*, seed: int = 0, width: float = 1.0) -> BaseWeights:
    """A seeded, randomly initialised VGG-Face base for the demo. NOT pretrained."""
    key = f"vggface-random-seed{seed}" + ("" if width == 1.0 else f"-w{width:g}")
    base = BaseWeights.objects.filter(key=key).first()
    if base and store_path(base.artifact_path).is_file() and sha256_file(store_path(base.artifact_path)) == base.sha256:
        return base
    relative, digest = save_artifact(
        "vggface", key, ".h5", lambda path: write_layers(path, random_layers(1, width=width, seed=seed))
    )
    base, _ = BaseWeights.objects.update_or_create(
        key=key,
        defaults={
            "name": f"VGG-Face architecture, random weights (seed {seed}) — not pretrained",
            "artifact_path": relative,
            "sha256": digest,
            "width": width,
            "pretrained": False,
            "source": f"generated: He-initialised with seed {seed}",
        },
    )
    return base


def train_vgg_head(
    *,
    base: BaseWeights,
    label_set: LabelSet,
    train: ImageSet,
    test: ImageSet,
    key: str,
    name: str,
    data_source: str,
    synthetic_data: bool,
    cut: str = "fc7",
    epochs: int | None = DEFAULT_HEAD_PARAMS["epochs"],
    seed: int = 0,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    created_by=None,
    detector: str = "haar",
) -> ModelVersion:
    """Extract (or reuse) frozen features, train the head, evaluate per group, register.
    `detector`: the face detector of its input spec, used for training and serving alike."""
    labels = label_set.labels
    spec = replace(VGG_SPEC, detector=detector)
    total_images = len(train) + len(test)

    def feature_progress(offset: int):
        def report(done: int, n: int, sec_per_image: float) -> None:
            if progress:
                remaining = total_images - offset - done
                progress(gettext_noop("Extracting features"), (offset + done) / total_images, remaining * sec_per_image)

        return report

    x_train, _ = extract_features(
        base=base,
        image_ids=train.ids,
        load_image=train.load,
        cut=cut,
        progress=feature_progress(0),
        should_stop=should_stop,
        spec=spec,
    )
    x_test, _ = extract_features(
        base=base,
        image_ids=test.ids,
        load_image=test.load,
        cut=cut,
        progress=feature_progress(len(train)),
        should_stop=should_stop,
        spec=spec,
    )
    if len(x_train) < len(train) or len(x_test) < len(test):
        raise JobCancelled(gettext_noop("Cancelled while extracting features; the cache keeps what was done."))

    def on_epoch(epoch: int, total: int) -> None:
        if progress:
            progress(gettext_noop("Training the head"), epoch / total, None)
        if should_stop and should_stop():
            raise JobCancelled(gettext_noop("Cancelled while training the head."))

    epochs = epochs or auto_epochs(len(x_train))
    head = fit_head(
        np.asarray(x_train, dtype=np.float32),
        train.labels,
        len(labels),
        cut=cut,
        fc_width=channels(base.width)[14],
        epochs=epochs,
        seed=seed,
        on_epoch=on_epoch,
    )
    y_pred = predict_head(head, np.asarray(x_test, dtype=np.float32)).argmax(axis=1)
    metrics = held_out_metrics(test.labels, y_pred, labels, test.attributes, synthetic=synthetic_data)
    conv_layers = head_as_conv_layers(head)
    relative, digest = save_artifact("vgg", key, ".h5", lambda path: write_layers(path, conv_layers))
    return register_model_version(
        key=key,
        name=name,
        family=ModelVersion.Family.VGG,
        label_set=label_set,
        artifact_path=relative,
        sha256=digest,
        input_spec=spec.to_dict(),
        composition=train.composition(labels),
        metrics=metrics,
        training_params={
            "width": base.width,
            "cut": cut,
            "feature_precision": serving_precision(),  # what the frozen features were computed in
            "trained_layers": [n for n, _ in conv_layers],
            "epochs": epochs,
            "seed": seed,
            "base": base.key,
            "trained_at": timezone.now().isoformat(),
        },
        base=base,
        data_source=data_source,
        synthetic=synthetic_data,
        pretrained=base.pretrained,
        active=True,
        created_by=created_by,
    )


DEMO_VGG_KEY = "demo-vgg-balanced"


def train_demo_vgg(
    *, per_group: int = 30, test_per_group: int = 12, width: float = 1.0, seed: int = 0, progress=None
) -> ModelVersion:
    """The demo's VGG-Face model: random (seeded) base, head trained on the synthetic set."""
    from .mlp import demo_label_set

    label_set = demo_label_set()
    base = ensure_random_base(seed=seed, width=width)
    train = synthetic_image_set(dict.fromkeys(synthetic.GROUPS, per_group), split="train", seed=seed)
    test = synthetic_image_set(dict.fromkeys(synthetic.GROUPS, test_per_group), split="test", seed=seed)
    return train_vgg_head(
        base=base,
        label_set=label_set,
        train=train,
        test=test,
        key=DEMO_VGG_KEY,
        name="Demo VGG-Face (random base — not pretrained; head on synthetic data)",
        data_source=gettext_noop(
            "Synthetic demo set (generated face-like drawings); VGG-Face base randomly initialised"
        ),
        synthetic_data=True,
        epochs=60,
        seed=seed,
        progress=progress,
    )


def demo_vgg_if_intact() -> ModelVersion | None:
    """The demo VGG-Face model, if registered and its files (artifact and base) verify."""
    mv = latest_version(DEMO_VGG_KEY)
    if mv is None or mv.base is None:
        return None
    for relative, digest in ((mv.artifact_path, mv.sha256), (mv.base.artifact_path, mv.base.sha256)):
        path = store_path(relative)
        if not path.is_file() or sha256_file(path) != digest:
            return None
    return mv
