import os
import shutil
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from tests import factories
from tests.workers import start_worker, stop_worker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _real_services_reachable():
    """PostgreSQL is checked by pytest-django itself; a missing Redis fails the run too."""
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {os.environ['REDIS_URL']} is unreachable ({exc}); tests need the real broker.")


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Torn down just before the test database is dropped: the live server's
    request threads can leave a connection behind that would block the drop."""
    yield
    from django.db import OperationalError

    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    except OperationalError:
        pass  # no test database was created in this run


@pytest.fixture(autouse=True)
def _empty_upload_folder():
    """Each test starts with no stored photos (uploads, gallery copies), so "nothing left behind" checks are exact."""
    for name in ("uploads", "gallery"):
        folder = Path(settings.MEDIA_ROOT) / name
        if folder.exists():
            shutil.rmtree(folder)


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in the default language: a request in another language (the test client's
    LocaleMiddleware activates it for the thread) must not carry over into the next test."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def dataset(db):
    """The synthetic demo set on disk (10 training and 6 held-out images per group), registered as a Dataset."""
    from training.importers.synthetic import import_synthetic

    return import_synthetic(train_per_group=10, test_per_group=6).dataset


@pytest.fixture
def run_all(django_capture_on_commit_callbacks):
    """Run every prediction of a submission as a worker would, on-commit hooks included."""
    from classroom.services import predictions

    def run(submission):
        with django_capture_on_commit_callbacks(execute=True):
            for p in submission.predictions.all():
                predictions.run_prediction(prediction_id=p.pk)

    return run


class _Rollback(Exception):
    pass


def _train_fields(**kwargs) -> list[dict]:
    """Train a demo MLP pair; its files stay in the model store, its rows are rolled back."""
    from training.services.mlp import train_demo_mlp_pair

    fields = []
    try:
        with transaction.atomic():
            report = train_demo_mlp_pair(**kwargs)
            for mv in (report.balanced, report.unbalanced):
                fields.append(
                    {
                        f.name: getattr(mv, f.name)
                        for f in mv._meta.concrete_fields
                        if f.name not in ("id", "label_set", "created_by", "created_at", "lineage", "version")
                    }
                )
            raise _Rollback
    except _Rollback:
        pass
    return fields


def _register(fields: list[dict]) -> tuple:
    from inference.services import register_model_version
    from training.services.mlp import demo_label_set

    label_set = demo_label_set()
    return tuple(register_model_version(label_set=label_set, **dict(f)) for f in fields)


@pytest.fixture(scope="session")
def trained_demo_fields(django_db_setup, django_db_blocker):
    """A tiny demo pair, trained once per run (fast, and weak: fine for the plumbing)."""
    with django_db_blocker.unblock():
        return _train_fields(total=280, test_per_group=20, k=10)


@pytest.fixture
def demo_models(db, trained_demo_fields):
    """The tiny demo pair registered in this test's database: (balanced, unbalanced)."""
    return _register(trained_demo_fields)


@pytest.fixture(scope="session")
def sturdier_demo_fields(django_db_setup, django_db_blocker):
    """A demo pair good enough for its numbers to mean something (about 10 s to train): 1,000
    training images (10x Group A for the unbalanced one), 100 held-out images per group."""
    with django_db_blocker.unblock():
        return _train_fields(total=1000, test_per_group=100, k=10)


@pytest.fixture
def sturdier_demo_models(db, sturdier_demo_fields):
    return _register(sturdier_demo_fields)


@pytest.fixture
def teacher(db):
    return factories.TeacherFactory()


@pytest.fixture
def classroom(teacher):
    return factories.ClassroomFactory(teacher=teacher)


@pytest.fixture
def student(classroom):
    return factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))


@pytest.fixture
def assignment(classroom, demo_models):
    from classroom.services.classes import create_assignment

    return create_assignment(
        classroom=classroom,
        title="Mix matters",
        instructions="Test **both** models.",
        model_versions=list(demo_models),
        ask_expected=True,
    )


def _url_for_test_db() -> str:
    u = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(u._replace(path="/" + connection.settings_dict["NAME"]))


QUEUES_BY_WORKER = {"mlp": "mlp", "vgg": "vgg,training,gpu"}  # MLP never waits behind VGG-Face work


@pytest.fixture(scope="session")
def worker_env(django_db_setup, django_db_blocker) -> dict:
    """Environment for worker processes: the PostgreSQL test database and this run's Redis."""
    with django_db_blocker.unblock():
        return {**os.environ, "DATABASE_URL": _url_for_test_db(), "DJANGO_SETTINGS_MODULE": "tests.settings"}


@pytest.fixture(scope="session")
def celery_worker(worker_env):
    """Real Celery worker processes (one for `mlp`, one for the other queues) on Redis and PostgreSQL."""
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    for queue in ("mlp", "vgg", "training", "gpu"):
        broker.delete(queue)  # leftovers of an earlier, interrupted run
    procs = {name: start_worker(worker_env, queues, name) for name, queues in QUEUES_BY_WORKER.items()}
    yield procs
    for proc in procs.values():
        stop_worker(proc)


@pytest.fixture
def quiet_queue():
    """Other workers of this test session (if any are running) stop taking `mlp` tasks meanwhile."""
    from ethitech.celery import app as celery_app

    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("mlp")
    replies = celery_app.control.cancel_consumer("mlp", reply=True, timeout=2) or []
    names = [name for reply in replies for name in reply]
    yield
    if names:
        celery_app.control.add_consumer("mlp", destination=names, reply=True, timeout=2)


@pytest.fixture
def broker_away():
    """The Celery app publishes to a Redis that is not there (nothing listens on port 1). Calling
    what it gives brings the broker back before the test ends."""
    from ethitech.celery import app as celery_app

    saved = celery_app.conf.broker_url

    def use(url):
        celery_app.conf.broker_url = url
        celery_app._pool, celery_app.amqp._producer_pool = None, None

    use("redis://127.0.0.1:1/0")
    yield lambda: use(saved)
    use(saved)


@pytest.fixture
def fresh_registry():
    """No loaded model carried from one test to the next (modules opt in with pytestmark)."""
    from inference import registry

    registry.clear_cache()
    yield
    registry.clear_cache()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 for this run, with an empty bucket.
    A server that cannot start fails the tests that need it; they are never skipped."""
    from tests.object_storage import start_s3_server, stop_s3_server

    try:
        server = start_s3_server(tmp_path_factory.mktemp("seaweedfs"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    stop_s3_server(server)


@pytest.fixture
def object_storage(s3_server, settings):
    """This process stores photos and model copies in the S3 server, as ETHITECH_S3_* would make it."""
    settings.STORAGES = {**settings.STORAGES, **s3_server.storages()}
    s3_server.empty()
    yield s3_server
    s3_server.empty()
