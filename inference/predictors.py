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
    precision = ""  # the number format its answers are computed in, where the family has a choice

    def __init__(
        self,
        path: Path,
        spec: InputSpec,
        n_classes: int,
        *,
        base_path: Path | None = None,
        width=1.0,
        precision: str = "",
    ):
        self.path = path
        self.spec = spec
        self.n_classes = n_classes
        self.base_path = base_path
        self.width = width
        if precision:
            self.precision = precision

    @abstractmethod
    def load(self) -> None:
        """Load the artifact into memory (once per worker process)."""

    @abstractmethod
    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """(n, input) -> (n, n_classes) probabilities, columns in label-set order."""

    def predict_and_explain(self, batch: np.ndarray, wanted: list[bool]):
        """(probabilities, a saliency map or None per image): by default the answers, then an
        occlusion map of each wanted image (its masked copies in one batch)."""
        from .saliency import occlusion

        probs = self.predict_proba(batch)
        maps = [
            occlusion(self.predict_proba, x, self.spec, int(p.argmax())) if w else None
            for x, p, w in zip(batch, probs, wanted, strict=True)
        ]
        return probs, maps

    def warm_up(self) -> None:
        """One forward pass on a blank input: the first real photo then pays no first-call costs."""
        shape = (1, self.spec.flat_length) if self.spec.layout == "flat" else (1, self.spec.size, self.spec.size, 3)
        self.predict_proba(np.zeros(shape, dtype=np.float32))


class MLPPredictor(Predictor):
    family = "mlp"

    def load(self) -> None:
        from . import sklearn_files

        if self.path.suffix != sklearn_files.SUFFIX:
            raise ModelArtifactError(
                f"{self.path.name} is an old pickle file, which is no longer loaded: run `manage.py migrate` "
                "(it converts the files this installation made), or train the model again."
            )
        try:
            self.model = sklearn_files.load(self.path)
        except sklearn_files.UntrustedModelFile as exc:
            raise ModelArtifactError(str(exc)) from exc
        except Exception as exc:
            raise ModelArtifactError(f"Could not read MLP model file {self.path.name}: {exc}") from exc
        n_in = getattr(self.model, "n_features_in_", None)
        if n_in != self.spec.flat_length:
            raise ModelArtifactError(
                f"MLP model expects {n_in} inputs but its input spec gives {self.spec.flat_length}."
            )

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        return self._in_label_order(self.model.predict_proba(batch))

    def _in_label_order(self, probs: np.ndarray) -> np.ndarray:
        # scikit-learn orders columns by classes_; map them onto label-set order.
        out = np.zeros((probs.shape[0], self.n_classes), dtype=np.float64)
        for col, cls in enumerate(self.model.classes_):
            out[:, int(cls)] = probs[:, col]
        return out

    def predict_and_explain(self, batch: np.ndarray, wanted: list[bool]):
        """As every model, with the occlusion map's masked copies run through the first layer
        only where they differ from the photo: copy k's first-layer sums are the photo's plus
        the hidden cells' change times their rows of the weights (48 of 3,072 rows for a 32 px
        RGB input), the same numbers for a 64th of the work; the other layers run as usual."""
        from .saliency import occlusion

        probs = self.predict_proba(batch)
        maps = [
            occlusion(self.predict_proba, x, self.spec, int(p.argmax()), masked_proba=self._masked_proba) if w else None
            for x, p, w in zip(batch, probs, wanted, strict=True)
        ]
        return probs, maps

    def _masked_proba(self, x: np.ndarray, cells: np.ndarray, value: float) -> np.ndarray:
        from sklearn.neural_network._base import ACTIVATIONS

        mlp, scaler = self.model, None
        if hasattr(mlp, "steps"):  # a lab model: StandardScaler, then the MLP
            scaler, mlp = mlp.steps[0][1], mlp.steps[-1][1]
        x = np.asarray(x, dtype=np.float64)
        change = value - x[cells]  # (copies, cells per copy)
        if scaler is not None:
            x = scaler.transform(x[None])[0]
            change = change / (scaler.scale_[cells] if scaler.scale_ is not None else 1.0)
        first = mlp.coefs_[0]
        h = (x @ first + mlp.intercepts_[0]) + np.einsum("kc,kch->kh", change, first[cells])
        for i in range(1, mlp.n_layers_ - 1):
            ACTIVATIONS[mlp.activation](h)
            h = h @ mlp.coefs_[i] + mlp.intercepts_[i]
        ACTIVATIONS[mlp.out_activation_](h)
        if h.shape[1] == 1:  # two classes: scikit-learn gives the second's probability only
            h = np.hstack([1 - h, h])
        return self._in_label_order(h)


