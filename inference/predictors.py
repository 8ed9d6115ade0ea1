"""One Predictor interface; each model family implements it."""

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from .preprocessing import InputSpec


class ModelArtifactError(RuntimeError):
    """The model file is missing, altered or unreadable."""


class Predictor(ABC):
    family: str

    def __init__(self, path: Path, spec: InputSpec, n_classes: int):
        self.path = path
        self.spec = spec
        self.n_classes = n_classes

    @abstractmethod
    def load(self) -> None:
        """Load the artifact into memory (once per worker process)."""

    @abstractmethod
    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """(n, input) -> (n, n_classes) probabilities, columns in label-set order."""


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


PREDICTORS: dict[str, type[Predictor]] = {"mlp": MLPPredictor}
