"""The VGG-Face architecture (Keras, TensorFlow backend), for any label set.

Imported only by workers and training: building it imports TensorFlow.

13 convolutions in 5 blocks (64,64 / 128,128 / 256x3 / 512x3 / 512x3) with
max-pooling after each block, fc6 as a 7x7 convolution, fc7 as a 1x1
convolution, dropouts, and a head Conv2D(n_classes, 1x1) -> Flatten ->
Softmax on the fc7 dropout. `width` scales every channel count; 1.0 is the
published network. Smaller widths exist only so tests can run the same code
on small generated weight files.
"""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

INPUT_SIZE = 224
BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
FC = 4096
IDENTITY_CLASSES = 2622  # the public VGG-Face weights' own head
FEATURE_LAYERS = ("fc6", "fc7")
# Layers trained by the fine-tune, counted from the output as EmbRACE did:
# fc6, dropout, fc7, dropout, head, flatten, softmax.
FINETUNE_LAST_LAYERS = 7


def channels(width: float) -> list[int]:
    """Output channels of every weight-holding layer before the head, in order."""
    out = []
    for filters, repeats in BLOCKS:
        out += [max(1, int(filters * width))] * repeats
    return out + [max(1, int(FC * width))] * 2


def expected_shapes(width: float, n_classes: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(kernel, bias) shapes of the 16 weight-holding layers, channels last."""
    shapes, prev = [], 3
    chans = channels(width)
    for c in chans[:13]:
        shapes.append(((3, 3, prev, c), (c,)))
        prev = c
    fc = chans[13]
    shapes.append(((7, 7, prev, fc), (fc,)))
    shapes.append(((1, 1, fc, fc), (fc,)))
    shapes.append(((1, 1, fc, n_classes), (n_classes,)))
    return shapes


def build_model(
    n_classes: int, *, width: float = 1.0, layer_source=None, initialize: bool = False, precision: str = "float32"
):
    """The full network with a softmax head of n_classes.

    `layer_source` yields (name, [kernel, bias]) for the weight layers in
    order; each variable is created directly from its array, so a 550 MB
    file is never held as zeros + a copy + the file's arrays at once. Layers
    beyond what the source yields start as zeros (or random if `initialize`).
    `precision` (inference.precision): what the layers between the first convolution and the
    head keep their weights and compute in; those three are always float32.
    """
    return build_part(
        0, WEIGHT_LAYERS, n_classes, width=width, layer_source=layer_source, initialize=initialize, precision=precision
    )


WEIGHT_LAYERS = 16  # 13 convolutions, fc6, fc7, head
FC6, HEAD = 13, 15  # their positions among the weight layers


def part_input_shape(first: int, width: float) -> tuple[int, ...]:
    """The input of a part starting at weight layer `first` (0, FC6 or HEAD)."""
    chans = channels(width)
    shapes = {0: (INPUT_SIZE, INPUT_SIZE, 3), FC6: (7, 7, chans[12]), HEAD: (1, 1, chans[14])}
    if first not in shapes:
        raise ValueError(f"A part of VGG-Face starts at the image, fc6 or the head, not at weight layer {first}.")
    return shapes[first]


def build_part(
    first: int,
    last: int,
    n_classes: int,
    *,
    width: float = 1.0,
    layer_source=None,
    initialize=False,
    precision: str = "float32",
):
    """Weight layers first..last-1 with the padding, pooling, dropout and softmax around them:
    (0, 13) is the convolutions up to pool5, (13, 15) fc6/fc7, (15, 16) the head, (0, 16) all.
    Every layer between conv1_1 and the head keeps its weights and computes in `precision`."""
    from .tf_runtime import import_tensorflow

    import_tensorflow()  # first, so Keras leaves out what no worker uses
    import keras
    from keras import layers

    source = _LayerSource(layer_source, initialize)
    # Keras' dtype policy of the same name: variables and arithmetic in it; float32 inputs are
    # cast by the first layer that has it. Nothing keeps Keras' default (float32), as before.
    low = {"dtype": precision} if precision != "float32" else {}
    chans = channels(width)
    inputs = keras.Input(part_input_shape(first, width), name="image" if first == 0 else f"from_{first}")
    x, i = inputs, 0
    for b, (_, repeats) in enumerate(BLOCKS, start=1):
        for r in range(1, repeats + 1):
            if first <= i < last:
                own = low if i else {}  # conv1_1 in float32: see inference.precision
                x = layers.ZeroPadding2D(1, name=f"pad{b}_{r}", **own)(x)
                init = source.initializers()
                x = layers.Conv2D(chans[i], 3, activation="relu", name=f"conv{b}_{r}", **own, **init)(x)
            i += 1
        if first < i <= last:
            x = layers.MaxPooling2D(2, strides=2, name=f"pool{b}", **low)(x)
    if first <= FC6 < last:
        x = layers.Conv2D(chans[13], 7, activation="relu", name="fc6", **low, **source.initializers())(x)
        x = layers.Dropout(0.5, name="fc6_dropout", **low)(x)
    if first <= FC6 + 1 < last:
        x = layers.Conv2D(chans[14], 1, activation="relu", name="fc7", **low, **source.initializers())(x)
        x = layers.Dropout(0.5, name="fc7_dropout", **low)(x)
    if first <= HEAD < last:
        x = layers.Conv2D(n_classes, 1, name="head", **source.initializers())(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Activation("softmax", name="softmax")(x)
    name = "vggface" if (first, last) == (0, WEIGHT_LAYERS) else f"vggface_{first}_{last}"
    return keras.Model(inputs, x, name=name)


def _as_tensor(array, dtype=None):
    """Wrap a NumPy array as a tensor of `dtype` without copying it (DLPack), so loading
    fc6 (411 MB in float32, 205 MB in bfloat16) costs one extra copy at most, not two."""
    import numpy as np
    import tensorflow as tf

    dtype = np.dtype(dtype or array.dtype)
    if array.dtype != dtype:  # a layer kept in another precision than the file's reader gave
        array = array.astype(np.float32).astype(dtype)
    if array.ctypes.data % 64 or not array.flags.c_contiguous:  # TensorFlow needs 64-byte alignment
        return tf.convert_to_tensor(array)
    if dtype.name == "bfloat16":  # NumPy exports no bfloat16 over DLPack: its bits as uint16, then a bitcast
        return tf.bitcast(tf.experimental.dlpack.from_dlpack(array.view(np.uint16).__dlpack__()), tf.bfloat16)
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


class _LayerSource:
    """Keras initializers that pull each layer's arrays from an iterator as the layer is built."""

    def __init__(self, layer_source, initialize: bool):
        self.iterator = iter(layer_source) if layer_source is not None else None
        self.initialize = initialize

    def initializers(self) -> dict:
        import keras

        if self.iterator is None:
            return {} if self.initialize else {"kernel_initializer": "zeros"}
        stash = {}

        def kernel(shape, dtype=None):
            item = next(self.iterator, None)
            if item is None:
                stash["bias"] = None
                return keras.initializers.get("glorot_uniform" if self.initialize else "zeros")(shape, dtype)
            name, (k, b) = item
            if tuple(k.shape) != tuple(shape):
                raise ValueError(f"Layer {name}: kernel shape {tuple(k.shape)} does not fit {tuple(shape)}")
            stash["bias"] = b
            return _as_tensor(k, dtype)

        def bias(shape, dtype=None):
            b = stash.pop("bias", None)
            return keras.initializers.Zeros()(shape, dtype) if b is None else _as_tensor(b, dtype)

        return {"kernel_initializer": kernel, "bias_initializer": bias}


def weight_layers(model) -> list:
    """The 16 weight-holding layers in order (13 conv, fc6, fc7, head)."""
    return [layer for layer in model.layers if layer.weights]


class FullyConnected:
    """fc6, fc7 and the head of a (part of a) VGG-Face model as matrix products on its own weights.

    Each is a convolution whose kernel covers its whole input (fc6: 7x7 over pool5's 7x7;
    fc7 and the head: 1x1 over 1x1), so it equals a flatten and a product with the kernel
    reshaped: the same numbers. Run as convolutions, oneDNN copies fc6's 411 MB kernel into
    its own layout on every call with more than one image (200 ms and 390 MB more for 8
    images); a product reads the kernel where it is (30 ms for 8). Dropout is off at inference.
    Each product runs in its kernel's precision (bfloat16 fc6/fc7, float32 head); the softmax
    and the output are float32.
    """

    def __init__(self, model, until: str | None = None):
        """`model` starts at pool5's output or contains pool5; `until`: stop after this layer."""
        import tensorflow as tf
        from keras import layers

        names = [layer.name for layer in model.layers]
        start = names.index("pool5") + 1 if "pool5" in names else 0
        self.model, self.steps = model, []  # the model owns the variables the steps read
        for layer in model.layers[start:]:
            if isinstance(layer, layers.Conv2D):
                if tuple(layer.kernel.shape[:2]) != tuple(layer.input.shape[1:3]) or layer.padding != "valid":
                    raise ValueError(f"Layer {layer.name} is not fully connected to its input.")
                self.steps.append((layer.kernel, layer.bias, layer.activation))
            elif isinstance(layer, layers.Activation):
                self.steps.append((None, None, layer.activation))
            elif not isinstance(layer, (layers.InputLayer, layers.Dropout, layers.Flatten)):
                raise ValueError(f"Layer {layer.name} ({type(layer).__name__}) is not part of the fully connected top.")
            if layer.name == until:
                break
        in_shape = model.layers[start - 1].output.shape if start else model.input.shape
        self.inputs = math.prod(in_shape[1:])  # taken flat: pool5 (7, 7, c) or fc7's (1, 1, c) alike
        self._run = tf.function(self._forward, input_signature=[tf.TensorSpec([None, self.inputs], tf.float32)])

    def _forward(self, x):
        import tensorflow as tf

        for kernel, bias, activation in self.steps:
            if kernel is not None:
                x = tf.cast(x, kernel.dtype)
                x = tf.matmul(x, tf.reshape(kernel, (-1, kernel.shape[-1]))) + bias
            else:
                x = tf.cast(x, tf.float32)  # the softmax
            x = activation(x)
        return tf.cast(x, tf.float32)

    def __call__(self, batch):
        import numpy as np

        batch = np.asarray(batch, dtype=np.float32)
        return np.asarray(self._run(batch.reshape(len(batch), self.inputs)))


class SplitForward:
    """Run a batch through the convolutions one image at a time, then through
    fc6/fc7/head all at once.

    Convolutions are compute-bound (batching gains nothing) but their im2col
    buffers grow with the batch: ~115 MB per image for conv1_2. The fully
    connected layers are bound by reading 480 MB of weights, so they are where
    a batch pays off. Splitting keeps batch-1 memory with batch-N speed.
    """

    def __init__(self, model, until: str | None = None):
        """`until`: stop after this layer (fc6 or fc7) and flatten: frozen features."""
        import keras

        self.conv = keras.Model(model.input, model.get_layer("pool5").output)
        # Compiled (graph) prediction runs about a third faster than eager calls at batch 1 on
        # CPU. Not XLA: faster still, but its buffers take a worker past its memory budget.
        self.conv.compile(jit_compile=False)
        self.tail = FullyConnected(model, until=until)

    def __call__(self, batch):
        return self.tail(convolutions(self.conv, batch))


def convolutions(conv, batch):
    """pool5 of every image of the batch, the convolutions run one image at a time."""
    import numpy as np

    return np.concatenate([conv.predict_on_batch(batch[i : i + 1]) for i in range(len(batch))])


def feature_model(model, cut: str = "fc7") -> SplitForward:
    """A callable giving the flattened activations of `cut` (fc6 or fc7) for a batch."""
    if cut not in FEATURE_LAYERS:
        raise ValueError(f"Feature cut must be one of {FEATURE_LAYERS}, not {cut!r}.")
    return SplitForward(model, until=cut)
