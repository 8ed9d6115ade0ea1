import shutil
from pathlib import Path

import pytest
from django.conf import settings

from classroom.services import gallery
from training.importers.synthetic import import_synthetic


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Call a service as if its transaction committed: what it defers to the commit (deleting
    files, queueing tasks) runs too. Queued tasks go to Redis; these tests run the workers'
    steps themselves."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call


@pytest.fixture(autouse=True)
def _no_audit_files_left():
    """Rows roll back after each test, files do not: a test that stops halfway leaves none behind."""
    yield
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "audits", ignore_errors=True)


@pytest.fixture
def consented(assignment):
    """The experiment's class has confirmed the school's consent policy."""
    classroom = assignment.classroom
    classroom.consent_confirmed_at = classroom.created_at
    classroom.save()
    return assignment


@pytest.fixture
def with_gallery(assignment):
    """The experiment's class with a test gallery of 6 generated images per group."""
    dataset = import_synthetic(train_per_group=2, test_per_group=6).dataset
    gallery.publish_gallery(
        classroom=assignment.classroom, teacher=assignment.classroom.teacher, dataset=dataset, per_group=6
    )
    yield assignment
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)
