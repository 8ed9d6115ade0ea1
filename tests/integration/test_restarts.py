"""Restarts in the middle of a burst lose nothing.

A whole stack of its own per test: a private PostgreSQL cluster and a private
redis-server (tests/private_services.py; the machine's shared servers are never
touched), gunicorn with the production settings, and two real Celery workers on
the `mlp` queue whose model runs are slowed and journaled (fault_app.py). A
student sends a burst of 30 photos through the API; in the middle of it:

1. Redis (the broker and the shared cache) is stopped for 5 s and started again
   on the same port, once with its append-only file (as docker-compose.yml runs
   it: the queues survive) and once without persistence (the queues are lost).
   Photos sent while it is down are accepted and answered once it is back.
2. PostgreSQL is stopped for 8 s (a fast shutdown, as a service restart does) and
   started again. Meanwhile every page and API call answers 503 with a plain "try
   again" message, never a 500; the workers keep the answers they have computed
   and store them when the database is back.

Either way every photo gets exactly one answer per model, each model runs once
per photo (the journal), none is claimed twice, nothing stays "pending" or
"running", and every photo is deleted. The times to recover are printed.
"""

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import requests

from tests.helpers import synthetic_upload
from tests.private_services import PrivatePostgres, PrivateRedis, free_port
from tests.workers import start_fault_worker, stop_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parent.parent.parent
BURST = 30  # photos; the experiment has two models
BEFORE_FAULT = 10  # photos sent before the fault, the rest during and after it
MODEL_DELAY = "0.4"  # seconds each model run takes longer (fault_app), so the fault hits work in flight
ANSWERED_WITHIN = 90  # seconds after the restart: the recovery window
TRY_AGAIN = "try again"


