"""Mean saliency maps per model and true group, over a scope's gallery tests: where each model
looks for each group. Gallery images are aligned face crops, so their maps can be averaged.

Each map is scaled to its own peak first (positive evidence only), so one very sure answer
does not outweigh the rest; each gallery image counts once per model, as in the results."""

from dataclasses import dataclass

from django.conf import settings

from ..models import Prediction
from .scope import Scope


@dataclass
class GroupMap:
    group: str
    tests: int  # different gallery images whose map went into the mean
    grid: list[list[float]] | None  # None below the minimum number of tests
    method: str = ""

    @property
    def enough(self) -> bool:
        return self.grid is not None


def _scaled(grid: list[list[float]]) -> list[list[float]] | None:
    peak = max((v for row in grid for v in row), default=0)
    return [[max(0.0, v) / peak for v in row] for row in grid] if peak > 0 else None


def mean_maps(scope: Scope, models) -> dict[str, list[GroupMap]]:
    """{model key: [GroupMap per group, in label order]} for the scope's gallery tests."""
    rows = (
        Prediction.objects.filter(scope.predictions, status=Prediction.Status.DONE, saliency__isnull=False)
        .exclude(submission__gallery_image=None)
        .order_by("submission__created_at")
        .values_list("model_version_id", "submission__gallery_image_id", "submission__true_label", "saliency")
    )
    sums: dict[tuple, list] = {}  # (model id, group) -> [grid sum, count, method, shape]
    seen = set()
    for model_id, image_id, group, saliency in rows.iterator(chunk_size=500):
        if (model_id, image_id) in seen:
            continue  # each image once per model, as everywhere else
        seen.add((model_id, image_id))
        grid = _scaled(saliency.get("grid") or [])
        if grid is None:
            continue
        shape = (len(grid), len(grid[0]))
        acc = sums.setdefault(
            (model_id, group), [[[0.0] * shape[1] for _ in range(shape[0])], 0, saliency["method"], shape]
        )
        if acc[3] != shape:
            continue
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                acc[0][r][c] += v
        acc[1] += 1
    out = {}
    for model in models:
        maps = []
        for group in model.label_set.labels:
            total, n, method, _ = sums.get((model.pk, group), (None, 0, "", None))
            enough = n >= settings.MIN_TESTS_PER_GROUP
            grid = [[round(v / n, 4) for v in row] for row in total] if enough else None
            maps.append(GroupMap(group, n, grid, method))
        out[model.key] = maps
    return out
