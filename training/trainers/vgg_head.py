"""A race head trained on cached VGG-Face features.

On fc7 features the head is one softmax layer: exactly VGG-Face's
Conv2D(n, 1x1) head, so its weights drop into the full network unchanged. On
fc6 features fc7 is trained too (Dense 4096 + ReLU, then the head).
"""

from collections.abc import Callable

import numpy as np

DEFAULT_HEAD_PARAMS = {"epochs": None, "batch_size": 256, "learning_rate": 1e-3, "seed": 0}


def auto_epochs(n: int, batch_size: int = 256) -> int:
    """Enough passes for ~1,500 optimiser steps, between 3 and 20: small sets get
    many epochs, FairFace-sized ones (86,000 features) a few."""
    steps_per_epoch = max(1, -(-n // batch_size))
    return max(3, min(20, -(-1500 // steps_per_epoch)))


def fit_head(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    cut: str = "fc7",
    fc_width: int = 4096,
    epochs: int | None = None,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
    on_epoch: Callable[[int, int], None] | None = None,
):
    """Train the head; returns a Keras model whose Dense layers map onto fc7/head."""
    import keras

    keras.utils.set_random_seed(seed)
    epochs = epochs or auto_epochs(len(features), batch_size)
    layers = [keras.Input((features.shape[1],))]
    if cut == "fc6":
        layers += [keras.layers.Dense(fc_width, activation="relu", name="fc7"), keras.layers.Dropout(0.5)]
    layers += [keras.layers.Dense(n_classes, activation="softmax", name="head")]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = []
    if on_epoch:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, epochs)))
    # Balanced class weights would hide the lesson: the mix of the data is the point.
    model.fit(features, labels, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, callbacks=callbacks)
    return model


def predict_head(model, features: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    return np.asarray(model.predict(features, batch_size=batch_size, verbose=0))


def head_as_conv_layers(model) -> list[tuple[str, list[np.ndarray]]]:
    """The trained Dense layers as 1x1-convolution weights (legacy layout order)."""
    out = []
    for layer in model.layers:
        if layer.__class__.__name__ == "Dense":
            kernel, bias = layer.get_weights()
            out.append((layer.name, [kernel.reshape(1, 1, *kernel.shape).astype(np.float32), bias.astype(np.float32)]))
    return out