def checked_first_layer(predictor: Predictor) -> int:
    """The first of VGG-Face's 16 weight layers the model's own file holds (0: all of them), once
    the file (and its base's lower layers) are checked against the architecture and label set."""
    from .vggface import WEIGHT_LAYERS
    from .vggface_weights import check_shapes, layer_shapes

    own = layer_shapes(predictor.path)
    first = WEIGHT_LAYERS - len(own)
    shapes = dict(n_classes=predictor.n_classes, width=predictor.width)
    if first > 0:
        if predictor.base_path is None:
            raise ModelArtifactError(f"{predictor.path.name} holds only the top layers and names no base.")
        check_shapes(layer_shapes(predictor.base_path)[:first] + own, **shapes)
    else:
        check_shapes(own, **shapes)
    return first


class VGGPredictor(Predictor):
    """VGG-Face: the artifact holds the top k weight layers; a base file supplies the rest.

    Models on the same base share its layers in memory: a head trained on cached
    features (k=1) shares the convolutions and fc6/fc7, a fine-tuned model (k=3)
    the convolutions. So a class comparing several VGG-Face heads costs about
    one network, not one each."""

    family = "vgg"
    # Grad-CAM costs little beside the answer (a gradient through the fully connected layers);
    # occlusion one forward pass per patch (49).
    saliency_methods = ("gradcam", "occlusion")
    precision = "float32"  # or "bfloat16" (inference.precision): every layer below the head

    def load(self) -> None:
        from .precision import file_dtypes
        from .vggface import FC6, HEAD, WEIGHT_LAYERS, FullyConnected, SplitForward, build_model, build_part
        from .vggface_weights import WeightsFileError, iter_layers

        precision = self.precision
        try:
            first = checked_first_layer(self)
            dtypes = file_dtypes(precision, first)  # for the model's own file
            if first in (FC6, HEAD):
                self.trunk = _shared_trunk(self.base_path, self.width, first, precision)
                self.tail = FullyConnected(
                    build_part(
                        first,
                        WEIGHT_LAYERS,
                        self.n_classes,
                        width=self.width,
                        layer_source=iter_layers(self.path, dtypes),
                        precision=precision,
                    )
                )
                self.forward = self._shared_forward
            else:
                base = islice(iter_layers(self.base_path, file_dtypes(precision)), first) if first else ()
                layers = (x for src in (base, iter_layers(self.path, dtypes)) for x in src)
                model = build_model(self.n_classes, width=self.width, layer_source=layers, precision=precision)
                self.forward = SplitForward(model)
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

    def _gradcam_fn(self):
        """(conv input -> conv5_3, compiled; conv5_3 -> probabilities and their gradient, a graph).
        Built once per loaded model; the conv part is shared by the models on one trunk."""
        if getattr(self, "_gradcam", None) is None:
            import keras
            import tensorflow as tf

            conv, tops = self._gradcam_parts()
            last = getattr(conv, "_ethitech_last_block", None)
            if last is None:
                last = keras.Model(conv.input, conv.get_layer("conv5_3").output)
                last.compile(jit_compile=False)
                conv._ethitech_last_block = last

            # A whole batch per call: each call reads fc6's 100 million weights twice (the answer and
            # its gradient). One call per image made 8 photos with maps cost 57 ms each in bfloat16
            # (112 CPU-ms) against 42 for the answers alone; one call for the 8, 44 ms (82 CPU-ms).
            @tf.function(input_signature=[tf.TensorSpec([None, *last.output.shape[1:]], tf.float32)])
            def probs_and_grads(features):
                with tf.GradientTape() as tape:
                    tape.watch(features)
                    x = tf.nn.max_pool2d(features, 2, 2, "VALID")  # pool5, as the model
                    x = tf.reshape(x, (tf.shape(x)[0], -1))
                    for step in tops:
                        x = step(x)
                    # Each image's guessed group. Rows never mix, so the gradient of their sum is
                    # each image's own gradient.
                    score = tf.reduce_sum(tf.gather(x, tf.argmax(x, axis=1), batch_dims=1))
                return x, tape.gradient(score, features)

            self._gradcam = (last, probs_and_grads)
        return self._gradcam

    def _answers_with_gradcam(self, images: np.ndarray):
        """The images' probabilities and their Grad-CAM maps from a single pass through the
        convolutions (up to conv5_3, one image at a time as every forward; then pool5 and the
        fully connected layers for all of them at once, under a gradient tape)."""
        from .saliency import as_grid, gradcam_grid
        from .vggface import convolutions

        last, probs_and_grads = self._gradcam_fn()
        # In float32 whatever the network's precision: the gradient is taken with respect to it.
        features = convolutions(last, np.asarray(images, dtype=np.float32)).astype(np.float32)
        probs, grads = probs_and_grads(features)
        probs, grads = np.asarray(probs, dtype=np.float64), np.asarray(grads)
        maps = []
        for feature, grad, p in zip(features, grads, probs, strict=True):
            cam = gradcam_grid(feature, grad)
            maps.append(as_grid(cam, {"layer": "conv5_3", "grid": int(cam.shape[0]), "target": int(p.argmax())}))
        return probs, maps

    def predict_and_explain(self, batch: np.ndarray, wanted: list[bool]):
        """Answers for the batch, and a Grad-CAM map where wanted at about the cost of the answer
        alone: a wanted image's convolutions run once, for both."""
        probs = np.zeros((len(batch), self.n_classes), dtype=np.float64)
        rest = [i for i, w in enumerate(wanted) if not w]
        if rest:
            probs[rest] = self.predict_proba(batch[rest])
        maps = [None] * len(batch)
        explained = [i for i, w in enumerate(wanted) if w]
        if explained:
            probs[explained], found = self._answers_with_gradcam(batch[explained])
            for i, saliency_map in zip(explained, found, strict=True):
                maps[i] = saliency_map
        return probs, maps

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward(batch), dtype=np.float64)


