"""The EthiTech model: scikit-learn's MLPClassifier on preprocessed pixels."""

import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

# A fixed number of epochs: early stopping on a validation split drawn from an
# unbalanced set stops as soon as "always the majority" looks good enough.
DEFAULT_PARAMS = {
    "hidden_layer_sizes": (64,),
    "early_stopping": False,
    "max_iter": 60,
    "alpha": 1e-2,
    "learning_rate_init": 1e-3,
}


def fit_mlp(X: np.ndarray, y: np.ndarray, *, seed: int = 0, standardize: bool = False, **overrides):
    """`standardize`: scale each input to mean 0, variance 1 first (inside the saved model, so
    serving needs nothing else): a small MLP then learns from a few hundred images in well under
    a second, where raw pixels need many more epochs."""
    params = {**DEFAULT_PARAMS, **overrides}
    model = MLPClassifier(random_state=seed, **params)
    if standardize:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), model)
    with warnings.catch_warnings():
        # Stopping at max_iter is the plan, not a problem to report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model


def save_mlp(model: MLPClassifier, path: Path) -> None:
    from inference import sklearn_files  # skops, not pickle: see there

    sklearn_files.save(model, path)
