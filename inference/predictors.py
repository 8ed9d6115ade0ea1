"""One Predictor interface; each model family implements it."""

import weakref
from abc import ABC, abstractmethod
from itertools import islice
from pathlib import Path

import numpy as np

from .preprocessing import InputSpec


class ModelArtifactError(RuntimeError):
    """The model file is missing, altered or unreadable."""


class Predictor(ABC):
    family: str
    large = False  # set by the registry: holds large layers of its own (counted against its cap)
    saliency_methods: tuple[str, ...] = ("occlusion",)  # inference.saliency: preferred first

    def __init__(self, path: Path, spec: InputSpec, n_classes: int, *, base_path: Path | None = None, width=1.0):
        self.path = path
        self.spec = spec
        self.n_classes = n_classes
        self.base_path = base_path
        self.width = width

    @abstractmethod
    def load(self) -> None:
        """Load the artifact into memory (once per worker process)."""

    @abstractmethod
    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """(n, input) -> (n, n_classes) probabilities, columns in label-set order."""

    def warm_up(self) -> None:
        """One forward pass on a blank input: the first real photo then pays no first-call costs."""
        shape = (1, self.spec.flat_length) if self.spec.layout == "flat" else (1, self.spec.size, self.spec.size, 3)
        self.predict_proba(np.zeros(shape, dtype=np.float32))


class MLPPredictor(Predictor):
    family = "mlp"

    def load(self) -> None:
        import joblib

        try:
            self.model = joblib.load(self.path)
        except Exception as exc:
            raise ModelArtifactError(f"Could not read MLP model file {self.path.name}: {exc}") from exc
        n_in = getattr(self.model, "n_features_in_", None)
        if n_in != self.spec.flat_length:
            raise ModelArtifactError(
                f"MLP model expects {n_in} inputs but its input spec gives {self.spec.flat_length}."
            )

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        probs = self.model.predict_proba(batch)
        # scikit-learn orders columns by classes_; map them onto label-set order.
        out = np.zeros((batch.shape[0], self.n_classes), dtype=np.float64)
        for col, cls in enumerate(self.model.classes_):
            out[:, int(cls)] = probs[:, col]
        return out


class VGGPredictor(Predictor):
    """VGG-Face: the artifact holds the top k weight layers; a base file supplies the rest.

    Models on the same base share its layers in memory: a head trained on cached
    features (k=1) shares the convolutions and fc6/fc7, a fine-tuned model (k=3)
    the convolutions. So a class comparing several VGG-Face heads costs about
    one network, not one each."""

    family = "vgg"
    # Grad-CAM costs about one more pass through the convolutions; occlusion one per patch (49).
    saliency_methods = ("gradcam", "occlusion")

    def load(self) -> None:
        from .vggface import FC6, HEAD, WEIGHT_LAYERS, FullyConnected, SplitForward, build_model, build_part
        from .vggface_weights import WeightsFileError, check_shapes, iter_layers, layer_shapes

        try:
            own = layer_shapes(self.path)
            first = WEIGHT_LAYERS - len(own)
            if first > 0:
                if self.base_path is None:
                    raise ModelArtifactError(f"{self.path.name} holds only the top layers and names no base.")
                check_shapes(layer_shapes(self.base_path)[:first] + own, n_classes=self.n_classes, width=self.width)
            else:
                check_shapes(own, n_classes=self.n_classes, width=self.width)
            if first in (FC6, HEAD):
                self.trunk = _shared_trunk(self.base_path, self.width, first)
                self.tail = FullyConnected(build_part(first, WEIGHT_LAYERS, self.n_classes, width=self.width,
                                                      layer_source=iter_layers(self.path)))  # fmt: skip
                self.forward = self._shared_forward
            else:
                base = islice(iter_layers(self.base_path), first) if first else ()
                layers = (x for src in (base, iter_layers(self.path)) for x in src)
                self.forward = SplitForward(build_model(self.n_classes, width=self.width, layer_source=layers))
        except WeightsFileError as exc:
            raise ModelArtifactError(str(exc)) from exc

    def _shared_forward(self, batch: np.ndarray) -> np.ndarray:
        return self.tail(self.trunk(batch))

    def _gradcam_parts(self):
        """(convolutions up to pool5, the fully connected steps after it as TensorFlow functions)."""
        if hasattr(self, "trunk"):
            tops = [f for f in (self.trunk.fc, self.tail) if f is not None]
            return self.trunk.conv, [f._forward for f in tops]
        return self.forward.conv, [self.forward.tail._forward]

    def gradcam(self, batch: np.ndarray, targets: list[int]) -> list:
        """Grad-CAM on conv5_3 (the last convolution block) for each image's target class: the
        same layers and weights that answered, run once more up to conv5_3, then pool5 and the
        fully connected layers under a gradient tape (cheap: no gradient through the convolutions)."""
        import keras
        import tensorflow as tf

        from .saliency import as_grid, gradcam_grid

        conv, tops = self._gradcam_parts()
        last = getattr(conv, "_ethitech_last_block", None)
        if last is None:
            last = keras.Model(conv.input, conv.get_layer("conv5_3").output)
            last.compile(jit_compile=False)
            conv._ethitech_last_block = last  # shared by the models on this trunk
        maps = []
        for i, target in enumerate(targets):
            features = tf.constant(last.predict_on_batch(np.asarray(batch[i : i + 1], dtype=np.float32)))
            with tf.GradientTape() as tape:
                tape.watch(features)
                x = tf.nn.max_pool2d(features, 2, 2, "VALID")  # pool5
                x = tf.reshape(x, (1, -1))
                for step in tops:
                    x = step(x)
                score = x[0, target]
            grads = tape.gradient(score, features)
            cam = gradcam_grid(features.numpy()[0], grads.numpy()[0])
            maps.append(as_grid(cam, {"layer": "conv5_3", "grid": int(cam.shape[0]), "target": int(target)}))
        return maps

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward(batch), dtype=np.float64)


class _Trunk:
    """A base's lower layers: the convolutions one image at a time (their buffers grow with
    the batch), then fc6/fc7 on the whole batch when the models' own layers start at the head."""

    def __init__(self, base_path: Path, width: float, first: int):
        from .vggface import FC6, HEAD, FullyConnected, build_part
        from .vggface_weights import iter_layers

        layers = islice(iter_layers(base_path), first)  # one pass over the file for both parts
        self.conv = build_part(0, FC6, 1, width=width, layer_source=layers)
        self.conv.compile(jit_compile=False)  # graph execution: about a third faster at batch 1
        fc = build_part(FC6, HEAD, 1, width=width, layer_source=layers) if first == HEAD else None
        self.fc = FullyConnected(fc) if fc is not None else None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        from .vggface import convolutions

        pooled = convolutions(self.conv, batch)
        return pooled if self.fc is None else self.fc(pooled)


# Trunks live as long as some loaded model uses them.
_trunks: "weakref.WeakValueDictionary[tuple, _Trunk]" = weakref.WeakValueDictionary()


def _shared_trunk(base_path: Path, width: float, first: int) -> _Trunk:
    stat = base_path.stat()  # a re-imported base is a different file, so never a stale trunk
    key = (str(base_path), stat.st_size, stat.st_mtime_ns, width, first)
    trunk = _trunks.get(key)
    if trunk is None:
        trunk = _trunks[key] = _Trunk(base_path, width, first)
    return trunk


PREDICTORS: dict[str, type[Predictor]] = {"mlp": MLPPredictor, "vgg": VGGPredictor}
