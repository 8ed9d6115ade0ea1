"""Hostile, malformed and unusual files posted through the real submit view.

Every refused file gets a clear message and leaves nothing behind (no stored
file anywhere under MEDIA_ROOT, no Submission). Every accepted file is stored
as a clean JPEG, and the worker path runs on it to a final answer and deletes
it. Bodies over the limit are refused before they are read.
"""

import html
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from classroom.models import Prediction, Submission
from classroom.services.predictions import run_prediction
from tests.helpers import media_files
from tests.hostile_files import CASES, encode, noisy, solid

pytestmark = pytest.mark.django_db


def post_photo(client, assignment, upload, **fields):
    return client.post(reverse("submit", args=[assignment.public_id]), {"photo": upload, "note": "corpus", **fields})


def assert_nothing_stored():
    assert media_files() == []
    assert not Submission.objects.exists()
    assert not Prediction.objects.exists()


def test_the_corpus_is_big_and_varied():
    assert len(CASES) >= 40
    assert sum(bool(c.refused) for c in CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_file_is_refused_clearly_or_accepted_correctly(
    client, student, assignment, case, django_capture_on_commit_callbacks
):
    client.force_login(student)
    raw = case.build()
    response = post_photo(client, assignment, SimpleUploadedFile(case.filename, raw, content_type=case.content_type))

    if case.refused:
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        errors = " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S))
        assert re.search(case.refused, errors), errors or page[:2000]
        assert_nothing_stored()
        return

    assert response.status_code == 302, html.unescape(response.content.decode())[:2000]
    submission = Submission.objects.get()
    stored = default_storage.open(submission.photo).read()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and img.mode == "RGB"
    assert not img.getexif() and not ({"exif", "icc_profile", "comment"} & set(img.info))
    assert max(img.size) <= settings.UPLOAD_STORE_MAX_SIDE
    if case.check:
        case.check(img, stored)
    assert [p.name for p in media_files()] == [Path(submission.photo).name]  # one copy, under a random name
    assert case.filename.split("/")[-1] not in submission.photo

    # The worker path, in this process: every model answers and the photo goes.
    with django_capture_on_commit_callbacks(execute=True):
        for prediction in submission.predictions.all():
            run_prediction(prediction_id=prediction.pk)
    for prediction in submission.predictions.all():
        assert prediction.status == "done", prediction.error
        assert prediction.label in assignment.label_set.labels
    submission.refresh_from_db()
    assert submission.photo == "" and submission.photo_deleted_at is not None
    assert media_files() == []


@pytest.mark.parametrize(
    "name",
    ["zero-bytes", "truncated-jpeg", "svg-with-script", "png-bomb-225-megapixels", "html-renamed-jpg", "random-bytes"],
)
def test_worker_never_crashes_on_a_stored_file_gone_bad(student, assignment, name, django_capture_on_commit_callbacks):
    """Stored photos are always clean JPEGs; if one is damaged on disk anyway, each
    model fails with a message instead of the worker crashing."""
    from django.core.files.base import ContentFile

    case = next(c for c in CASES if c.name == name)
    stored = default_storage.save("uploads/bad.jpg", ContentFile(case.build()))
    submission = Submission.objects.create(assignment=assignment, student=student, photo=stored)
    preds = [
        Prediction.objects.create(submission=submission, model_version=mv) for mv in assignment.model_versions.all()
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for p in preds:
            assert run_prediction(prediction_id=p.pk) == "failed"
    for p in preds:
        p.refresh_from_db()
        assert p.status == "failed" and p.error and p.attempts == 1
    assert media_files() == []


def test_body_over_the_limit_is_refused_unread(client, student, assignment):
    """The middleware answers from Content-Length alone: reading the body would fail this test."""

    class Unreadable(io.RawIOBase):
        def read(self, *args):
            raise AssertionError("the request body was read")

        readline = read

    client.force_login(student)
    response = client.generic(
        "POST",
        reverse("submit", args=[assignment.public_id]),
        data=b"x",
        content_type="multipart/form-data; boundary=zzz",
        CONTENT_LENGTH=str(50 * 1024**3),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    page = html.unescape(response.content.decode())
    assert "larger than 10 MB" in page and reverse("assignment", args=[assignment.public_id]) in page
    assert_nothing_stored()


def test_real_eleven_megabyte_upload_gets_the_friendly_page(client, student, assignment):
    client.force_login(student)
    big = encode(solid(), "JPEG") + bytes(11 * 1024 * 1024)
    response = post_photo(client, assignment, SimpleUploadedFile("big.jpg", big, content_type="image/jpeg"))
    assert response.status_code == 413
    assert "larger than 10 MB" in html.unescape(response.content.decode())
    assert_nothing_stored()


def test_api_paths_get_json_413(client, student):
    client.force_login(student)
    response = client.generic("POST", "/api/anything/", data=b"x", CONTENT_LENGTH=str(10**10))
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


@override_settings(UPLOAD_MAX_BYTES=100_000)
def test_file_over_the_limit_inside_the_body_allowance_gets_a_form_error(client, student, assignment):
    client.force_login(student)
    photo = encode(noisy((300, 300)), "PNG")
    assert 100_000 < len(photo) < 300_000
    response = post_photo(client, assignment, SimpleUploadedFile("a.png", photo, content_type="image/png"))
    assert response.status_code == 400
    assert "This file is larger than" in html.unescape(response.content.decode())
    assert_nothing_stored()


def test_malformed_multipart_is_a_400_not_a_500(client, student, assignment):
    client.force_login(student)
    url = reverse("submit", args=[assignment.public_id])
    for content_type, body in [
        ("multipart/form-data", b"--no-boundary-given\r\n"),
        ("multipart/form-data; boundary=", b"whatever"),
        ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data; name=photo; filename=x\r\n"),
    ]:
        response = client.generic("POST", url, data=body, content_type=content_type)
        assert response.status_code == 400, (content_type, response.status_code)
    assert_nothing_stored()


def test_missing_photo_and_too_many_files(client, student, assignment):
    client.force_login(student)
    response = client.post(reverse("submit", args=[assignment.public_id]), {"note": "no photo"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    files = {f"f{i}": SimpleUploadedFile(f"{i}.png", encode(solid(), "PNG")) for i in range(8)}
    response = client.post(reverse("submit", args=[assignment.public_id]), files)
    assert response.status_code == 400
    assert_nothing_stored()


def test_photos_under_the_limit_never_touch_a_temporary_file():
    """Django writes an upload to a temp file only above FILE_UPLOAD_MAX_MEMORY_SIZE; every
    body that large is already refused unread, so no copy of a photo is ever written there."""
    from classroom.middleware import request_max_bytes

    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= request_max_bytes()
