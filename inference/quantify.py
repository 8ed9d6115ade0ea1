"""Estimating who is in a collection of images from one model's answers (quantification).

Counting each image's top guess ("classify and count") inherits the model's bias: a model
that calls too many faces Group A reports too much Group A. Two corrections, both QuaPy's:

- adjusted classify and count (ACC; black-box shift estimation): solve q = M p, where q is
  the share of each answer on the collection and M the model's held-out confusion matrix
  (how often it answers group i for a face of group j);
- EM prior adjustment (Saerens, Latinne and Decaestecker 2002; QuaPy's EMQ): re-weight
  probabilities from the held-out mix towards the collection's mix until they agree. EM needs
  calibrated probabilities (Alexandari et al. 2020), and an MLP's are over-confident: on the
  demo's 10x model, EM on its raw probabilities put 81% of a 60%-Group-A collection in Group C.
  So each answer's probabilities are those of its answer on the held-out set, P(group | answer),
  read off the confusion matrix (histogram calibration by the answer).

Both assume the model errs on this collection as it erred on its held-out set.

Intervals: percentile intervals of a smoothed bootstrap that redraws the collection's answers
and the held-out answers, so a small held-out set widens them as it should. A plain bootstrap
never draws an answer the sample did not give: a group the model never named in 50 images got
the range 0-0%, which no one can know from 50 images. So each redraw is a Bayesian bootstrap:
the answer shares are drawn from a Dirichlet with Jeffreys' prior (counts + 1/2), per true
group for the held-out set.
"""

import numpy as np
from django.utils.translation import gettext_noop

METHODS = ("raw", "adjusted", "em")
REDRAW_SCALE = 1  # redrawn counts are rounded at the real sample's size (see _redraw)
# Stored with the estimates (in English): the audit page translates it (inference.stored_text).
NO_HELD_OUT = gettext_noop(
    "This model was never tested on pictures whose groups were known, so its mistakes are unknown: "
    "only counting its top guesses is possible."
)


def _quantifiers(n_classes: int):
    """QuaPy's CC, ACC and EMQ around answers that were computed already (by the workers)."""
    from quapy.method.aggregative import ACC, CC, EMQ
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Answered(ClassifierMixin, BaseEstimator):
        """Stands in for the model: QuaPy only needs its classes, never a new answer."""

        def fit(self, X=None, y=None):
            return self

    clf = Answered()
    clf.classes_ = np.arange(n_classes)
    return (
        CC(clf, fit_classifier=False),
        ACC(clf, fit_classifier=False, val_split=None),
        EMQ(clf, fit_classifier=False, val_split=None, exact_train_prev=True),
    )


def held_out_pairs(confusion) -> tuple[np.ndarray, np.ndarray]:
    """(true groups, answers) of the held-out images behind a confusion matrix (rows: true)."""
    counts = np.asarray(confusion, dtype=int)
    k = counts.shape[0]
    true = np.repeat(np.repeat(np.arange(k), k), counts.ravel())
    answered = np.repeat(np.tile(np.arange(k), k), counts.ravel())
    return true, answered


def calibrated(held_true: np.ndarray, held_answered: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(P(group | answer) as a k x k matrix, the held-out mix): an answer never given on the
    held-out set gets the held-out mix."""
    counts = np.zeros((k, k))
    np.add.at(counts, (held_answered, held_true), 1)
    mix = np.bincount(held_true, minlength=k) / max(len(held_true), 1)
    given = counts.sum(axis=1, keepdims=True)
    return np.where(given > 0, counts / np.maximum(given, 1), mix), mix


def _redraw(rng, counts: np.ndarray) -> np.ndarray:
    """Counts in shares drawn around `counts` (Dirichlet, Jeffreys' prior), rounded: the spread is
    the Bayesian bootstrap's, without a second multinomial draw on top (which would double it).
    Rounding moves a share by at most half an answer (1 point at 50 images); a larger scale
    changed the ranges by under a point and cost twice the time."""
    shares = rng.dirichlet(counts + 0.5)
    return np.rint(shares * counts.sum() * REDRAW_SCALE).astype(int)


def _answers(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def _redraw_rows(rng, confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Held-out (true groups, answers) redrawn group by group, each group's share of them kept."""
    rows = np.array([_redraw(rng, row) if row.sum() else row for row in confusion])
    return held_out_pairs(rows)


def estimate(probs, *, confusion=None, n_boot: int = 200, level: float = 0.95, seed: int = 0) -> dict:
    """Each method's estimated share per group, with a `level` bootstrap interval.

    probs: (n images, k groups), columns in label-set order. confusion: the held-out
    confusion matrix as counts (rows: true group, columns: answer), or None. Returns {"n",
    "methods": {name: {"share", "low", "high"} or None}, "why_not": {name: reason}} with
    shares as lists in label-set order."""
    from quapy.method.confidence import ConfidenceIntervals

    probs = np.asarray(probs, dtype=np.float64)
    n, k = probs.shape
    cc, acc, emq = _quantifiers(k)
    why_not = {}
    true = answered = None
    if confusion is not None and np.asarray(confusion).sum() > 0:
        true, answered = held_out_pairs(confusion)
    else:
        why_not["adjusted"] = why_not["em"] = NO_HELD_OUT

    def run(answers, held_true, held_answered) -> dict:
        out = {"raw": cc.aggregate(answers)}
        if true is not None:
            acc.aggregation_fit(held_answered, held_true)
            out["adjusted"] = acc.aggregate(answers)
            posterior, emq.train_prevalence = calibrated(held_true, held_answered, k)
            out["em"] = emq.aggregate(posterior[answers])
        return out

    answers = probs.argmax(axis=1)
    point = run(answers, true, answered)
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in point}
    for _ in range(n_boot):
        sample = _answers(_redraw(rng, np.bincount(answers, minlength=k)))
        held = _redraw_rows(rng, np.asarray(confusion, dtype=int)) if true is not None else (None, None)
        result = run(sample, *held)
        for name, value in result.items():
            draws[name].append(value)
    methods = {}
    for name in METHODS:
        if name not in point:
            methods[name] = None
            continue
        region = ConfidenceIntervals(np.array(draws[name]), confidence_level=level)
        methods[name] = {
            "share": _rounded(point[name]),
            "low": _rounded(np.minimum(region.I_low, point[name])),
            "high": _rounded(np.maximum(region.I_high, point[name])),
        }
    return {"n": n, "level": level, "methods": methods, "why_not": why_not}


def _rounded(values) -> list[float]:
    return [round(float(v), 4) for v in values]