class Stack:
    """A private PostgreSQL and Redis, gunicorn and Celery workers, and a student of one experiment."""

    def __init__(self, folder: Path, *, persistent_redis: bool):
        self.folder = folder
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis(folder / "redis", persistent=persistent_redis)
        self.fault_dir = folder / "fault"
        self.fault_dir.mkdir()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ethitech.settings",  # what a deployment runs, not the test settings
            "DATABASE_URL": self.pg.url("ethitech"),
            "REDIS_URL": self.redis.url(0),
            "ETHITECH_DATA_DIR": str(folder / "data"),
            "ETHITECH_FAULT_DIR": str(self.fault_dir),
            "ETHITECH_FAULT_DELAY": MODEL_DELAY,
            "ETHITECH_UPLOADS_PER_MINUTE": str(2 * BURST),
        }
        for name in ("CELERY_BROKER_URL", "ETHITECH_CACHE_URL", "ETHITECH_MEDIA_ROOT", "ETHITECH_MODEL_STORE"):
            self.env.pop(name, None)
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        self.pg.init()
        self.pg.start()
        with psycopg.connect(self.pg.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE ethitech")
        self.redis.start()
        self._manage("migrate", "--noinput", "-v0")
        out = self._python("-m", "tests.integration.restart_setup")
        self.setup = json.loads(re.search(r"^SETUP (.*)$", out, re.M).group(1))
        (self.folder / "data" / "staticfiles").mkdir(parents=True, exist_ok=True)
        with open(self.folder / "web.log", "w") as log:
            self.procs["web"] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "ethitech.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--timeout",
                    "60",
                    "--access-logfile",
                    "-",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for name in ("worker-1", "worker-2"):
            self.procs[name] = start_fault_worker(self.env, name)
        wait_for(self._web_answers, 60, "gunicorn to answer")

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"{self.base}/login/", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def _python(self, *args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done.stdout

    def _manage(self, *args: str) -> str:
        return self._python("manage.py", *args)

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_worker(proc)  # SIGTERM to the process group, SIGKILL after 30 s
        self.redis.stop()
        self.pg.remove()

    def logs(self, tail: int | None = 4000) -> str:
        files = sorted(self.fault_dir.glob("*.log")) + [self.folder / "web.log"]
        return "\n".join(f"--- {p.name}\n{p.read_text()[-(tail or 0) :]}" for p in files if p.exists())

    # --- the student ---------------------------------------------------------------

    def api(self) -> requests.Session:
        """The student's API client (token authentication)."""
        session = requests.Session()
        reply = session.post(
            f"{self.base}/api/token/",
            data={"username": self.setup["student"], "password": self.setup["password"]},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        session.headers["Authorization"] = f"Token {reply.json()['token']}"
        return session

    def browser(self) -> requests.Session:
        """The student signed in to the pages, as a browser is (session and CSRF cookies)."""
        session = requests.Session()
        session.get(f"{self.base}/login/", timeout=30)
        reply = session.post(
            f"{self.base}/login/",
            data={
                "username": self.setup["student"],
                "password": self.setup["password"],
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            timeout=30,
            allow_redirects=False,
        )
        assert reply.status_code == 302, reply.text[:2000]
        return session

    def submit(self, api: requests.Session, index: int) -> requests.Response:
        photo = synthetic_upload(index % 5, index).read()
        return api.post(
            f"{self.base}/api/submissions/",
            data={"assignment": self.setup["assignment"]},
            files={"photo": (f"face{index}.png", photo, "image/png")},
            timeout=60,
        )

    # --- what happened ---------------------------------------------------------------

    def predictions(self) -> list[dict]:
        with psycopg.connect(self.pg.url("ethitech"), connect_timeout=5) as conn:
            cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
            return cursor.execute(
                "SELECT p.id, s.public_id::text AS submission, s.photo, s.photo_deleted_at, m.key AS model, "
                "p.status, p.label, p.attempts, p.error, p.finished_at "
                "FROM classroom_prediction p JOIN classroom_submission s ON s.id = p.submission_id "
                "JOIN inference_modelversion m ON m.id = p.model_version_id"
            ).fetchall()

    def all_answered(self, expected: int) -> bool:
        rows = self.predictions()
        return len(rows) == expected and all(r["status"] in ("done", "failed") for r in rows)

    def answered_after(self, since: float, submissions: list[str]) -> tuple[float, float]:
        """Seconds from `since` to the first and to the last answer stored after it, for these photos."""
        times = [r["finished_at"].timestamp() - since for r in self.predictions() if r["submission"] in submissions]
        later = [t for t in times if t > 0]
        return (min(later), max(later)) if later else (0.0, 0.0)

    def model_run_started(self, after: float) -> bool:
        for marker in self.fault_dir.glob("running-*"):
            fields = marker.read_text().split()
            if fields and float(fields[0]) > after:
                return True
        return False

    def journal(self) -> list[str]:
        path = self.fault_dir / "journal.txt"
        return path.read_text().splitlines() if path.exists() else []

    def stored_photos(self) -> list[Path]:
        folder = self.folder / "data" / "media" / "uploads"
        return sorted(folder.glob("*")) if folder.exists() else []

    def problems(self, submitted: list[str]) -> list[str]:
        """Everything that shows a photo answered other than exactly once per model (all of it, so a
        failure says everything that went wrong)."""
        rows, found = self.predictions(), []
        if sorted({r["submission"] for r in rows}) != sorted(submitted):
            found.append("the submissions stored are not the ones accepted")
        pairs = Counter((r["submission"], r["model"]) for r in rows)
        if len(pairs) != BURST * 2 or set(pairs.values()) != {1}:
            found.append(f"not one prediction per photo and model: {pairs.most_common(2)}")
        found += [f"not answered: {r}" for r in rows if r["status"] != "done" or not r["label"] or not r["finished_at"]]
        # Claimed once: never run twice, never put back and claimed again.
        found += [f"claimed {r['attempts']} times: {r}" for r in rows if r["attempts"] != 1]
        runs = self.journal()  # one line per model run that completed: "<model> <photo file>"
        if len(runs) != BURST * 2 or len(set(runs)) != len(runs):
            found.append(f"{len(runs)} model runs, most often: {Counter(runs).most_common(2)}")
        models_per_photo = Counter(line.split()[1] for line in runs)
        if len(models_per_photo) != BURST or set(models_per_photo.values()) != {2}:
            found.append(f"model runs per photo: {models_per_photo.most_common(2)}")
        if not all(r["photo_deleted_at"] for r in rows) or self.stored_photos():
            found.append(f"photos left: {self.stored_photos()}")
        errors = [line for line in (self.folder / "web.log").read_text().splitlines() if '" 500 ' in line]
        found += [f"server error: {line}" for line in errors]
        return found


@pytest.fixture
def stack(request, tmp_path):
    stack = Stack(tmp_path, persistent_redis=getattr(request, "param", True))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def wait_answered(stack: Stack) -> None:
    try:
        wait_for(lambda: stack.all_answered(2 * BURST), ANSWERED_WITHIN, "every answer")
    except AssertionError as exc:
        statuses = Counter(r["status"] for r in stack.predictions())
        raise AssertionError(f"{exc}: {dict(statuses)}\n{stack.logs()}") from None


def send(stack: Stack, api: requests.Session, indexes, submitted: list[str]) -> None:
    for i in indexes:
        reply = stack.submit(api, i)
        assert reply.status_code == 201, (i, reply.status_code, reply.text[:500], stack.logs())
        submitted.append(reply.json()["id"])


@pytest.mark.parametrize("stack", [True, False], ids=["append-only-file", "no-persistence"], indirect=True)
def test_redis_restart_mid_burst_loses_nothing(stack):
    api, browser = stack.api(), stack.browser()
    submitted: list[str] = []
    started = time.time()
    send(stack, api, range(BEFORE_FAULT), submitted)
    wait_for(lambda: stack.model_run_started(started), 30, "a model run to start")

    stack.redis.stop()
    down = time.time()
    # The database is up: photos are accepted (and kept) while the broker is away...
    send(stack, api, range(BEFORE_FAULT, 2 * BEFORE_FAULT), submitted)
    # ...and the pages answer.
    page = browser.get(f"{stack.base}/a/{stack.setup['assignment']}/", timeout=30)
    assert page.status_code == 200, page.text[:2000]
    time.sleep(max(0.0, down + 5 - time.time()))
    stack.redis.start()
    up = time.time()
    print(f"\nRedis ({stack.redis.persistent and 'append-only file' or 'no persistence'}) down {up - down:.1f} s")

    send(stack, api, range(2 * BEFORE_FAULT, BURST), submitted)
    wait_answered(stack)
    first, last = stack.answered_after(up, submitted[BEFORE_FAULT : 2 * BEFORE_FAULT])
    print(f"Photos sent while Redis was down: first answer {first:.1f} s, last {last:.1f} s after it was back")
    print(f"Whole burst answered {stack.answered_after(up, submitted)[1]:.1f} s after Redis was back")
    assert stack.problems(submitted) == [], stack.logs()


def during_outage(stack: Stack, api, browser, anonymous, submission: str) -> list:
    """Every kind of request a class makes, once: (what, status, content type, body)."""
    anonymous_csrf = {"csrfmiddlewaretoken": anonymous.cookies.get("csrftoken", "")}
    a = stack.setup["assignment"]
    photo = synthetic_upload(0, 99).read()
    csrf = {"csrfmiddlewaretoken": browser.cookies.get("csrftoken", "")}
    calls = {
        "login page": lambda: anonymous.get(f"{stack.base}/login/"),
        "log in": lambda: anonymous.post(
            f"{stack.base}/login/",
            data={"username": stack.setup["student"], "password": "wrong", **anonymous_csrf},
        ),
        "home": lambda: browser.get(f"{stack.base}/"),
        "experiment": lambda: browser.get(f"{stack.base}/a/{a}/"),
        "answer page": lambda: browser.get(f"{stack.base}/s/{submission}/"),
        "answer status": lambda: browser.get(f"{stack.base}/s/{submission}/status.json"),
        "submit a photo": lambda: browser.post(
            f"{stack.base}/a/{a}/submit/", data=csrf, files={"photo": ("face.png", photo, "image/png")}
        ),
        "API list": lambda: api.get(f"{stack.base}/api/submissions/"),
        "API submit": lambda: stack.submit(api, 99),
    }
    answers = []
    for what, call in calls.items():
        reply = call()
        answers.append((what, reply.status_code, reply.headers.get("Content-Type", ""), reply.text))
    return answers


def test_postgres_restart_mid_burst_loses_nothing_and_pages_say_try_again(stack):
    api, browser = stack.api(), stack.browser()
    submitted: list[str] = []
    started = time.time()
    send(stack, api, range(BEFORE_FAULT), submitted)
    wait_for(lambda: stack.model_run_started(started), 30, "a model run to start")

    anonymous = requests.Session()
    anonymous.get(f"{stack.base}/login/", timeout=30)  # its CSRF cookie, as a browser has from the form

    stack.pg.stop()
    down = time.time()
    answers = []
    while time.time() < down + 8:
        answers += during_outage(stack, api, browser, anonymous, submitted[0])
        time.sleep(0.5)
    stack.pg.start()
    up = time.time()
    print(f"\nPostgreSQL down {up - down:.1f} s; {len(answers)} requests meanwhile")

    seen = Counter((what, status) for what, status, _, _ in answers)
    print("While it was down:", ", ".join(f"{what} {status} x{n}" for (what, status), n in sorted(seen.items())))
    for what, status, content_type, body in answers:
        if what == "login page" and status == 200:
            continue  # needs no database: the form is shown
        assert status == 503, (what, status, body[:3000], stack.logs())
        if "json" in content_type:
            assert TRY_AGAIN in json.loads(body)["detail"].lower(), (what, body)
        else:
            assert TRY_AGAIN in body.lower() and "Traceback" not in body, (what, body[:3000])
    # Students try again: the rest of the burst goes through once the database is back.
    send(stack, api, range(BEFORE_FAULT, BURST), submitted)
    first_page = browser.get(f"{stack.base}/a/{stack.setup['assignment']}/", timeout=30)
    assert first_page.status_code == 200
    wait_answered(stack)
    first, last = stack.answered_after(up, submitted[:BEFORE_FAULT])
    print(f"Photos sent before the stop: first answer {first:.1f} s, last {last:.1f} s after PostgreSQL was back")
    print(f"Whole burst answered {stack.answered_after(up, submitted)[1]:.1f} s after PostgreSQL was back")
    assert stack.problems(submitted) == [], stack.logs()
    # The stop hit work in flight: answers computed while the database was away were kept and stored.
    assert "store answers again" in stack.logs(tail=None), stack.logs()
