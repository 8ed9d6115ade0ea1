"""The student lab: small MLPs fitted in seconds on a dataset's preprocessed pool.

The pool (at most LAB_POOL_PER_GROUP training and LAB_TEST_PER_GROUP held-out images
per group) is preprocessed once per dataset into a memory-mapped array; a lab fit only
indexes it, so it reads no image file. Mixes are planned against the pool, so what the
page says is achievable is what the worker can draw.

The planning half is imported by the web process: NumPy and scikit-learn are imported
inside the functions that fit.
"""

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from .. import composition
from ..models import Dataset

LAB_INPUT = {"size": 32, "mode": "rgb"}  # an InputSpec's dict: preprocessing pulls in OpenCV
# Sized for seconds on two cores (hundreds of images, 3,072 inputs), not for the best accuracy.
LAB_MLP_PARAMS = {
    "hidden_layer_sizes": (32,),
    "max_iter": 60,
    "batch_size": 64,
    "learning_rate_init": 3e-3,
    "standardize": True,
}
LAB_MIX_KINDS = ("balanced", "k_times", "counts")


def pool_sizes(dataset: Dataset, split: str = "train") -> dict[str, int]:
    """Images per group in the lab's pool of one split (label-set order)."""
    cap = settings.LAB_POOL_PER_GROUP if split == "train" else settings.LAB_TEST_PER_GROUP
    return {g: min(n, cap) for g, n in composition.available(dataset, split).items()}


def lab_mix(kind: str, groups: list[str], images: int, *, majority: str = "", k: int = 1, counts=None) -> dict:
    """A student's choice as a mix of about `images` training images in all."""
    if kind == "balanced":
        return {"kind": "balanced", "per_group": max(1, images // len(groups))}
    if kind == "k_times":
        per_minority = max(1, images // (k + len(groups) - 1))
        return {"kind": "k_times", "majority": majority, "k": k, "per_minority": per_minority}
    if kind == "counts":
        return {"kind": "counts", "counts": {g: int((counts or {}).get(g, 0)) for g in groups}}
    raise composition.CompositionError(gettext("Unknown mix %(kind)r.") % {"kind": kind})


def plan_lab_mix(dataset: Dataset, mix: dict, *, cap: int) -> dict:
    """composition.plan against the lab's pool, with the lab's cap on images per model. Never
    shrinks a request silently: an unachievable mix says what the largest achievable one is."""
    pool = pool_sizes(dataset)
    p = composition.plan(mix, pool)
    total = sum(p["counts"].values())
    if mix["kind"] == "counts" and total > cap:
        message = gettext("At most %(cap)s images per model: this mix has %(total)s.") % {
            "cap": composition.number(cap),
            "total": composition.number(total),
        }
        return {**p, "achievable": False, "message": message}
    if not total:
        return {**p, "achievable": False, "message": gettext("Give at least one group some images.")}
    if not p["achievable"] and mix["kind"] in ("balanced", "k_times"):
        # The largest version of the same mix that the pool can supply.
        largest = composition.plan({k: v for k, v in mix.items() if k not in ("per_group", "per_minority")}, pool)
        if sum(largest["counts"].values()):
            p["message"] = gettext(
                "Not enough images for that: the largest version of this mix has %(total)s images (%(counts)s)."
            ) % {
                "total": composition.number(sum(largest["counts"].values())),
                "counts": composition.describe(largest["counts"]),
            }
            p["largest"] = largest["counts"]
    return p


def _pool_arrays(dataset: Dataset, split: str):
    """(inputs, labels) of the pool: preprocessed once, then read from the memory-mapped cache."""
    import numpy as np

    from inference.preprocessing import InputSpec

    from ..datasets import image_set, preprocessed

    sizes = pool_sizes(dataset, split)
    ids, _ = composition.sample(dataset, {"kind": "counts", "counts": sizes}, split=split, seed=0)
    images = image_set(dataset, ids)
    return np.asarray(preprocessed(images, InputSpec.from_dict(LAB_INPUT))), images.labels


def prepare_pool(dataset: Dataset) -> dict[str, int]:
    """Preprocess the pool ahead of the lesson (the teacher switching the lab on queues this)."""
    x, _ = _pool_arrays(dataset, "train")
    x_test, _ = _pool_arrays(dataset, "test")
    return {"train": len(x), "test": len(x_test)}


def _draw(y, counts: list[int], seed: int):
    """Row indices: counts[g] rows of each group g, chosen at random but repeatably."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = [rng.permutation(np.flatnonzero(y == g))[:n] for g, n in enumerate(counts) if n]
    return np.sort(np.concatenate(rows))


def train_lab_model(*, dataset: Dataset, mix: dict, cap: int, key: str, name: str, created_by, seed: int, progress):
    """Fit, evaluate per group on the held-out pool, register as a class model."""
    from inference.models import ModelVersion
    from inference.preprocessing import InputSpec

    from .mlp import train_and_register_mlp

    p = plan_lab_mix(dataset, mix, cap=cap)
    if not p["achievable"]:
        raise composition.CompositionError(p["message"])
    progress(gettext_noop("Reading the prepared images"), 0.1, None)
    x_pool, y_pool = _pool_arrays(dataset, "train")
    x_test, y_test = _pool_arrays(dataset, "test")
    labels = list(dataset.label_set.labels)
    rows = _draw(y_pool, [p["counts"][g] for g in labels], seed)
    progress(gettext_noop("Training"), 0.3, None)
    return train_and_register_mlp(
        x=x_pool[rows],
        y=y_pool[rows],
        x_test=x_test,
        y_test=y_test,
        label_set=dataset.label_set,
        spec=InputSpec.from_dict(LAB_INPUT),
        key=key,
        name=name,
        composition=p["counts"],
        data_source=dataset.name
        + (" (synthetic, not real people)" if dataset.synthetic and "synthetic" not in dataset.name.lower() else ""),
        synthetic_data=dataset.synthetic,
        seed=seed,
        created_by=created_by,
        params={**LAB_MLP_PARAMS, "batch_size": min(LAB_MLP_PARAMS["batch_size"], len(rows))},
        scope=ModelVersion.Scope.CLASS,
    )
