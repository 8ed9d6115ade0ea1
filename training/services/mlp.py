"""Training workflows. The demo pair reproduces EthiTech's lesson on
synthetic data: same amount of training data, different mix of groups."""

import time
from dataclasses import dataclass

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext_noop

from inference.artifacts import save_artifact, sha256_file, store_path
from inference.models import ModelVersion
from inference.preprocessing import InputSpec
from inference.services import ensure_label_set, latest_version, register_model_version
from inference.sklearn_files import SUFFIX as SKOPS

from .. import composition, synthetic
from ..evaluation import held_out_metrics
from ..features import preprocess_many
from ..image_sets import synthetic_image_set
from ..trainers.mlp import DEFAULT_PARAMS, fit_mlp, save_mlp

DEMO_SPEC = InputSpec(size=32, mode="rgb")
DEMO_KEYS = ("demo-mlp-balanced", "demo-mlp-unbalanced")


@dataclass
class DemoPairReport:
    balanced: ModelVersion
    unbalanced: ModelVersion
    seconds: float


def demo_label_set():
    return ensure_label_set(
        key=synthetic.LABEL_SET_KEY,
        name=synthetic.LABEL_SET_NAME,
        labels=synthetic.GROUPS,
        synthetic=True,
        description="Generated face-like drawings in five made-up groups. Not people, not races.",
    )


def _synthetic_inputs(counts: dict[str, int], *, split: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for gi, group in enumerate(synthetic.GROUPS):
        n = counts.get(group, 0)
        if n:
            x, _ = preprocess_many(synthetic.generate_group(gi, n, split=split, seed=seed), DEMO_SPEC)
            xs.append(x)
            ys.append(np.full(n, gi))
    return np.concatenate(xs), np.concatenate(ys)


def _take(x: np.ndarray, y: np.ndarray, counts: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The first counts[g] rows of each group (pools are generated in order)."""
    idx = np.concatenate([np.flatnonzero(y == gi)[: counts[g]] for gi, g in enumerate(synthetic.GROUPS)])
    return x[idx], y[idx]


def train_demo_mlp_pair(
    *, total: int = 3000, test_per_group: int = 200, majority: str = "Group A", k: int = 10, seed: int = 0
) -> DemoPairReport:
    """Train and register the balanced and the k-times-one-group MLP on synthetic data."""
    started = time.perf_counter()
    groups = synthetic.GROUPS
    label_set = demo_label_set()
    mixes = {
        "balanced": composition.balanced(groups, total),
        "unbalanced": composition.k_times(groups, total, majority=majority, k=k),
    }
    pool = {g: max(m[g] for m in mixes.values()) for g in groups}
    x_pool, y_pool = _synthetic_inputs(pool, split="train", seed=seed)
    x_test, y_test = _synthetic_inputs({g: test_per_group for g in groups}, split="test", seed=seed)
    test_attributes = synthetic_image_set(dict.fromkeys(groups, test_per_group), split="test", seed=seed).attributes

    registered = {}
    for kind, counts in mixes.items():
        x, y = _take(x_pool, y_pool, counts)
        title = "balanced" if kind == "balanced" else f"{k}x {majority}"
        registered[kind] = train_and_register_mlp(
            x=x,
            y=y,
            x_test=x_test,
            y_test=y_test,
            label_set=label_set,
            spec=DEMO_SPEC,
            key=f"demo-mlp-{kind}",
            name=f"Demo MLP ({title}, synthetic)",
            composition=counts,
            data_source=gettext_noop("Synthetic demo set (generated face-like drawings, not real people)"),
            synthetic_data=True,
            seed=seed,
            test_attributes=test_attributes,
        )
    return DemoPairReport(registered["balanced"], registered["unbalanced"], time.perf_counter() - started)


def train_and_register_mlp(
    *,
    x,
    y,
    x_test,
    y_test,
    label_set,
    spec: InputSpec,
    key: str,
    name: str,
    composition: dict,
    data_source: str,
    synthetic_data: bool,
    seed: int = 0,
    created_by=None,
    params: dict | None = None,
    scope: str | None = None,
    test_attributes: dict | None = None,
) -> ModelVersion:
    """Fit an MLP, evaluate it per group (and, given the held-out rows' attributes, per group x
    attribute) on the held-out rows, save it and register it."""
    started = time.perf_counter()
    model = fit_mlp(x, y, seed=seed, **(params or {}))
    fit_seconds = time.perf_counter() - started
    y_pred = model.predict(x_test)
    metrics = held_out_metrics(y_test, y_pred, label_set.labels, test_attributes, synthetic=synthetic_data)
    relative, digest = save_artifact("mlp", key, SKOPS, lambda path: save_mlp(model, path))
    return register_model_version(
        key=key,
        name=name,
        family=ModelVersion.Family.MLP,
        label_set=label_set,
        artifact_path=relative,
        sha256=digest,
        input_spec=spec.to_dict(),
        composition=composition,
        metrics=metrics,
        training_params={
            **DEFAULT_PARAMS,
            **(params or {}),
            "seed": seed,
            "fit_seconds": round(fit_seconds, 1),
            "trained_images": int(len(y)),
            "trained_at": timezone.now().isoformat(),
        },
        data_source=data_source,
        synthetic=synthetic_data,
        pretrained=False,
        active=True,
        created_by=created_by,
        **({"scope": scope} if scope else {}),
    )


def demo_pair_if_intact() -> list[ModelVersion] | None:
    """Both demo models, if registered and their files match their checksums."""
    models = [m for m in map(latest_version, DEMO_KEYS) if m is not None]
    if len(models) != len(DEMO_KEYS):
        return None
    for m in models:
        path = store_path(m.artifact_path)
        if not path.is_file() or sha256_file(path) != m.sha256:
            return None
    return models


def accuracy_table(models: list[ModelVersion]) -> str:
    """Per-group held-out accuracy of several models side by side, as text."""
    labels = models[0].label_set.labels
    width = max(24, *(len(m.key) + 2 for m in models))
    header = f"{'group':<16}" + "".join(f"{m.key:>{width}}" for m in models)
    lines = [header, "-" * len(header)]
    for label in labels:
        cells = []
        for m in models:
            g = m.metrics["per_group"][label]
            acc = "   n/a" if g["accuracy"] is None else f"{g['accuracy']:>6.1%}"
            cells.append(f"{acc:>{width - 9}} (n={m.composition.get(label, 0):>5})")
        lines.append(f"{label:<16}" + "".join(cells))
    lines.append(f"{'overall':<16}" + "".join(f"{m.metrics['overall_accuracy']:>{width}.1%}" for m in models))
    return "\n".join(lines)
