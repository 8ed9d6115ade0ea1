"""scikit-learn model files in skops' format, never pickle: loading a pickle runs whatever code
the file names, so a tampered or foreign file could take over the worker. skops stores the
model as data and refuses every type it does not trust; we trust exactly the types an MLP
(optionally behind a StandardScaler in a Pipeline) is made of, and refuse the rest by name."""

from pathlib import Path

SUFFIX = ".skops"
# Beyond skops' own defaults (scikit-learn estimators, numpy arrays): the MLP's optimiser state.
TRUSTED = {
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
}


class UntrustedModelFile(ValueError):
    """The file holds types a model of ours never has; it was not loaded."""


def save(model, path: Path) -> None:
    import skops.io as sio

    sio.dump(model, path)


def load(path: Path):
    import skops.io as sio

    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as exc:  # not a skops file at all (a pickle, a truncated file)
        raise UntrustedModelFile(f"{path.name} is not a model file in skops format ({exc.__class__.__name__}).")
    foreign = sorted(untrusted - TRUSTED)
    if foreign:
        raise UntrustedModelFile(
            f"{path.name} contains {', '.join(foreign[:3])}, which a model trained here never does. "
            "It was not loaded: the file was changed or comes from elsewhere. Train or import the model again."
        )
    return sio.load(path, trusted=sorted(untrusted))
