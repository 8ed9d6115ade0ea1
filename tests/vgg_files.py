"""Generated VGG-Face weight files in the published legacy Keras-2 layout.

Small widths keep them tiny; the layout (root `layer_names` including
padding/pooling/dropout/flatten layers, per-layer `weight_names` such as
`conv2d_13/kernel:0`) is what vgg_face_weights.h5 and
race_model_single_batch.h5 use.
"""

from pathlib import Path

from inference.vggface_weights import random_layers, write_layers

TINY = 1 / 16  # 4..32 conv channels, 256-wide fc6/fc7


def keras2_names(layers):
    """Rename layers as Keras 2 did (conv2d_1, conv2d_2, ...), to prove names are not relied on."""
    return [(f"conv2d_{i + 1}", arrays) for i, (_, arrays) in enumerate(layers)]


def write_legacy_file(path: Path, n_classes: int, *, width: float = TINY, seed: int = 0, mutate=None) -> Path:
    layers = keras2_names(random_layers(n_classes, width=width, seed=seed))
    if mutate:
        layers = mutate(layers)
    padding = [f"zero_padding2d_{i}" for i in range(1, 14)] + [f"max_pooling2d_{i}" for i in range(1, 6)]
    write_layers(path, layers, extra_layer_names=padding + ["dropout_1", "dropout_2", "flatten_1", "activation_1"])
    return path
