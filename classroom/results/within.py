"""Groups within groups for a scope's gallery tests (Gender Shades): per model, how often it
was right for each true group split by the gallery image's gender or age band (the synthetic
set's made-up style and band). Each image counts once per model, as everywhere in the results;
a cell under the minimum number of tests says "too few" (for students that also keeps a
classmate's single test from standing out)."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inference.stats import wilson_interval

from ..models import Prediction
from .scope import Scope

ATTRIBUTES = {"gender": _("gender"), "age_group": _("age band")}
SYNTHETIC = {"gender": _("style (synthetic, gender-like)"), "age_group": _("band (synthetic, age-like)")}


@dataclass
class Cell:
    tests: int
    right: int

    @property
    def enough(self) -> bool:
        return self.tests >= settings.MIN_TESTS_PER_GROUP

    @property
    def rate(self) -> float | None:
        return self.right / self.tests if self.enough else None

    @property
    def interval(self) -> tuple[float | None, float | None]:
        return wilson_interval(self.right, self.tests) if self.enough else (None, None)


def breakdown(scope: Scope, models, labels: list[str]) -> list[dict]:
    """[{"model", "name" (attribute, in words), "values", "rows": [{"group", "cells"}]}] for each
    model and attribute with at least two values among the scope's gallery tests."""
    rows = (
        Prediction.objects.filter(scope.predictions, status=Prediction.Status.DONE)
        .exclude(submission__gallery_image=None)
        .values_list(
            "model_version_id",
            "submission__gallery_image_id",
            "submission__true_label",
            "label",
            "submission__gallery_image__gender",
            "submission__gallery_image__age_group",
            "submission__gallery_image__synthetic",
        )
    )
    seen, counts, values, synthetic = set(), {}, {a: set() for a in ATTRIBUTES}, False
    for model_id, image_id, truth, answer, gender, age_group, is_synthetic in rows.iterator(chunk_size=500):
        if (model_id, image_id) in seen:
            continue
        seen.add((model_id, image_id))
        synthetic |= is_synthetic
        for attribute, value in (("gender", gender), ("age_group", age_group)):
            if value:
                values[attribute].add(value)
                cell = counts.setdefault((model_id, attribute, truth, value), Cell(0, 0))
                cell.tests += 1
                cell.right += answer == truth
    names = SYNTHETIC if synthetic else ATTRIBUTES
    out = []
    for model in models:
        for attribute, found in values.items():
            if len(found) < 2:
                continue
            kinds = sorted(found)
            table = [
                {"group": g, "cells": [counts.get((model.pk, attribute, g, v), Cell(0, 0)) for v in kinds]}
                for g in labels
            ]
            out.append({"model": model, "name": names[attribute], "values": kinds, "rows": table})
    return out
