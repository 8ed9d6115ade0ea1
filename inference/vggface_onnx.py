"""VGG-Face as ONNX graphs, built straight from the weight files' layers (no TensorFlow).

The same network as inference/vggface.py, in two parts that the int8 path (inference/int8.py)
quantises and runs with ONNX Runtime:

- "conv": the photo (NHWC, 0..1, as the platform prepares it) -> pool5 (NHWC, flattened):
  13 convolutions with ReLU, max-pooling after each block. Keras' kernels are HWIO, ONNX's
  OIHW; Keras' ZeroPadding2D(1) + a "valid" 3x3 convolution is ONNX's pads=1.
- "fc": pool5 (flattened) -> fc6 and fc7 (both outputs, after their ReLU). fc6 is a 7x7
  convolution over pool5's 7x7, i.e. a product with the kernel flattened in HWC order (the
  order pool5 is flattened in); fc7 a 1x1 convolution, a product (ONNX Gemm, bias included).
  Dropout is off at inference.

The head (a few thousand numbers) is not part of either graph: it stays a float32 product.
Only onnx and NumPy are needed here.
"""

import numpy as np

from .vggface import BLOCKS, INPUT_SIZE

OPSET = 17
IR_VERSION = 9  # ONNX Runtime 1.30 reads IR versions up to 13; 9 is what opset 17 needs
CONV, FC = "conv", "fc"
PART_LAYERS = {CONV: 13, FC: 2}  # weight layers each part holds
CONV_NODE = "conv{}_{}"  # node names, so quantisation can leave conv1_1 out


def _model(nodes, inputs, outputs, initializers, name: str):
    from onnx import helper

    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION, producer_name="ethitech-classroom"
    )


def _tensor(array: np.ndarray, name: str):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)


def conv_graph(layers, every_relu: bool = False):
    """The convolutions: `layers` yields 13 (name, [kernel HWIO, bias]) in order. `every_relu`:
    each convolution's output (NCHW, after its ReLU) is an output of the graph too."""
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2], name="to_nchw")]
    inits, x, source, channels = [], "nchw", iter(layers), 3
    for b, (_, repeats) in enumerate(BLOCKS, start=1):
        for r in range(1, repeats + 1):
            name = CONV_NODE.format(b, r)
            _, (kernel, bias) = next(source)
            channels = kernel.shape[-1]
            inits += [_tensor(kernel.transpose(3, 2, 0, 1), f"{name}/kernel"), _tensor(bias, f"{name}/bias")]
            nodes.append(
                helper.make_node(
                    "Conv", [x, f"{name}/kernel", f"{name}/bias"], [name], name=name, kernel_shape=[3, 3], pads=[1] * 4
                )
            )
            nodes.append(helper.make_node("Relu", [name], [f"{name}/relu"], name=f"{name}/relu"))
            x = f"{name}/relu"
        pool = helper.make_node("MaxPool", [x], [f"pool{b}"], name=f"pool{b}", kernel_shape=[2, 2], strides=[2, 2])
        nodes.append(pool)
        x = f"pool{b}"
    side = INPUT_SIZE // 2 ** len(BLOCKS)
    inits.append(_tensor_int64([-1, side * side * channels], "pool5/shape"))
    nodes += [
        helper.make_node("Transpose", [x], ["pool5/nhwc"], perm=[0, 2, 3, 1], name="to_nhwc"),
        helper.make_node("Reshape", ["pool5/nhwc", "pool5/shape"], ["pool5_flat"], name="flatten"),
    ]
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", INPUT_SIZE, INPUT_SIZE, 3])
    outs = [helper.make_tensor_value_info("pool5_flat", TensorProto.FLOAT, ["n", side * side * channels])]
    if every_relu:
        relus = [n.output[0] for n in nodes if n.op_type == "Relu"]
        outs += [helper.make_tensor_value_info(r, TensorProto.FLOAT, None) for r in relus]
    return _model(nodes, [image], outs, inits, "vggface_conv")