class _Trunk:
    """A base's lower layers: the convolutions one image at a time (their buffers grow with
    the batch), then fc6/fc7 on the whole batch when the models' own layers start at the head."""

    def __init__(self, base_path: Path, width: float, first: int, precision: str = "float32"):
        from .precision import file_dtypes
        from .vggface import FC6, HEAD, FullyConnected, build_part
        from .vggface_weights import iter_layers

        layers = islice(iter_layers(base_path, file_dtypes(precision)), first)  # one pass over the file for both parts
        self.conv = build_part(0, FC6, 1, width=width, layer_source=layers, precision=precision)
        self.conv.compile(jit_compile=False)  # graph execution: about a third faster at batch 1
        fc = build_part(FC6, HEAD, 1, width=width, layer_source=layers, precision=precision) if first == HEAD else None
        self.fc = FullyConnected(fc) if fc is not None else None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        from .vggface import convolutions

        pooled = convolutions(self.conv, batch)
        return pooled if self.fc is None else self.fc(pooled)


# Trunks live as long as some loaded model uses them.
_trunks: "weakref.WeakValueDictionary[tuple, _Trunk]" = weakref.WeakValueDictionary()


def _shared_trunk(base_path: Path, width: float, first: int, precision: str) -> _Trunk:
    stat = base_path.stat()  # a re-imported base is a different file, so never a stale trunk
    key = (str(base_path), stat.st_size, stat.st_mtime_ns, width, first, precision)
    trunk = _trunks.get(key)
    if trunk is None:
        trunk = _trunks[key] = _Trunk(base_path, width, first, precision)
    return trunk


PREDICTORS: dict[str, type[Predictor]] = {"mlp": MLPPredictor, "vgg": VGGPredictor}
