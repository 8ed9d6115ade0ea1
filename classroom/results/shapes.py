"""The result structures the dashboards, projector and API read (built from aggregated rows)."""

from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings

from inference.models import ModelVersion

from .stats import ratio, wilson_interval


@dataclass
class GroupAccuracy:
    """One group, for one model: tests whose group is known (a gallery image's label) or expected.

    Accuracy and its interval count each gallery image once: the same model gives the same
    answer to the same image, so testing it again adds no evidence. An upload is its own image.
    Below settings.MIN_TESTS_PER_GROUP such images the group has "not enough tests yet"."""

    group: str
    total: int = 0  # answered tests with this group
    correct: int = 0  # ...where the model guessed that group
    no_face: int = 0  # ...where no face was found
    looked: int = 0  # ...where a face was looked for (uploads; gallery images are face crops)
    mine_total: int = 0
    mine_correct: int = 0
    images: int = 0  # distinct images among those tests (what accuracy counts)
    images_correct: int = 0  # ...that the model guessed right

    @property
    def accuracy(self) -> float | None:
        return ratio(self.images_correct, self.images)

    @cached_property
    def interval(self) -> tuple[float, float] | tuple[None, None]:
        return wilson_interval(self.images_correct, self.images)

    @property
    def enough(self) -> bool:
        return self.images >= settings.MIN_TESTS_PER_GROUP

    @property
    def repeats(self) -> int:
        """Tests of an image already tested (not counted again)."""
        return self.total - self.images

    @property
    def low(self) -> float | None:
        return self.interval[0]

    @property
    def high(self) -> float | None:
        return self.interval[1]

    @property
    def face_not_found_rate(self) -> float | None:
        return ratio(self.no_face, self.looked)

    @property
    def mine_accuracy(self) -> float | None:
        return ratio(self.mine_correct, self.mine_total)


@dataclass
class Disparity:
    """The best- and worst-served groups (among groups with at least one test)."""

    best: GroupAccuracy
    worst: GroupAccuracy

    @property
    def gap(self) -> float:
        return self.best.accuracy - self.worst.accuracy

    @property
    def overlap(self) -> bool:
        return not self.clear

    @property
    def ratio(self) -> float | None:
        """Lowest accuracy divided by highest (1 = equal; 0.8 is the usual "four-fifths" warning line)."""
        return self.worst.accuracy / self.best.accuracy if self.best.accuracy else None

    @property
    def clear(self) -> bool:
        """True when the two 95% intervals do not overlap: more data is unlikely to close the gap."""
        return self.worst.high < self.best.low


@dataclass
class ConfusionRow:
    group: str  # expected
    cells: list[int]  # guesses, in label order
    total: int = 0

    @property
    def enough(self) -> bool:
        return self.total >= settings.MIN_TESTS_PER_GROUP

    @property
    def shares(self) -> list[float | None]:
        """Each cell's share of the row; none below the minimum (one test is not "100%")."""
        return [ratio(n, self.total) if self.enough else None for n in self.cells]


@dataclass
class TrendPoint:
    """Cumulative numbers up to the end of one time bucket."""

    start: object  # aware datetime: the bucket's start
    tests: int  # answered tests with an expected group, so far
    groups: list[tuple[int, int]]  # (total, correct) so far, per group in label order

    @cached_property
    def accuracies(self) -> list[float | None]:
        """So far, per group; none below the minimum number of tests, as everywhere else."""
        return [ratio(c, t) if t >= settings.MIN_TESTS_PER_GROUP else None for t, c in self.groups]

    @property
    def gap(self) -> float | None:
        accs = [a for a in self.accuracies if a is not None]
        return max(accs) - min(accs) if len(accs) >= 2 else None


