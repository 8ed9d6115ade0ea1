"""Which number format VGG-Face computes in: float32, or bfloat16 or int8 where the hardware has it.

`ETHITECH_VGG_PRECISION` (settings.VGG_PRECISION) asks for one; `serving_precision()` is what
every VGG-Face network of this process is built in (serving, feature extraction, Grad-CAM,
audits and evaluations alike), decided once per process. bfloat16 keeps float32's range with 8
bits of mantissa: the weights take half the memory, and CPUs with AVX512-BF16 (or AMX) run its
matrix products about twice as fast. Without those instructions TensorFlow emulates it, slower
than float32, so a process that cannot run it says why and uses float32.

Only the weights of the convolutions from conv1_2 on, fc6 and fc7 are kept in bfloat16 (all but
0.01% of them). conv1_1 stays float32: it sees the photo's pixels as they are (rounding them to
bfloat16 moves some by up to half a grey level, which alone changed 0-2 of 400 answers of a
sensitive test model) for under 1% of the arithmetic. The head (a few thousand numbers) and the
softmax stay float32 too, so probabilities are not rounded to bfloat16.

int8 runs through ONNX Runtime, not TensorFlow (inference/int8.py): the weights quantised per
channel, activations calibrated on prepared images. It needs the CPU's int8 dot-product
instructions (VNNI or AMX): without them ONNX Runtime's uint8 x int8 products can saturate and
lose accuracy, so a process without them uses float32. It runs on the CPU only: where a GPU is
visible (an NVIDIA driver's /proc/driver/nvidia/gpus, or /dev/nvidia0..., unless
CUDA_VISIBLE_DEVICES hides every GPU), VGG-Face runs in float32 on it instead. That check reads
files, so deciding int8 never imports TensorFlow.
"""

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

FLOAT32 = "float32"
BFLOAT16 = "bfloat16"
INT8 = "int8"
PRECISIONS = (FLOAT32, BFLOAT16, INT8)
# CPU flags (Linux /proc/cpuinfo) of instructions that run bfloat16 products natively.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
BF16_GPU_COMPUTE_CAPABILITY = (8, 0)  # NVIDIA Ampere and newer
# CPU flags of int8 dot-product instructions (ONNX Runtime's uint8 x int8 kernels need them).
INT8_CPU_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


@dataclass(frozen=True)
class Choice:
    precision: str  # what networks are built in
    requested: str  # what the setting asked for
    reason: str  # one line for the worker's log

    @property
    def fell_back(self) -> bool:
        return self.precision != self.requested


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo cannot be read)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
                cpuinfo = fh.read()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def choose(
    requested: str,
    *,
    cpuinfo: str | None = None,
    gpus: list[tuple[str, tuple[int, int]]] | None = None,
    onednn: str | None = None,
) -> Choice:
    """The precision to build networks in, given what was asked for and what the hardware has.

    `gpus`: (name, compute capability) of the GPUs TensorFlow will place work on (then they run
    it, not the CPU); `onednn`: TF_ENABLE_ONEDNN_OPTS (oneDNN runs bfloat16 on the CPU)."""
    if requested not in PRECISIONS:
        raise ValueError(f"ETHITECH_VGG_PRECISION must be one of {', '.join(PRECISIONS)}, not {requested!r}.")
    if requested == FLOAT32:
        return Choice(FLOAT32, requested, "VGG-Face runs in float32 (ETHITECH_VGG_PRECISION=float32).")
    if requested == INT8:
        return _choose_int8(cpuinfo, gpus)
    if gpus:
        weak = [name for name, capability in gpus if tuple(capability) < BF16_GPU_COMPUTE_CAPABILITY]
        if weak:
            return Choice(
                FLOAT32,
                requested,
                f"ETHITECH_VGG_PRECISION=bfloat16, but GPU {weak[0]} has no fast "
                "bfloat16 (compute capability below 8.0): VGG-Face runs in float32.",
            )
        return Choice(BFLOAT16, requested, f"VGG-Face runs in bfloat16 on GPU {gpus[0][0]}.")
    if onednn is not None and onednn.strip().lower() in ("0", "false", "off"):
        return Choice(
            FLOAT32,
            requested,
            "ETHITECH_VGG_PRECISION=bfloat16, but TF_ENABLE_ONEDNN_OPTS=0 turns "
            "off the library that runs it fast on a CPU: VGG-Face runs in float32.",
        )
    found = sorted(set(BF16_CPU_FLAGS) & cpu_flags(cpuinfo))
    if not found:
        return Choice(
            FLOAT32,
            requested,
            "ETHITECH_VGG_PRECISION=bfloat16, but this CPU lacks the bfloat16 "
            f"instructions ({' or '.join(BF16_CPU_FLAGS)} in /proc/cpuinfo), where bfloat16 would be "
            "slower than float32: VGG-Face runs in float32.",
        )
    return Choice(BFLOAT16, requested, f"VGG-Face runs in bfloat16 (this CPU has {', '.join(found)}).")


