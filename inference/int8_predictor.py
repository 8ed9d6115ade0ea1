"""VGG-Face served in int8 by ONNX Runtime (inference/int8.py), without TensorFlow.

The same sharing as the float32 and bfloat16 predictor (inference/predictors.py): a base's
convolutions (image -> pool5) are one session shared by every model on that base, and its
fc6/fc7 (pool5 -> fc7) one more shared by every head trained on its features. A fine-tuned
model's own fc6/fc7 are a session of its own. The head (fc7 -> the groups, a few thousand
numbers) is a float32 product and a softmax in NumPy.

The second look: an answer whose top two logits are closer than the model's measured int8 error
(`near_tie`, from inference.int8_gate) could be float32's second guess, so that image's
convolutions run again in float32 (a session of the same weights, built in memory) and its answer
is the one from that pool5, through the same int8 fc6/fc7 and head. 15-30% of the demo's
images (36% on the small test head); the rest keep int8's speed.
"""

import weakref
from pathlib import Path

import numpy as np

from . import int8
from .precision import INT8
from .predictors import ModelArtifactError, Predictor, checked_first_layer
from .saliency import FEATURE_OCCLUSION, OCCLUSION, feature_occlusion
from .vggface import FC6
from .vggface_onnx import CONV, FC, PART_LAYERS

POOL5_SIDE = 7
# Images per run of the convolutions. Measured at full width on 2 cores: one at a time the
# process peaks at ~300 MB and batch 8 runs 24 ms per image; eight at a time ONNX Runtime's
# buffers take the peak to ~660 MB and it is no faster (46 ms per image). fc6/fc7 take the batch.
CONV_BATCH = 1


class _Part:
    """One quantised graph's session (weak-referenceable, so it lives as long as a model uses it)."""

    def __init__(self, spec: int8.PartSpec):
        self.spec = spec
        self.session = int8.session(int8.ensure(spec))
        self.input = self.session.get_inputs()[0].name

    def run(self, x: np.ndarray, output: str) -> np.ndarray:
        return self.session.run([output], {self.input: np.ascontiguousarray(x, dtype=np.float32)})[0]


_sessions: "weakref.WeakValueDictionary[tuple, _Part]" = weakref.WeakValueDictionary()


def _shared(what, files, make):
    """The session `make()` builds for `what` made of `files`, shared while a model uses it. A
    re-imported file is a different file (size, mtime), so never a stale session."""
    key = (what, tuple((p, (s := Path(p).stat()).st_size, s.st_mtime_ns) for p in files if p))
    found = _sessions.get(key)
    if found is None:
        found = _sessions[key] = make()
    return found


def _shared_part(spec: int8.PartSpec) -> _Part:
    return _shared(spec, (spec.source, spec.conv_source), lambda: _Part(spec))


class _Float32Conv:
    """A base's convolutions in float32 (ONNX Runtime, the graph built in memory from its weights
    file): the second look. Without the memory arena its buffers are freed after each image
    instead of held for the next, which is rare."""

    def __init__(self, source: str):
        from .vggface_onnx import conv_graph

        graph = conv_graph(int8._layers(source, 0, PART_LAYERS[CONV])).SerializeToString()
        self.session = int8.session(graph, arena=False)
        self.input = self.session.get_inputs()[0].name

    run = _Part.run


def _shared_float32_conv(source: str) -> _Float32Conv:
    return _shared("float32", (source,), lambda: _Float32Conv(source))


def near_ties(logits: np.ndarray, threshold: float) -> np.ndarray:
    """Which answers' top two logits are closer than `threshold` (a boolean per image)."""
    if threshold <= 0 or logits.shape[1] < 2:
        return np.zeros(len(logits), dtype=bool)
    top2 = np.partition(logits, -2, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0] < threshold


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _pool5(conv: _Part, batch: np.ndarray) -> np.ndarray:
    """pool5, flattened, of every image (the convolutions in runs of CONV_BATCH images)."""
    batch = np.asarray(batch, dtype=np.float32)
    return np.concatenate([conv.run(batch[i : i + CONV_BATCH], "pool5_flat") for i in range(0, len(batch), CONV_BATCH)])


def _part_specs(base: str, width: float, fc_file: str = "", fc_first: int = FC6) -> tuple[int8.PartSpec, ...]:
    """A base file's convolutions and fc6/fc7 (the base's own, or those at `fc_first` in
    `fc_file`, calibrated on the base's pool5)."""
    calibration = int8.calibration_choice()
    conv = int8.PartSpec(CONV, base, 0, width, calibration=calibration)
    return conv, int8.PartSpec(FC, fc_file or base, fc_first, width, conv_source=base, calibration=calibration)