def _tensor_int64(values, name: str):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def fc_graph(layers):
    """fc6 and fc7: `layers` yields their 2 (name, [kernel, bias]); fc6's kernel (7, 7, c, n)."""
    from onnx import TensorProto, helper

    nodes, inits, x = [], [], "pool5_flat"
    inputs = None
    for title, (_, (kernel, bias)) in zip(("fc6", "fc7"), layers, strict=True):
        matrix = kernel.reshape(-1, kernel.shape[-1])  # HWC order, as pool5 is flattened
        inputs = inputs or matrix.shape[0]
        inits += [_tensor(matrix, f"{title}/kernel"), _tensor(bias, f"{title}/bias")]
        # Gemm, not MatMul + Add: quantised, its bias stays an int32 sum with the product's own scale.
        nodes += [
            helper.make_node("Gemm", [x, f"{title}/kernel", f"{title}/bias"], [f"{title}/sum"], name=title),
            helper.make_node("Relu", [f"{title}/sum"], [title], name=f"{title}/relu"),
        ]
        x = title
    width = matrix.shape[1]
    pooled = helper.make_tensor_value_info("pool5_flat", TensorProto.FLOAT, ["n", inputs])
    outs = [helper.make_tensor_value_info(t, TensorProto.FLOAT, ["n", width]) for t in ("fc6", "fc7")]
    return _model(nodes, [pooled], outs, inits, "vggface_fc")


def fc_int8_graph(layers, block: int = 32):
    """fc6 and fc7 as fc_graph, in int8 already: ONNX Runtime's MatMulNBits (8 bits), one scale per
    `block` inputs of each output (not one per output: fc6 sums 25,088 terms, and a scale set by
    the largest of them left most weights a few levels), and the input quantised the same way per
    row and block as it runs (accuracy_level 4: int8 products), instead of one calibrated range.
    Measured at full width on the demo's random fc6/fc7: 99% of float32's top guesses against 92.5%
    (static, per-channel); a block of 128 kept 97%."""
    from onnx import TensorProto, helper

    nodes, inits, x = [], [], "pool5_flat"
    inputs = None
    for title, (_, (kernel, bias)) in zip(("fc6", "fc7"), layers, strict=True):
        matrix = kernel.reshape(-1, kernel.shape[-1])  # HWC order, as pool5 is flattened
        inputs = inputs or matrix.shape[0]
        k, n = matrix.shape
        levels, scale = _int8_blocks(matrix, block)
        inits += [
            _uint8(levels, f"{title}/kernel"),
            _tensor(scale.reshape(-1), f"{title}/scale"),
            _tensor(bias, f"{title}/bias"),
        ]
        nodes += [
            helper.make_node(
                "MatMulNBits",
                [x, f"{title}/kernel", f"{title}/scale", "", "", f"{title}/bias"],
                [f"{title}/sum"],
                name=title,
                domain="com.microsoft",
                K=k,
                N=n,
                bits=8,
                block_size=block,
                accuracy_level=4,
            ),
            helper.make_node("Relu", [f"{title}/sum"], [title], name=f"{title}/relu"),
        ]
        x = title
    pooled = helper.make_tensor_value_info("pool5_flat", TensorProto.FLOAT, ["n", inputs])
    outs = [helper.make_tensor_value_info(t, TensorProto.FLOAT, ["n", n]) for t in ("fc6", "fc7")]
    model = _model(nodes, [pooled], outs, inits, "vggface_fc_int8")
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def _int8_blocks(matrix: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """MatMulNBits' layout: per output, per `block` inputs, uint8 levels (zero at 128) and a scale."""
    k, n = matrix.shape
    blocks = -(-k // block)
    padded = np.zeros((blocks * block, n), dtype=np.float32)
    padded[:k] = matrix
    grouped = padded.T.reshape(n, blocks, block)
    scale = (np.abs(grouped).max(axis=2) / 127).astype(np.float32)
    scale[scale == 0] = 1
    levels = np.clip(np.round(grouped / scale[..., None]), -127, 127) + 128
    return levels.astype(np.uint8), scale


def _uint8(array: np.ndarray, name: str):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.uint8), name)
