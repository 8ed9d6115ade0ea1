"""Fine-tune VGG-Face's last layers, everything else frozen, as EmbRACE did:
epochs of N random samples (29 epochs of 16,000 by default), in minibatches.

After every epoch the trainable layers and the optimizer state are written to
a checkpoint folder (atomically, state file last), so a killed job resumes at
the next epoch with the same sample order it would have had.
"""

import json
import os
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import numpy as np

from inference.vggface import FINETUNE_LAST_LAYERS, SplitForward, build_model, weight_layers
from inference.vggface_weights import iter_layers, read_layers, write_layers

from ..evaluation import per_group_metrics
from ..features import preprocess_many
from ..progress import CANCELLED_IN_EPOCH, FINETUNE_EPOCH, JobCancelled
from ..vgg_features import VGG_SPEC

DEFAULT_FINETUNE_PARAMS = {
    "epochs": 29,
    "samples_per_epoch": 16000,
    "batch_size": 32,
    "learning_rate": 1e-4,
    "seed": 0,
}
TOP_LAYERS = ("fc6", "fc7", "head")


def _batch(image_set, indices) -> np.ndarray:
    return preprocess_many((image_set.load(int(i)) for i in indices), VGG_SPEC)[0]


def _save_checkpoint(folder: Path, model, optimizer, epoch: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    top = [(layer.name, layer.get_weights()) for layer in weight_layers(model)[-3:]]
    write_layers(folder / "top.h5.tmp", top)
    np.savez(folder / "optimizer.tmp.npz", *[np.asarray(v) for v in optimizer.variables])
    os.replace(folder / "top.h5.tmp", folder / "top.h5")
    os.replace(folder / "optimizer.tmp.npz", folder / "optimizer.npz")
    (folder / "state.json.tmp").write_text(json.dumps({"epochs_done": epoch}))
    os.replace(folder / "state.json.tmp", folder / "state.json")  # last: the checkpoint is now complete


def _load_checkpoint(folder: Path, model, optimizer) -> int:
    state = folder / "state.json"
    if not state.exists():
        return 0
    for layer, (_, arrays) in zip(weight_layers(model)[-3:], read_layers(folder / "top.h5"), strict=True):
        layer.set_weights(arrays)
    saved = np.load(folder / "optimizer.npz")
    optimizer.build(model.trainable_variables)
    for var, key in zip(optimizer.variables, saved.files, strict=True):
        var.assign(saved[key])
    return int(json.loads(state.read_text())["epochs_done"])


def finetune(
    *,
    base_path: Path,
    width: float,
    n_classes: int,
    train,
    test,
    labels: list[str],
    checkpoint_dir: Path,
    epochs: int = 29,
    samples_per_epoch: int = 16000,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    seed: int = 0,
    progress: Callable[[str, float, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list, dict, dict]:
    """Returns (top layers as legacy-layout pairs, held-out metrics, timing)."""
    import keras

    keras.utils.set_random_seed(seed)
    # Base supplies the 13 convolutions, fc6 and fc7; the head starts random (seeded).
    base_layers = islice(iter_layers(base_path), 15)
    model = build_model(n_classes, width=width, layer_source=base_layers, initialize=True)
    for layer in model.layers[:-FINETUNE_LAST_LAYERS]:
        layer.trainable = False
    optimizer = keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    start_epoch = _load_checkpoint(checkpoint_dir, model, optimizer)
    if start_epoch:
        log(f"Resuming from the checkpoint after epoch {start_epoch} of {epochs}.")

    n = len(train)
    per_epoch = samples_per_epoch  # drawn with replacement only when the set is smaller than an epoch
    steps = int(np.ceil(per_epoch / batch_size))
    epoch_seconds = []
    for epoch in range(start_epoch, epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([seed, epoch])  # the same samples whether or not the job was resumed
        order = rng.choice(n, size=per_epoch, replace=n < per_epoch)
        for step in range(steps):
            if should_stop and should_stop():
                raise JobCancelled(CANCELLED_IN_EPOCH % {"epoch": epoch + 1, "kept": epoch})
            idx = order[step * batch_size : (step + 1) * batch_size]
            model.train_on_batch(_batch(train, idx), train.labels[idx])
            if progress:
                done = (epoch - start_epoch) * steps + step + 1
                total = (epochs - start_epoch) * steps
                elapsed = sum(epoch_seconds) + time.perf_counter() - t0
                stage = FINETUNE_EPOCH % {"epoch": epoch + 1, "epochs": epochs}
                progress(stage, (epoch * steps + step + 1) / (epochs * steps), elapsed / done * (total - done))
        _save_checkpoint(checkpoint_dir, model, optimizer, epoch + 1)
        epoch_seconds.append(time.perf_counter() - t0)
        log(f"Epoch {epoch + 1}/{epochs}: {epoch_seconds[-1]:.1f} s")

    forward = SplitForward(model)  # the same forward pass the serving workers use
    predicted = []
    for start in range(0, len(test), batch_size):
        idx = np.arange(start, min(start + batch_size, len(test)))
        predicted.append(forward(_batch(test, idx)).argmax(axis=1))
    metrics = per_group_metrics(test.labels, np.concatenate(predicted), labels)
    top = [(name, layer.get_weights()) for name, layer in zip(TOP_LAYERS, weight_layers(model)[-3:], strict=True)]
    timing = {
        "resumed_from_epoch": start_epoch,
        "seconds_per_epoch": round(float(np.mean(epoch_seconds)), 2) if epoch_seconds else None,
    }
    return top, metrics, timing
