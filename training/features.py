"""Turn images into model inputs with the shared preprocessing."""

import numpy as np

from inference.preprocessing import InputSpec, prepare


def preprocess_many(images, spec: InputSpec) -> tuple[np.ndarray, np.ndarray]:
    """Returns (inputs, face_found flags) for an iterable of RGB arrays."""
    rows, found = [], []
    for rgb in images:
        x, face = prepare(rgb, spec)
        rows.append(x)
        found.append(face)
    return np.stack(rows), np.array(found, dtype=bool)
