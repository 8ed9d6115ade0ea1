"""VGG-Face in int8 through ONNX Runtime: quantising, the on-disk cache, sessions.

The convolutions (inference/vggface_onnx.py) are quantised with ONNX Runtime's static
quantisation: QDQ format, int8 weights per output channel, uint8 activations whose ranges are
calibrated on about 32 images that went through the platform's own preprocessing (35 generated
faces by default, or the images `manage.py prepare_int8` is given). conv1_1 stays float32: it
sees the photo's pixels as they are (see inference.precision for why), for under 1% of the
arithmetic. Before quantising, the convolutions' channels are evened out (`equalised`: the same
function, with fewer 8-bit levels wasted) and their kernels rounded for their outputs rather
than weight by weight (inference/int8_rounding.py). fc6/fc7 are built in int8 directly, with a
scale per 32 inputs and their input quantised as they run (vggface_onnx.fc_int8_graph): no
calibration. Measured on the demo model (full width, random base, 200 generated faces): 96% of
float32's top guesses, against 89.5% with per-weight rounding, square-root equalisation and a
calibrated fc6/fc7.

A quantised graph is a derived file, cached under ETHITECH_DATA_DIR/int8/ and named by a key
over everything that makes it (the source weight files' sha256, the part and its layers, the
width, the calibration images, the format version): a changed input never reuses a stale
file. Quantising peaks at about 1.8 GB at full size (the convolutions' rounding, fc6/fc7's
blocks) and takes about 1.5 minutes on 2 cores, so it runs in a child process (the
worker's own peak memory stays that of serving), under a file lock (two workers never build
it twice), into a temporary file renamed into place with its checksum beside it (no worker
ever reads a half-written one; a damaged one is built again, never served).

Nothing here imports TensorFlow: a VGG-Face worker serving int8 never does.
"""

import fcntl
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .vggface_onnx import CONV, CONV_NODE, FC, PART_LAYERS

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # bump when the graph or the quantisation settings change: old files are not reused
GENERATED = "generated"  # the default calibration images: generated faces (training/synthetic.py)
CALIBRATION_PER_GROUP = 7  # 35 generated faces, 7 of each synthetic group
CALIBRATION_SEED = 2  # not the seeds the demo models train (0) or are compared (1) on
KEEP_FLOAT32 = (CONV_NODE.format(1, 1),)  # the photo's own pixels: see the module's docstring
# Keeping a later convolution float32 this way is wrong in ONNX Runtime 1.30: with its graph
# optimisations on, conv5_1 left out moved pool5 by 34% (4% for conv4_1), without them 2.8%.
# Leaving out its max-pooling too avoids it; neither paid (each layer's share of the loss is small).
BUILD_TIMEOUT_S = 30 * 60
CALIBRATION_METHOD = "MinMax"  # entropy: the same answers; percentiles clip what the answers depend on
EQUALISE = True
# How far channels are evened out (0: not at all, 1: fully). Fully evened channels cost the weights
# levels (at full width pool5 moved 3.7% against 2.7% without), which the rounding for outputs
# (int8_rounding) wins back: with it, at full width pool5 moved 0.86% fully evened, 1.0% at the
# square root, 1.4% not evened; the convolutions alone kept 98.5%, 96.5% and 96% of float32's
# top guesses.
EQUALISE_POWER = 1.0
EXTRA_OPTIONS: dict = {}


FC_BLOCK = 32  # fc6/fc7: a scale per this many weights (vggface_onnx.fc_int8_graph)


def _rounding_settings() -> list:
    from . import int8_rounding as r

    return ["gptq", r.ROWS_PER_INPUT, r.DAMPING, r.BLOCK, list(r.FIRST_BLOCK_CONVS)]


# ONNX Runtime's builds for other hardware are other distributions of the same module.
ONNXRUNTIME_DISTRIBUTIONS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino", "onnxruntime-directml")


