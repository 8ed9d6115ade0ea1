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
