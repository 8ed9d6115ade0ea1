"""VGG-Face weight files in the legacy Keras-2 HDF5 layout.

The published files (vgg_face_weights.h5, race_model_single_batch.h5) were
written by Keras 2's save_weights: a root attribute `layer_names` (padding,
pooling, dropout and flatten layers included), and per layer a group whose
attribute `weight_names` lists datasets such as `conv2d_13/kernel:0`. Layer
names vary with the Keras version that wrote them, so weight-holding layers
are matched by order and shape, never by name.

The same layout stores what this project writes itself (random demo bases,
trained heads, fine-tuned top layers): a file may hold all 16 weight-holding
layers, or only the last k of them, the rest coming from a base file.
Only h5py and NumPy are needed here.
"""

from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from .vggface import expected_shapes

LAYER_TITLES = [f"conv{b}_{r}" for b, n in enumerate([2, 2, 3, 3, 3], start=1) for r in range(1, n + 1)] + [
    "fc6",
    "fc7",
    "head",
]


FLOAT32 = np.dtype(np.float32)


class WeightsFileError(ValueError):
    """The file cannot be used; the message names the problem."""


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


@contextmanager
def _weights_root(path: Path):
    path = Path(path)
    if not path.is_file():
        raise WeightsFileError(f"{path} does not exist.")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise WeightsFileError(
            f"{path.name} is not a readable HDF5 weights file (it may be truncated, still downloading, "
            f"or a different kind of file): {exc}"
        ) from exc
    with f:
        root = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
        if "layer_names" not in root.attrs:
            raise WeightsFileError(
                f"{path.name} has no 'layer_names' attribute, so it is not a Keras-2 weights file as "
                "published for VGG-Face. (A Keras 3 '.weights.h5' file is not accepted here.)"
            )
        yield root


def _weight_groups(root):
    for raw in root.attrs["layer_names"]:
        name = _text(raw)
        group = root[name]
        names = [_text(w) for w in group.attrs.get("weight_names", [])]
        if names:
            yield name, [group[w] for w in names]


def layer_shapes(path: Path) -> list[tuple[str, list[tuple[int, ...]]]]:
    """Weight-holding layers in file order with their array shapes (no data read)."""
    with _weights_root(path) as root:
        try:
            return [(name, [tuple(d.shape) for d in datasets]) for name, datasets in _weight_groups(root)]
        except (OSError, KeyError) as exc:
            raise WeightsFileError(f"{Path(path).name} is damaged: its layer list cannot be read ({exc}).") from exc


def iter_layers(path: Path, dtypes=None):
    """Yield (name, [kernel, bias]) one layer at a time, so a 550 MB file never sits in memory twice.

    `dtypes(position, count)`: the NumPy dtype to keep the weights of the file's layer number
    `position` (of `count`) in; float32 when not given. Another dtype (bfloat16) is converted a
    slice at a time, so fc6 is never held in float32 as a whole."""
    with _weights_root(path) as root:
        try:
            count = sum(1 for _ in _weight_groups(root)) if dtypes else 0
            for position, (name, datasets) in enumerate(_weight_groups(root)):
                dtype = np.dtype(dtypes(position, count)) if dtypes else FLOAT32
                yield name, [_read_aligned(d, dtype) for d in datasets]
        except (OSError, KeyError, ValueError) as exc:
            raise WeightsFileError(
                f"{Path(path).name} is damaged: reading its weights failed ({exc}). The file may be "
                "truncated; copy it again from the original."
            ) from exc


def read_layer(path: Path, position: int) -> tuple[str, list[np.ndarray]]:
    """One weight layer (float32) without reading the others; `position` -1 is the file's last."""
    with _weights_root(path) as root:
        try:
            name, datasets = list(_weight_groups(root))[position]
            return name, [_read_aligned(d) for d in datasets]
        except (OSError, KeyError, ValueError, IndexError) as exc:
            raise WeightsFileError(
                f"{Path(path).name} is damaged: reading its weights failed ({exc}). The file may be "
                "truncated; copy it again from the original."
            ) from exc