def _choose_int8(cpuinfo: str | None, gpus) -> Choice:
    if gpus:
        return Choice(
            FLOAT32,
            INT8,
            f"ETHITECH_VGG_PRECISION=int8, but int8 runs on the CPU only and GPU {gpus[0][0]} is visible: "
            "VGG-Face runs in float32 on the GPU.",
        )
    found = sorted(set(INT8_CPU_FLAGS) & cpu_flags(cpuinfo))
    if not found:
        return Choice(
            FLOAT32,
            INT8,
            "ETHITECH_VGG_PRECISION=int8, but this CPU lacks the int8 dot-product instructions "
            f"({' or '.join(INT8_CPU_FLAGS)} in /proc/cpuinfo), without which int8 loses accuracy: "
            "VGG-Face runs in float32.",
        )
    return Choice(INT8, INT8, f"VGG-Face runs in int8 through ONNX Runtime (this CPU has {', '.join(found)}).")


def nvidia_gpus(proc: Path = Path("/proc/driver/nvidia/gpus"), dev: Path = Path("/dev")) -> list[tuple[str, tuple]]:
    """The NVIDIA GPUs this process could use, found without importing TensorFlow: the driver's
    list (each GPU's `Model:` line), else its device files. CUDA_VISIBLE_DEVICES set to nothing
    (or -1) hides them all, as it does from TensorFlow."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return []
    found = []
    for info in sorted(proc.glob("*/information")) if proc.is_dir() else []:
        try:
            lines = info.read_text().splitlines()
        except OSError:
            lines = []
        model = next((line.partition(":")[2].strip() for line in lines if line.startswith("Model")), "")
        found.append((model or info.parent.name, (0, 0)))
    if not found:
        found = [(p.name, (0, 0)) for p in sorted(dev.glob("nvidia[0-9]*"))]
    return found


def _visible_gpus() -> list[tuple[str, tuple[int, int]]]:
    from .tf_runtime import import_tensorflow

    tf = import_tensorflow()

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append((details.get("device_name", device.name), tuple(details.get("compute_capability", (0, 0)))))
    return gpus


@lru_cache(maxsize=1)
def decision() -> Choice:
    """This process's choice, made (and logged) once."""
    from django.conf import settings

    requested = settings.VGG_PRECISION
    # int8 decides without TensorFlow: a worker serving it never imports it.
    gpus = [] if requested == FLOAT32 else nvidia_gpus() if requested == INT8 else _visible_gpus()
    choice = choose(requested, gpus=gpus, onednn=os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
    (log.warning if choice.fell_back else log.info)(choice.reason)
    return choice


def serving_precision() -> str:
    """float32, bfloat16 or int8: what this process runs VGG-Face networks in."""
    return decision().precision


@lru_cache(maxsize=1)
def int8_fallback() -> str:
    """What a model whose int8 answers miss the agreement bar (inference.int8_gate) is served in:
    bfloat16 where this machine runs it fast, else float32."""
    choice = choose(BFLOAT16, gpus=nvidia_gpus(), onednn=os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
    return choice.precision


def features_precision() -> str:
    """What heads are trained on features of: the serving precision, but float32 where that is
    int8 (a model is served in int8 only where its answers agree with float32's; else in the
    fallback, whose features are float32's within rounding)."""
    precision = serving_precision()
    return FLOAT32 if precision == INT8 else precision


def numpy_dtype(precision: str):
    """The NumPy dtype weights are kept in for `precision` (bfloat16 from ml_dtypes, which
    TensorFlow itself depends on)."""
    import numpy as np

    if precision == BFLOAT16:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    if precision == FLOAT32:
        return np.dtype(np.float32)
    raise ValueError(f"Unknown precision {precision!r}")


def file_dtypes(precision: str, first: int = 0):
    """For inference.vggface_weights.iter_layers: every layer of a weights file whose first layer
    is the network's weight layer `first` in `precision`'s dtype, but conv1_1 and the file's last
    (the head, or a base's own 2622-identity head), kept float32 as the network uses them."""
    import numpy as np

    if precision == FLOAT32:
        return None  # the reader's own default
    low, high = numpy_dtype(precision), np.dtype(np.float32)
    return lambda position, count: high if first + position == 0 or position == count - 1 else low