def _tool_versions() -> list[str]:
    """The quantiser's and runtime's versions, from the installed distributions' metadata (not by
    importing them: the web process computes keys too)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(*names: str) -> str:
        for name in names:
            try:
                return f"{name} {version(name)}"
            except PackageNotFoundError:
                continue
        return "unknown"

    return [installed(*ONNXRUNTIME_DISTRIBUTIONS), installed("onnx")]


class Int8BuildError(RuntimeError):
    """Quantising failed; the message says why."""


@dataclass(frozen=True)
class PartSpec:
    """One quantised graph: `part` (conv or fc) made of the weight layers of `source` starting at
    the file's layer `first`; `conv_source`: the file whose convolutions feed an fc part.
    `calibration`: GENERATED, or a .npy file of prepared images (prepare_int8). fc6/fc7 are not
    calibrated (vggface_onnx.fc_int8_graph), so neither is part of an fc part's key."""

    part: str
    source: str
    first: int
    width: float
    conv_source: str = ""
    calibration: str = GENERATED

    def key(self) -> str:
        about = {
            "version": FORMAT_VERSION,
            "part": self.part,
            "source": _file_digest(self.source),
            "first": self.first,
            "width": self.width,
            "calibration": self._calibration_digest() if self.part == CONV else "",
            "float32": KEEP_FLOAT32 if self.part == CONV else (),
            "equalised": EQUALISE_POWER if EQUALISE and self.part == CONV else 0,
            "calibrated": CALIBRATION_METHOD if self.part == CONV else "",
            "rounded": _rounding_settings() if self.part == CONV else "",
            "blocks": FC_BLOCK if self.part == FC else 0,
            # A newer quantiser or runtime may round or compute differently: quantised and checked again.
            "tools": _tool_versions(),
        }
        return hashlib.sha256(json.dumps(about, sort_keys=True).encode()).hexdigest()

    def _calibration_digest(self) -> str:
        from .artifacts import sha256_file

        return self.calibration if self.calibration == GENERATED else sha256_file(Path(self.calibration))


def _file_digest(path: str) -> str:
    """A weights file's sha256, remembered per (path, size, mtime): hashing 550 MB takes a second."""
    from .artifacts import sha256_file

    stat = Path(path).stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo not in _digests:
        _digests[memo] = sha256_file(Path(path))
    return _digests[memo]


_digests: dict[tuple, str] = {}


def cache_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "int8"


def calibration_choice() -> str:
    """The calibration images this installation quantises with: the ones `prepare_int8` was last
    given (a .npy file in the cache folder), or generated faces."""
    pointer = cache_dir() / "calibration.json"
    try:
        chosen = json.loads(pointer.read_text())["file"]
    except (OSError, ValueError, KeyError):
        return GENERATED
    return chosen if Path(chosen).is_file() else GENERATED