def _read_aligned(dataset, dtype=FLOAT32) -> np.ndarray:
    """Read a dataset into a 64-byte-aligned array of `dtype`, which TensorFlow can adopt without a copy."""
    n, size = int(np.prod(dataset.shape)), dtype.itemsize
    raw = np.empty(n * size + 64, dtype=np.uint8)
    offset = -raw.ctypes.data % 64
    array = raw[offset : offset + n * size].view(dtype).reshape(dataset.shape)
    if dataset.dtype == dtype:
        dataset.read_direct(array)
    elif dtype == np.float32 or not dataset.shape:
        array[...] = dataset[()]
    else:  # a slice of the first axis at a time (fc6: 7 slices of 59 MB in float32)
        step = max(1, CONVERT_SLICE_VALUES // max(1, n // dataset.shape[0]))
        for start in range(0, dataset.shape[0], step):
            array[start : start + step] = dataset[start : start + step].astype(np.float32).astype(dtype)
    return array


CONVERT_SLICE_VALUES = 16 * 1024 * 1024  # float32 values read at a time when converting (64 MB)


def read_layers(path: Path) -> list[tuple[str, list[np.ndarray]]]:
    return list(iter_layers(path))


def check_shapes(
    layers: list[tuple[str, list[tuple[int, ...]]]],
    *,
    n_classes: int | None,
    width: float | None = None,
    first: int = 0,
) -> tuple[float, int]:
    """Check every layer against VGG-Face; returns (width, n_classes).

    `first` is the index (0..15) of the first weight layer the file holds;
    files that hold only the top layers start later. Width is inferred from
    the first convolution when the file starts there.
    """
    if not layers:
        raise WeightsFileError("The file holds no layers with weights.")
    if width is None:
        if first != 0:
            raise ValueError("width must be given for a partial file")
        width = layers[0][1][0][-1] / 64
    head_classes = n_classes if n_classes is not None else int(layers[-1][1][0][-1])
    expected = expected_shapes(width, head_classes)[first:]
    if len(layers) != len(expected):
        raise WeightsFileError(
            f"The file has {len(layers)} layers with weights; VGG-Face needs {len(expected)} here "
            "(13 convolutions, fc6, fc7 and a head). It is a different architecture."
        )
    for i, ((name, arrays), (k_shape, b_shape)) in enumerate(zip(layers, expected, strict=True)):
        title = LAYER_TITLES[first + i]
        if len(arrays) != 2:
            raise WeightsFileError(f"Layer {first + i + 1} ('{name}', {title}) has {len(arrays)} arrays, expected 2.")
        kernel, bias = (tuple(a) for a in arrays)
        if title == "head" and n_classes is not None and kernel[-1] != n_classes:
            raise WeightsFileError(
                f"The file's head has {kernel[-1]} classes but {n_classes} labels were given. "
                "Give exactly one label per class, in the file's order."
            )
        if kernel != k_shape or bias != b_shape:
            raise WeightsFileError(
                f"Layer {first + i + 1} ('{name}', {title}) has shape {kernel}/{bias} "
                f"but VGG-Face needs {k_shape}/{b_shape}. It is a different architecture."
            )
    return width, head_classes


def write_layers(path: Path, layers: list[tuple[str, list[np.ndarray]]], *, extra_layer_names=()) -> None:
    """Write weights in the legacy Keras-2 layout (as save_weights did)."""
    with h5py.File(path, "w") as f:
        names = [name for name, _ in layers] + list(extra_layer_names)
        f.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for name in extra_layer_names:
            f.create_group(name).attrs["weight_names"] = np.array([], dtype="S1")
        for name, arrays in layers:
            group = f.create_group(name)
            weight_names = [f"{name}/kernel:0", f"{name}/bias:0"][: len(arrays)]
            group.attrs["weight_names"] = np.array([w.encode("utf8") for w in weight_names])
            for wname, array in zip(weight_names, arrays, strict=True):
                group.create_dataset(wname, data=array)


def random_layers(n_classes: int, *, width: float = 1.0, seed: int = 0) -> list[tuple[str, list[np.ndarray]]]:
    """He-initialised weights for every layer (a base that is NOT pretrained)."""
    rng = np.random.default_rng(seed)
    layers = []
    for title, (k_shape, b_shape) in zip(LAYER_TITLES, expected_shapes(width, n_classes), strict=True):
        fan_in = int(np.prod(k_shape[:-1]))
        kernel = (rng.standard_normal(k_shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))).astype(np.float32)
        layers.append((title, [kernel, np.zeros(b_shape, dtype=np.float32)]))
    return layers
