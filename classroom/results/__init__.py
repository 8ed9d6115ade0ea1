"""Class results: every number on the dashboards, from SQL aggregates.

A *scope* says which stored tests to add up (one assignment, or a whole class
across the assignments the viewer may see). `compute()` answers it with one
pass over the scope's tests (plus a query for the models and one for the time
span), whatever their number: an inner query turns each submission into one
row with a short code per model, and two GROUP BYs over it give

1. the joint counts: per combination of expected group, "is it the viewer's",
   and every model's status, face-found flag and guess, how many submissions
   (disagreement between models comes from the same rows: no self-join);
2. the trend: per time bucket and expected group, how many submissions each
   model answered right or wrong.

Python only arranges the aggregated rows (a few hundred at most) into
tables: accuracy with Wilson intervals, confusion matrices, distributions,
disparity, disagreement, cumulative trends, face-not-found rates. It never
sees an individual prediction, and nothing here knows who submitted what
except the viewer's own counts.
"""

from .compute import class_results, compute, trend_granularity, version
from .export import ANSWER_FIELDS, EXPORT_FIELDS, answer_rows, export_rows
from .scope import Scope, assignment_scope, classroom_scope, visible_assignments_q
from .serialize import as_dict, model_dict, pair_dict, thin
from .shapes import ConfusionRow, Disparity, GroupAccuracy, ModelResults, PairGroup, PairResults, Results, TrendPoint
from .stats import wilson_interval

__all__ = [
    "EXPORT_FIELDS",
    "ConfusionRow",
    "Disparity",
    "GroupAccuracy",
    "ModelResults",
    "PairGroup",
    "PairResults",
    "Results",
    "Scope",
    "TrendPoint",
    "as_dict",
    "assignment_scope",
    "class_results",
    "classroom_scope",
    "compute",
    "export_rows",
    "answer_rows",
    "ANSWER_FIELDS",
    "model_dict",
    "pair_dict",
    "thin",
    "trend_granularity",
    "version",
    "visible_assignments_q",
    "wilson_interval",
]
