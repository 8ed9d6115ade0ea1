"""A large photo is made smaller on the student's device before it is sent (static/js/photo-shrink.js),
upright and without its camera data; a small one goes as it is. In Debian's Chromium."""

import io
import re

import pytest
from PIL import Image

from classroom.models import Submission
from classroom.services.classes import create_assignment
from tests import factories
from tests.integration.pages import login
from tests.integration.test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _experiment(demo_models):
    teacher = factories.TeacherFactory(username="shrink-teacher")
    classroom = factories.ClassroomFactory(teacher=teacher)
    factories.enrol(classroom, factories.StudentFactory(username="shrink-student", created_by=teacher))
    return create_assignment(
        classroom=classroom, title="Shrink", instructions="", model_versions=list(demo_models), ask_expected=False
    )


def _phone_photo(path, size, orientation=1) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera's make, where it was taken and, for a photo
    taken holding the phone upright, orientation 6 (the pixels lie on their side)."""
    img = Image.effect_noise(size, 40).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    img.save(path, format="JPEG", quality=95, exif=exif)
    return path.read_bytes()


@pytest.fixture
def received(monkeypatch):
    """The photo files the server received, in order (the live server runs in this process)."""
    from classroom.services import submissions

    files, intake = [], submissions.clean_upload

    def spy(upload, **kwargs):
        files.append(upload.read())
        upload.seek(0)
        return intake(upload, **kwargs)

    monkeypatch.setattr(submissions, "clean_upload", spy)
    return files


def _send(page, url, path) -> None:
    """Choose the photo and press the button, as a student does."""
    page.goto(url)
    page.set_input_files("#id_photo", str(path))
    page.get_by_role("button", name="Run the models").click()
    page.wait_for_url(re.compile(r"/s/"))


def test_a_phone_photo_is_sent_smaller_upright_and_without_its_camera_data(
    browser,  # noqa: F811
    live_server,
    demo_models,
    received,
    tmp_path,
):
    assignment = _experiment(demo_models)
    original = _phone_photo(tmp_path / "IMG_0001.jpg", (4000, 3000), orientation=6)
    page = browser.new_page()
    login(page, live_server.url, "shrink-student", "pw-student-123")
    _send(page, f"{live_server.url}/a/{assignment.public_id}/", tmp_path / "IMG_0001.jpg")
    [sent] = received
    assert len(sent) < len(original) / 4
    photo = Image.open(io.BytesIO(sent))
    assert photo.format == "JPEG"
    assert photo.size == (1200, 1600)  # turned upright, at the size the server keeps
    assert b"PhoneMaker" not in sent and not photo.getexif()
    assert Submission.objects.filter(assignment=assignment).count() == 1  # and the server took it


def test_a_small_photo_is_sent_as_it_is(browser, live_server, demo_models, received, tmp_path):  # noqa: F811
    assignment = _experiment(demo_models)
    original = _phone_photo(tmp_path / "small.jpg", (800, 600))
    page = browser.new_page()
    login(page, live_server.url, "shrink-student", "pw-student-123")
    _send(page, f"{live_server.url}/a/{assignment.public_id}/", tmp_path / "small.jpg")
    assert received == [original]
    assert Submission.objects.filter(assignment=assignment).count() == 1
