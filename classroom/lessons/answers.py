"""What the answer page says about each model's guess: right or wrong, and the training mix behind it."""

from ..models import Prediction, Submission

NO_FACE = (
    "The face finder could not find a face in this photo, so the model looked at the middle of the photo "
    "instead. Its guess may be about the background, hair or clothes rather than a face: treat it with extra care."
)


def verdict(prediction: Prediction, submission: Submission) -> bool | None:
    """Right or wrong, when the image's group is known (a gallery image); None otherwise."""
    if prediction.status != Prediction.Status.DONE or not submission.true_label:
        return None
    return prediction.label == submission.true_label


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
    parts = [f"{comp[g]:,} {g}" for g in shown]
    sentence = "In training, this model saw " + (
        ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    )
    sentence += " images."
    if truth and truth != most and comp.get(truth):
        times = comp[most] / comp[truth]
        if times >= 1.5:
            sentence += f" That is {times:.0f} times more {most} than {truth}."
            if guess != truth:
                sentence += f" A model that rarely saw {truth} learns less about it, and is wrong about it more often."
    elif truth and all(n == comp[truth] for n in comp.values()):
        sentence = f"In training, this model saw the same number of images of every group ({comp[truth]:,} each)."
    return sentence


def face_note(prediction: Prediction, submission: Submission) -> str:
    """Only uploads are searched for a face: a gallery image is already a face crop."""
    if submission.gallery_image_id or submission.true_label or prediction.face_found is not False:
        return ""
    return NO_FACE


def explain(prediction: Prediction, submission: Submission) -> dict:
    right = verdict(prediction, submission)
    return {
        "correct": right,
        "verdict": "" if right is None else ("Right" if right else "Wrong"),
        "mix": mix_sentence(prediction, submission),
        "face_note": face_note(prediction, submission),
    }