class Int8VGGPredictor(Predictor):
    family = "vgg"
    precision = INT8
    # Grad-CAM needs gradients, which ONNX Runtime does not give (inference/saliency.py).
    saliency_methods = (FEATURE_OCCLUSION, OCCLUSION)
    near_tie = 0.0  # the top-2 logit gap below which an answer gets the second look (0: none)
    checked = None  # the gate's inference.int8_gate.Verdict, where the registry asked for it
    answered = 0  # images answered, and of them looked at again in float32 (compare_precision)
    looked_again = 0

    def part_specs(self) -> tuple[int8.PartSpec, ...]:
        """The quantised graphs this model runs (convolutions, fc6/fc7), from its files' layers
        alone: what inference.int8_gate checks, before any graph is built or loaded."""
        from .vggface import HEAD, WEIGHT_LAYERS
        from .vggface_weights import WeightsFileError

        try:
            first = checked_first_layer(self)
        except WeightsFileError as exc:
            raise ModelArtifactError(str(exc)) from exc
        if first not in (0, FC6, HEAD):
            raise ModelArtifactError(
                f"{self.path.name} holds the top {WEIGHT_LAYERS - first} layers: int8 serves a whole network, "
                "a fine-tuned fc6/fc7 and head, or a head on a base's features. Use ETHITECH_VGG_PRECISION=float32."
            )
        base = str(self.base_path if first else self.path)
        # A fine-tuned model's own fc6/fc7 (the first layers of its file), else the base's.
        own_fc = (str(self.path), 0) if first == FC6 else ()
        return _part_specs(base, self.width, *own_fc)

    def load(self) -> None:
        """Each graph's session, shared with the models that run it; the head in NumPy."""
        from .vggface_weights import WeightsFileError, read_layer

        try:
            conv_spec, fc_spec = self.part_specs()
            self.conv, self.fc = _shared_part(conv_spec), _shared_part(fc_spec)
            self.float32_conv = None
            self.second_look(self.near_tie)
            _, (kernel, bias) = read_layer(self.path, -1)
            self.head = (kernel.reshape(-1, kernel.shape[-1]), bias)
        except WeightsFileError as exc:
            raise ModelArtifactError(str(exc)) from exc
        except int8.Int8BuildError as exc:
            raise ModelArtifactError(str(exc)) from exc

    def second_look(self, threshold: float) -> None:
        """Look again in float32 at answers whose top-2 logit gap is below `threshold` (0: never)."""
        self.near_tie = threshold
        if threshold > 0 and getattr(self, "conv", None) and not getattr(self, "float32_conv", None):
            self.float32_conv = _shared_float32_conv(self.conv.spec.source)

    def pool5(self, batch: np.ndarray) -> np.ndarray:
        return _pool5(self.conv, batch)

    def features(self, pooled: np.ndarray, cut: str = "fc7") -> np.ndarray:
        """fc6's or fc7's activations (after their ReLU) from pool5."""
        return self.fc.run(pooled, cut)

    def logits(self, pooled: np.ndarray) -> np.ndarray:
        """The head's logits (float64) from pool5: fc6 and fc7 in int8, the head in float32."""
        kernel, bias = self.head
        return (self.features(pooled) @ kernel + bias).astype(np.float64)

    def top(self, pooled: np.ndarray) -> np.ndarray:
        """Probabilities (float64) from pool5."""
        return softmax(self.logits(pooled))

    def looked(self, batch: np.ndarray):
        """int8's logits, the answer's logits after the second look, the pool5 they came from, and
        which images were looked at again."""
        pooled = self.pool5(batch)
        first = self.logits(pooled)
        again = near_ties(first, self.near_tie)
        logits = first.copy()
        if again.any():
            pooled[again] = _pool5(self.float32_conv, np.asarray(batch)[again])
            logits[again] = self.logits(pooled[again])
        self.answered += len(logits)
        self.looked_again += int(again.sum())
        return first, logits, pooled, again

    def answer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and the pool5 they came from: int8, then the second look for near-ties."""
        _, logits, pooled, _ = self.looked(batch)
        return softmax(logits), pooled

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        return self.answer(batch)[0]

    def predict_and_explain(self, batch: np.ndarray, wanted: list[bool]):
        """Answers for the batch, and where wanted a feature-occlusion map from the pool5 the
        answer came from: one more batch through fc6/fc7, not the convolutions again."""
        probs, pooled = self.answer(batch)
        maps = [
            feature_occlusion(self.top, pooled[i], POOL5_SIDE, probs[i]) if w else None for i, w in enumerate(wanted)
        ]
        return probs, maps
