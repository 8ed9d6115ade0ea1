"""Agreement between students' perceived groups and the dataset's labels.

In the perception lesson every student labels gallery images with the group they
*perceive*. The lesson page then shows, per dataset group and for all images, how
often the class agreed with the dataset's label and with each other, so students see
that a dataset's "true group" is itself a perception that people do not share.

Pure Python on purpose: the lesson view feeds it plain tuples from the database, and
tests need neither a database nor numpy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class AgreementRow:
    """Agreement figures for the images of one dataset group, or for all images."""

    group: str | None  # dataset label of the images; None for the "all images" row
    images: int  # images with at least one perception
    perceptions: int  # perception ratings counted
    agree_with_label: int  # ratings equal to the image's dataset label
    # share of ratings that equal the dataset label (None when perceptions == 0)
    label_agreement: float | None
    # mean over images with >= 2 ratings of the share of agreeing rater pairs (Fleiss' P_i); None if no such image
    pairwise_agreement: float | None
    # Fleiss' kappa over images with >= 2 ratings (None when undefined: < 2 such images or expected agreement == 1)
    kappa: float | None
    rated_by_two: int  # images with >= 2 ratings (what pairwise_agreement and kappa are based on)


@dataclass
class _Image:
    label: str
    counts: Counter[str]


def perception_agreement(ratings: Iterable[tuple[Hashable, str, str]], groups: list[str]) -> list[AgreementRow]:
    """ratings: (image id, dataset label, perceived choice).

    Returns one row per group in `groups` order, then the all-images row.

    Perceived choices are categories as given, so "Not sure" and "More than one group" count
    as categories of their own for pairwise agreement and kappa, and never agree with a label.
    Images whose label is not in `groups` only count in the all-images row.

    Raises ValueError if one image id comes with two different labels, because the
    figures would then depend on which rating happened to come first.
    """
    images: dict[Hashable, _Image] = {}
    for image_id, label, choice in ratings:
        image = images.get(image_id)
        if image is None:
            image = images[image_id] = _Image(label=label, counts=Counter())
        elif image.label != label:
            raise ValueError(f"image {image_id!r} has two dataset labels: {image.label!r} and {label!r}")
        image.counts[choice] += 1

    rows = [_row(group, [image for image in images.values() if image.label == group]) for group in groups]
    rows.append(_row(None, list(images.values())))
    return rows


def _row(group: str | None, images: list[_Image]) -> AgreementRow:
    """Compute one row; fractions keep P_e == 1 exact so kappa's undefined case is detected reliably."""
    perceptions = sum(image.counts.total() for image in images)
    agree_with_label = sum(image.counts[image.label] for image in images)

    multi = [image.counts for image in images if image.counts.total() >= 2]
    pairwise: Fraction | None = None
    kappa: Fraction | None = None
    if multi:
        pairwise = sum((_pair_share(counts) for counts in multi), Fraction(0)) / len(multi)
    if len(multi) >= 2:
        totals: Counter[str] = Counter()
        for counts in multi:
            totals.update(counts)
        n = totals.total()
        expected = sum(Fraction(c, n) ** 2 for c in totals.values())
        if expected != 1:
            kappa = (pairwise - expected) / (1 - expected)

    return AgreementRow(
        group=group,
        images=len(images),
        perceptions=perceptions,
        agree_with_label=agree_with_label,
        label_agreement=agree_with_label / perceptions if perceptions else None,
        pairwise_agreement=float(pairwise) if pairwise is not None else None,
        kappa=float(kappa) if kappa is not None else None,
        rated_by_two=len(multi),
    )


def _pair_share(counts: Counter[str]) -> Fraction:
    """Fleiss' P_i: share of ordered rater pairs on one image that chose the same category."""
    n = counts.total()
    return Fraction(sum(c * c for c in counts.values()) - n, n * (n - 1))
