import pytest


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
    import shutil
    from pathlib import Path

    from django.conf import settings

    yield
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "audits", ignore_errors=True)