def use_calibration(images: np.ndarray | None, about: str = "") -> str:
    """Quantise from now on with these prepared images (None: generated faces again). Files made
    with other images stay cached under their own keys; each model is quantised again on its
    next load. Returns the choice."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    pointer = folder / "calibration.json"
    if images is None:
        pointer.unlink(missing_ok=True)
        return GENERATED
    images = np.ascontiguousarray(images, dtype=np.float32)
    path = folder / f"calibration-{hashlib.sha256(images.tobytes()).hexdigest()[:32]}.npy"
    if not path.is_file():
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".npy", delete=False) as tmp:
            np.save(tmp, images)
        os.replace(tmp.name, path)
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".json", delete=False) as tmp:
        json.dump({"file": str(path), "about": about, "images": len(images)}, tmp)
    os.replace(tmp.name, pointer)
    return str(path)


def ensure(spec: PartSpec) -> Path:
    """The quantised graph's file, built (in a child process) if it is missing or damaged."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"vggface-{spec.part}-{spec.key()[:32]}.onnx"
    if _intact(path):
        return path
    with open(folder / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker building it: wait for its file
        if _intact(path):
            return path
        log.warning("Quantising VGG-Face's %s layers to int8 (once per weights file, in a child process)...", spec.part)
        started = time.monotonic()
        _build_in_child(spec, path)
        if not _intact(path):
            raise Int8BuildError(f"Quantising VGG-Face's {spec.part} layers left no usable file at {path}.")
        log.warning("VGG-Face's %s layers quantised to int8 in %.0f s: %s", spec.part, time.monotonic() - started, path)
    return path


def prepare_model(model_version):
    """Build the int8 files a registered VGG-Face model needs and check its answers against
    float32's (prepare_int8, train_demo_models): returns the check's inference.int8_gate.Verdict."""
    from .registry import load_uncached

    return load_uncached(model_version, precision="int8").checked  # checked before it loads


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _intact(path: Path) -> bool:
    """Whether the cached file is there and matches the checksum written when it was made."""
    from .artifacts import sha256_file

    try:
        expected = _checksum_path(path).read_text().strip()
    except OSError:
        return False
    if not path.is_file() or sha256_file(path) != expected:
        log.warning("The cached int8 file %s is damaged or incomplete: it is built again.", path.name)
        return False
    return True


def _build_in_child(spec: PartSpec, path: Path) -> None:
    run_child("inference.int8", [json.dumps(asdict(spec)), str(path)], f"Quantising VGG-Face's {spec.part} layers")


def run_child(module: str, args: list[str], what: str, env: dict | None = None) -> None:
    """`python -m module args` in a process of its own (its memory is not the worker's); its last
    line of output, when it fails, in an Int8BuildError that starts with `what`."""
    root = Path(__file__).resolve().parent.parent
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise Int8BuildError(f"{what} failed: {tail[0]}")


def build(spec: PartSpec, path: Path) -> None:
    """Quantise one part into `path` (the child process's work): a temporary file in the same
    folder, renamed into place, then its checksum."""
    import onnx

    from .artifacts import sha256_file
    from .vggface_onnx import fc_int8_graph

    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".building-") as tmp:
        out = Path(tmp) / "int8.onnx"
        layers = _layers(spec.source, spec.first, PART_LAYERS[spec.part])
        if spec.part == CONV:
            _quantise_conv(layers, calibration_images(spec.calibration), Path(tmp) / "float32.onnx", out)
        else:
            onnx.save(fc_int8_graph(layers, FC_BLOCK), out)  # int8 as it is built: nothing to calibrate
        _check_runs(out, spec.part)
        os.replace(out, path)
    _checksum_path(path).write_text(sha256_file(path) + "\n")