@dataclass
class ModelResults:
    """One model's numbers in a scope. (Cached properties are read only once compute() has filled the counts.)"""

    model: ModelVersion
    labels: list[str] = field(default_factory=list)
    done: int = 0
    pending: int = 0  # waiting or running
    failed: int = 0
    no_face: int = 0  # answered, but no face was found (the model looked at the centre)
    looked: int = 0  # answered uploads, where a face was looked for
    looked_unknown_group: int = 0
    no_face_unknown_group: int = 0
    unknown_group: int = 0  # answered without an expected group
    predicted: list[tuple[str, int]] = field(default_factory=list)  # all answered tests, label order
    groups: list[GroupAccuracy] = field(default_factory=list)  # every label, in order
    confusion: list[ConfusionRow] = field(default_factory=list)
    mine_done: int = 0
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def with_expected(self) -> int:
        return sum(g.total for g in self.groups)

    @property
    def correct(self) -> int:
        return sum(g.correct for g in self.groups)

    @property
    def images(self) -> int:
        return sum(g.images for g in self.groups)

    @property
    def images_correct(self) -> int:
        return sum(g.images_correct for g in self.groups)

    @property
    def accuracy(self) -> float | None:
        """Overall accuracy, each image once (as per group)."""
        return ratio(self.images_correct, self.images)

    @cached_property
    def interval(self):
        return wilson_interval(self.images_correct, self.images)

    @property
    def enough(self) -> bool:
        return self.images >= settings.MIN_TESTS_PER_GROUP

    @property
    def short_groups(self) -> list["GroupAccuracy"]:
        """Groups with some tests, but not enough yet."""
        return [g for g in self.groups if g.total and not g.enough]

    @property
    def mine_total(self) -> int:
        return sum(g.mine_total for g in self.groups)

    @property
    def mine_correct(self) -> int:
        return sum(g.mine_correct for g in self.groups)

    @property
    def mine_accuracy(self) -> float | None:
        return ratio(self.mine_correct, self.mine_total)

    @property
    def expected(self) -> list[tuple[str, int]]:
        """How many answered tests expected each group."""
        return [(g.group, g.total) for g in self.groups]

    @property
    def predicted_known(self) -> list[tuple[str, int]]:
        """Guesses among the tests with an expected group (the confusion matrix's column sums)."""
        return [(label, sum(row.cells[j] for row in self.confusion)) for j, label in enumerate(self.labels)]

    @property
    def tested_groups(self) -> list[GroupAccuracy]:
        """Groups with enough tests to show a rate."""
        return [g for g in self.groups if g.enough]

    @cached_property
    def disparity(self) -> Disparity | None:
        """Only between groups with enough tests: a gap from two or three tests is noise."""
        tested = self.tested_groups
        if len(tested) < 2:
            return None
        # Ties: the first in label order, so the answer is stable.
        best = max(tested, key=lambda g: g.accuracy)
        worst = min(tested, key=lambda g: g.accuracy)
        return Disparity(best=best, worst=worst)

    @property
    def face_not_found_rate(self) -> float | None:
        return ratio(self.no_face, self.looked)

    @cached_property
    def over_represented(self) -> str | None:
        """The group this model saw most of in training, if its training mix was unequal."""
        comp = {g: n for g, n in (self.model.composition or {}).items() if g in self.labels}
        if len(comp) < 2 or max(comp.values()) == min(comp.values()):
            return None
        return max(self.labels, key=lambda g: comp.get(g, -1))


@dataclass
class PairGroup:
    group: str
    a_only: int = 0  # model A guesses this group, model B guesses another
    b_only: int = 0


@dataclass
class PairResults:
    """Two models on the same photos."""

    a: ModelResults
    b: ModelResults
    both: int = 0  # photos both models answered
    agree: int = 0
    groups: list[PairGroup] = field(default_factory=list)
    # Where they disagree and the expected group is known: who was right?
    disagree_known: int = 0
    a_right: int = 0
    b_right: int = 0

    @property
    def disagree(self) -> int:
        return self.both - self.agree

    @property
    def agreement(self) -> float | None:
        return ratio(self.agree, self.both)

    @property
    def neither_right(self) -> int:
        return self.disagree_known - self.a_right - self.b_right

    @property
    def highlight(self) -> str | None:
        """The over-represented group of whichever model had an unequal training mix."""
        return self.a.over_represented or self.b.over_represented


@dataclass
class Results:
    models: list[ModelResults]
    pairs: list[PairResults]
    granularity: str | None = None  # trend bucket: minute, hour, day or week
    first: object = None
    last: object = None
    shows_mine: bool = False

    @property
    def by_key(self) -> dict[str, ModelResults]:
        return {r.model.key: r for r in self.models}
