"""One Predictor interface; each model family implements it."""

from abc import ABC, abstractmethod
from itertools import islice
from pathlib import Path

import numpy as np

from .preprocessing import InputSpec


class ModelArtifactError(RuntimeError):
    """The model file is missing, altered or unreadable."""


class Predictor(ABC):
    family: str

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
    """VGG-Face: the artifact holds the top k weight layers; a base file supplies the rest."""

    family = "vgg"

    def load(self) -> None:
        from .vggface import SplitForward, build_model
        from .vggface_weights import WeightsFileError, check_shapes, iter_layers, layer_shapes

        try:
            own = layer_shapes(self.path)
            first = 16 - len(own)
            sources = []
            if first > 0:
                if self.base_path is None:
                    raise ModelArtifactError(f"{self.path.name} holds only the top layers and names no base.")
                base = layer_shapes(self.base_path)[:first]
                check_shapes(base + own, n_classes=self.n_classes, width=self.width)
                sources.append(islice(iter_layers(self.base_path), first))
            else:
                check_shapes(own, n_classes=self.n_classes, width=self.width)
            sources.append(iter_layers(self.path))
            model = build_model(self.n_classes, width=self.width, layer_source=(x for src in sources for x in src))
        except WeightsFileError as exc:
            raise ModelArtifactError(str(exc)) from exc
        self.model = model
        self.forward = SplitForward(model)

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward(batch), dtype=np.float64)


PREDICTORS: dict[str, type[Predictor]] = {"mlp": MLPPredictor, "vgg": VGGPredictor}
