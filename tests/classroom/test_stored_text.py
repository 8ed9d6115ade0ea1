"""What a worker stored in English is shown in the page's language (inference.stored_text)."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from classroom.models import Prediction
from classroom.services import predictions, sweeper
from classroom.services.submissions import submit_photo
from classroom.stored_text import translated
from inference import intake
from tests.helpers import synthetic_upload
from training import progress
from training.services import jobs

STORED = [
    progress.FINETUNE_EPOCH % {"epoch": 3, "epochs": 29},
    jobs.LAB_DONE % {"images": "1,000", "accuracy": "85%"},
    sweeper.give_up_message(3600),
    sweeper.give_up_message(24 * 3600),
    predictions.PHOTO_GONE,
    intake.NOT_ACCEPTED_KIND % {"what": "a GIF image"},
    "Training the MLP",
]


@pytest.fixture(scope="module")
def spanish():
    """The Spanish catalogue compiled (make test does this too), and Django's cache of it reset."""
    call_command("compilemessages", locale=["es"], ignore_patterns=[".venv", "var"], verbosity=0)
    with override_settings(LOCALE_PATHS=settings.LOCALE_PATHS):  # resets the loaded catalogues
        yield
    translation.deactivate()  # a Spanish request leaves its language active in this thread


def test_english_readers_see_exactly_what_was_stored():
    with translation.override("en"):
        for text in [*STORED, "holiday.jpg", ""]:
            assert translated(text) == text


def test_spanish_readers_see_a_translation_with_the_same_values(spanish):
    with translation.override("es"):
        shown = {text: translated(text) for text in STORED}
        for text, result in shown.items():
            assert result and result != text, text
        epoch = shown[progress.FINETUNE_EPOCH % {"epoch": 3, "epochs": 29}]
        assert "3" in epoch and "29" in epoch
        # "1,000" would read as one in Spanish: the number is written the reader's way.
        assert "1\xa0000" in shown[jobs.LAB_DONE % {"images": "1,000", "accuracy": "85%"}]
        # One hour and 24 hours are told apart: each English form has its own translation.
        one, day = shown[sweeper.give_up_message(3600)], shown[sweeper.give_up_message(24 * 3600)]
        assert " 1 " in one and " 24 " in day and one.replace(" 1 ", " 24 ") != day
        # A value that is a message itself is translated too.
        assert translation.gettext("a GIF image") in shown[intake.NOT_ACCEPTED_KIND % {"what": "a GIF image"}]
        # Anything not recognised (a file name, a technical error) is shown as it was stored.
        assert translated("holiday.jpg") == "holiday.jpg"
        assert translated("ValueError: 3 is not 4") == "ValueError: 3 is not 4"


@pytest.mark.django_db
def test_a_failed_answer_is_explained_in_the_students_language(spanish, student, assignment):
    submission = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    gave_up = sweeper.give_up_message(24 * 3600)
    Prediction.objects.filter(submission=submission).update(status=Prediction.Status.FAILED, error=gave_up)
    client = Client()
    client.force_login(student)
    url = reverse("submission_status", args=[submission.public_id])

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["predictions"]
    spanish_answers = client.get(url, HTTP_ACCEPT_LANGUAGE="es").json()["predictions"]

    assert {p["error"] for p in english} == {gave_up}
    with translation.override("es"):
        assert {p["error"] for p in spanish_answers} == {translated(gave_up)} != {gave_up}
    assert Prediction.objects.filter(submission=submission, error=gave_up).count() == len(english)  # never saved
