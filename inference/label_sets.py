"""One catalogue of the label sets real datasets and models use, so a model imported from a file
lands on the same list of groups as the dataset it was trained on (and can sit in an experiment
with models trained here, and be tested on that dataset's gallery).

A label set's order is the order of a model's outputs. A model file whose classes come in
another order keeps that order in `training_params["output_labels"]`; serving reorders its
probabilities (inference.services)."""

import re

from .services import ensure_label_set

FAIRFACE_7 = ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"]
FAIRFACE_6 = ["White", "Black", "Latino_Hispanic", "Asian", "Indian", "Middle Eastern"]

CATALOGUE = {
    f"fairface-{len(labels)}": (f"FairFace groups ({len(labels)})", labels) for labels in (FAIRFACE_7, FAIRFACE_6)
}


def _plain(label: str) -> str:
    return re.sub(r"[\s_-]+", " ", label).strip().lower()


def label_set_for(key: str):
    name, labels = CATALOGUE[key]
    return ensure_label_set(key=key, name=name, labels=labels, synthetic=False)


def match(labels: list[str]) -> tuple[str, list[str]] | None:
    """(catalogue key, the catalogue's spelling of each label in the given order) when the labels are
    exactly one catalogue set's groups in some order ("latino hispanic" is FairFace's
    "Latino_Hispanic"); None otherwise."""
    given = [_plain(label) for label in labels]
    for key, (_, known) in CATALOGUE.items():
        spelled = {_plain(k): k for k in known}
        if len(given) == len(known) and set(given) == set(spelled):
            return key, [spelled[g] for g in given]
    return None