def _quantise_conv(layers, images: np.ndarray, source: Path, out: Path) -> None:
    """The convolutions evened out, rounded for their outputs, then quantised (static QDQ)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from .int8_rounding import rounded
    from .vggface_onnx import conv_graph

    if EQUALISE:
        layers = equalised(layers, images)
    onnx.save(conv_graph(rounded(layers, images, _PROVIDERS)), source)
    quantize_static(
        str(source),
        str(out),
        _Reader(images),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=getattr(CalibrationMethod, CALIBRATION_METHOD),
        extra_options=dict(EXTRA_OPTIONS),
        nodes_to_exclude=list(KEEP_FLOAT32),
    )


def _layers(path: str, first: int, count: int):
    from itertools import islice

    from .vggface_weights import iter_layers

    return list(islice(iter_layers(Path(path)), first, first + count))


def equalised(layers, images: np.ndarray):
    """The same convolutions with each one's output channels rescaled so that, on the calibration
    images, every channel of its activations spans about the same range, and the next
    convolution's input weights rescaled back: the network computes the same function (ReLU and
    max-pooling commute with a positive per-channel scale), but a per-tensor 8-bit activation
    no longer spends its 256 levels on the widest channel while narrow ones get a handful
    (cross-layer equalisation from activation ranges). conv5_3's output is left as it is: it is
    pool5, which the fc part (perhaps another file's) reads."""
    import onnxruntime as ort

    from .vggface_onnx import conv_graph

    session = ort.InferenceSession(conv_graph(layers, every_relu=True).SerializeToString(), providers=_PROVIDERS)
    peaks = None
    for i in range(len(images)):
        outs = session.run(None, {"image": images[i : i + 1]})[1:]
        found = [o.max(axis=(0, 2, 3)) for o in outs]
        peaks = found if peaks is None else [np.maximum(p, f) for p, f in zip(peaks, found, strict=True)]
    layers = [(name, [k.copy(), b.copy()]) for name, (k, b) in layers]
    for i in range(len(layers) - 1):
        peak = peaks[i].astype(np.float64)
        live = peak > 0
        if not live.any():
            continue
        scale = np.ones_like(peak)
        scale[live] = (peak[live] / peak[live].max()) ** EQUALISE_POWER  # <= 1: narrow channels widened
        kernel, bias = layers[i][1]
        kernel /= scale.astype(np.float32)  # HWIO: the output channel is the last axis
        bias /= scale.astype(np.float32)
        layers[i + 1][1][0] *= scale.astype(np.float32)[None, None, :, None]  # the next one's inputs
    return layers


def calibration_images(calibration: str) -> np.ndarray:
    """The calibration images, prepared as the platform prepares a photo for VGG-Face."""
    if calibration != GENERATED:
        return np.load(calibration)
    from .preprocessing import VGG_SPEC, prepare
    from .synthetic_faces import GROUPS, generate_image

    faces = (
        generate_image(g, i, split="train", seed=CALIBRATION_SEED)
        for g in range(len(GROUPS))
        for i in range(CALIBRATION_PER_GROUP)
    )
    return np.stack([prepare(face, VGG_SPEC)[0] for face in faces]).astype(np.float32)


class _Reader:
    """onnxruntime.quantization's CalibrationDataReader: one image at a time."""

    def __init__(self, images: np.ndarray):
        self.items = iter(images)

    def get_next(self):
        item = next(self.items, None)
        return None if item is None else {"image": item[None]}


def _check_runs(path: Path, part: str) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=_PROVIDERS)
    shape = (1, 224, 224, 3) if part == CONV else (1, session.get_inputs()[0].shape[1])
    session.run(None, {session.get_inputs()[0].name: np.zeros(shape, dtype=np.float32)})


_PROVIDERS = ["CPUExecutionProvider"]


def threads() -> int:
    """The worker's CPU budget: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def session(path: Path | bytes, arena: bool = True):
    """An ONNX Runtime session for a quantised graph (a file, or a graph's bytes), with this worker's
    threads. The operators run one after another (inter-op 1): each already uses every core given
    to it. `arena=False`: buffers are freed after each run instead of kept for the next."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = arena
    options.intra_op_num_threads = threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: ORT's warnings about its own graph rewrites say nothing to a teacher
    # Idle threads sleep instead of spinning: spinning took about 55 CPU-ms after every forward from
    # the MLP worker and the web on the same cores, and a forward took no less time (measured at
    # full width on 2 cores: batch 1 in 58 CPU-ms instead of 105, 33 ms instead of 52).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Left at ONNX Runtime's defaults, measured at full width: session.disable_prepacking saves
    # ~10 MB and runs 2-4x slower; without the memory arena the peak is the same at batch 1.
    source = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(source, options, providers=_PROVIDERS)


def child_main(work) -> int:
    """A child process's whole run (see run_child): `work()`, and on failure one line on stderr
    for the parent's error message, and exit status 1."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        work()
    except Exception as exc:  # noqa: BLE001 - one line for the parent's error
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """`python -m inference.int8 SPEC_JSON OUT`: quantise one part (run by ensure() as a child)."""
    return child_main(lambda: build(PartSpec(**json.loads(argv[0])), Path(argv[1])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
