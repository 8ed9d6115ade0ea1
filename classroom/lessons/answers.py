"""What the answer page says about each model's guess: right or wrong, and the training mix behind it."""

from django.utils import formats
from django.utils.translation import gettext, gettext_lazy, pgettext

from ..models import Prediction, Submission

NO_FACE = gettext_lazy(
    "The face finder could not find a face in this photo, so the model looked at the middle of the photo "
    "instead. Its guess may be about the background, hair or clothes rather than a face: treat it with extra care."
)


def verdict(prediction: Prediction, submission: Submission) -> bool | None:
    """Right or wrong, when the image's group is known (a gallery image); None otherwise."""
    if prediction.status != Prediction.Status.DONE or not submission.true_label:
        return None
    return prediction.label == submission.true_label


def _saw(comp: dict[str, int], shown: list[str]) -> str:
    """ "In training, this model saw 1,000 Group A and 100 Group C images." (one to three groups)"""
    values = {}
    for i, g in enumerate(shown, 1):
        values[f"n{i}"] = formats.number_format(comp[g], force_grouping=True)
        values[f"g{i}"] = g
    if len(shown) == 1:
        return gettext("In training, this model saw %(n1)s %(g1)s images.") % values
    if len(shown) == 2:
        return gettext("In training, this model saw %(n1)s %(g1)s and %(n2)s %(g2)s images.") % values
    return gettext("In training, this model saw %(n1)s %(g1)s, %(n2)s %(g2)s and %(n3)s %(g3)s images.") % values


def mix_sentence(prediction: Prediction, submission: Submission) -> str:
    """Links the guess to the training mix: "In training, this model saw 1,000 Group A images
    and only 100 Group C images (10 times fewer)."""
    comp = prediction.model_version.composition or {}
    if prediction.status != Prediction.Status.DONE or not comp:
        return ""
    guess, truth = prediction.label, submission.true_label or submission.expected_label
    if truth not in comp:
        truth = ""
    most = max(comp, key=lambda g: comp[g])
    shown = [g for g in dict.fromkeys([most, truth, guess]) if g and g in comp]
    sentences = [_saw(comp, shown)]
    if truth and truth != most and comp.get(truth):
        times = comp[most] / comp[truth]
        if times >= 1.5:
            sentences.append(
                gettext("That is %(times)s times more %(most)s than %(truth)s.")
                % {"times": f"{times:.0f}", "most": most, "truth": truth}
            )
            if guess != truth:
                sentences.append(
                    gettext("A model that rarely saw %(truth)s learns less about it, and is wrong about it more often.")
                    % {"truth": truth}
                )
    elif truth and all(n == comp[truth] for n in comp.values()):
        return gettext("In training, this model saw the same number of images of every group (%(n)s each).") % {
            "n": formats.number_format(comp[truth], force_grouping=True)
        }
    return " ".join(sentences)


def face_note(prediction: Prediction, submission: Submission) -> str:
    """Only uploads are searched for a face: a gallery image is already a face crop."""
    if submission.gallery_image_id or submission.true_label or prediction.face_found is not False:
        return ""
    return str(NO_FACE)


def explain(prediction: Prediction, submission: Submission) -> dict:
    right = verdict(prediction, submission)
    if right is None:
        said = ""
    else:
        said = pgettext("a model's answer", "Right") if right else pgettext("a model's answer", "Wrong")
    return {
        "correct": right,
        "verdict": said,
        "mix": mix_sentence(prediction, submission),
        "face_note": face_note(prediction, submission),
    }
