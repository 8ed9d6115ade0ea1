"""make bench-load: a class of simulated users against the real stack.

gunicorn, PostgreSQL, Redis and real Celery workers on loopback, with a fresh
database (ethitech_load on DATABASE_URL's server; Redis db from BENCH_REDIS_URL,
default 5). Each user logs in, then until the time is up: opens their classes,
the class, the experiment; every few rounds submits a photo (multipart, with
CSRF token), opens the answer page and polls its status until both models have
answered; and reads the class results and their JSON. Users pause --think
seconds (0.5x to 1.5x, random) between pages, as people do.

Prints p50/p95/max per page, the error count, throughput, and how long the
models took to answer. Asserts nothing: targets live here, not in tests.
"""

import argparse
import io
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.error
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Browser, bench_env, celery_worker_argv, create_database, manage, percentile  # noqa: E402

SEED = """
from classroom.models import Classroom, Enrollment, User
from classroom.services import classes, privacy
from inference.models import ModelVersion
teacher = User.objects.create_user("bench-teacher", password="bench-pass-teacher", role="teacher")
room = classes.create_classroom(teacher=teacher, name="Load test class")
privacy.confirm_consent(classroom=room, teacher=teacher, policy="bench")
users = [User(username=f"bench-{i:03d}", role="student", created_by=teacher) for i in range({n})]
for u in users:
    u.set_password("bench-pass-student")
User.objects.bulk_create(users)
Enrollment.objects.bulk_create([Enrollment(classroom=room, student=u) for u in User.objects.filter(role="student")])
models = list(ModelVersion.objects.filter(family="mlp", active=True).order_by("key")[:2])
a = classes.create_assignment(
    classroom=room, title="Load test", instructions="", model_versions=models, ask_expected=True
)
print("SEEDED", room.public_id, a.public_id)
"""

REPORT = """
from django.db.models import F
from classroom.models import Prediction
rows = Prediction.objects.values_list("status", flat=True)
done = Prediction.objects.filter(status="done").annotate(t=F("finished_at") - F("created_at"))
print("PREDICTIONS", " ".join(f"{s}={list(rows).count(s)}" for s in ("pending", "running", "done", "failed")))
print("ANSWER_SECONDS", " ".join(f"{p.t.total_seconds():.3f}" for p in done))
"""


def photo(i: int) -> bytes:
    from PIL import Image

    from training import synthetic

    buf = io.BytesIO()
    Image.fromarray(synthetic.generate_image(i % len(synthetic.GROUPS), i, split="gallery")).save(buf, format="JPEG")
    return buf.getvalue()


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.errors = defaultdict(list)

    def timed(self, page: str, call):
        started = time.perf_counter()
        try:
            result = call()
        except (urllib.error.URLError, OSError, RuntimeError, StopIteration) as exc:
            with self.lock:
                self.errors[page].append(f"{type(exc).__name__}: {exc}"[:200])
            return None
        took = (time.perf_counter() - started) * 1000
        with self.lock:
            self.times[page].append(took)
        return result


def user_session(i, url, ids, args, deadline, rec: Recorder, photos):
    rng = random.Random(i)
    b = Browser(url)
    room, assignment = ids
    time.sleep(rng.uniform(0, args.think))  # users do not all arrive in the same millisecond
    if rec.timed("login", lambda: b.login(f"bench-{i:03d}", "bench-pass-student")) is None and not b.jar:
        return

    def pause():
        time.sleep(args.think * rng.uniform(0.5, 1.5))

    rounds = 0
    while time.time() < deadline:
        rounds += 1
        for page, path in (("home", "/"), ("class", f"/c/{room}/"), ("experiment", f"/a/{assignment}/")):
            rec.timed(page, lambda p=path: b.get(p))
            pause()
        if rounds % args.submit_every == 1 and time.time() < deadline:
            data = photos[rng.randrange(len(photos))]
            result = rec.timed(
                "submit (+answer page)",
                lambda d=data: b.post(
                    f"/a/{assignment}/submit/",
                    {"expected_label": "", "note": "load test"},
                    {"photo": ("face.jpg", d, "image/jpeg")},
                ),
            )
            match = re.search(r"/s/([0-9a-f-]{36})/", result[1]) if result else None
            status_path = f"/s/{match.group(1)}/status.json" if match else ""
            for _ in range(20 if match else 0):
                pause()
                status = rec.timed("status.json", lambda p=status_path: b.get(p))
                if status and '"done": true' in status[2]:
                    break
        rec.timed("results", lambda: b.get(f"/a/{assignment}/results/"))
        pause()
        rec.timed("results.json", lambda: b.get(f"/a/{assignment}/results.json"))
        pause()


def start(env, cmd, log_name):
    logs = Path(env["ETHITECH_DATA_DIR"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = open(logs / log_name, "w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_log(env, log_name, marker, proc, timeout=120):
    path = Path(env["ETHITECH_DATA_DIR"]) / "logs" / log_name
    deadline = time.time() + timeout
    while marker not in path.read_text():
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{log_name}: did not start\n{path.read_text()[-2000:]}")
        time.sleep(0.2)


def stop(procs):
    import signal

    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60, help="how long the users keep going")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between pages, seconds")
    parser.add_argument("--submit-every", type=int, default=4, help="each user submits a photo every N rounds")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    env = bench_env("load", args.port)
    print(f"Fresh database {env['DATABASE_URL'].rsplit('/', 1)[1]}, Redis {env['REDIS_URL']}; setting up...")
    create_database(env)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "train_demo_models", "--total", "600", "--test-per-group", "20", "--no-vgg")
    seeded = manage(env, "shell", "-c", SEED.replace("{n}", str(args.users)))
    ids = re.search(r"SEEDED (\S+) (\S+)", seeded).groups()
    photos = [photo(i) for i in range(10)]

    procs = [
        start(
            env,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ethitech.wsgi",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.web_workers),
            ],
            "web.log",
        ),
        start(
            env,
            celery_worker_argv("mlp", 2, "load-mlp@%h"),
            "worker.log",
        ),
    ]
    try:
        wait_for_log(env, "web.log", "Booting worker", procs[0])
        wait_for_log(env, "worker.log", "ready", procs[1])
        time.sleep(1)
        rec = Recorder()
        url = f"http://127.0.0.1:{args.port}"
        print(
            f"{args.users} users for {args.seconds} s (think {args.think} s, a photo every {args.submit_every} "
            f"rounds), gunicorn {args.web_workers} workers, 1 MLP worker (2 processes)..."
        )
        deadline = time.time() + args.seconds
        started = time.time()
        threads = [
            threading.Thread(target=user_session, args=(i, url, ids, args, deadline, rec, photos), daemon=True)
            for i in range(args.users)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.seconds + 120)
        elapsed = time.time() - started
        # Let the workers finish what was submitted (bounded), then read the answers' timings.
        for _ in range(60):
            report = manage(env, "shell", "-c", REPORT)
            if "pending=0 running=0" in report:
                break
            time.sleep(1)
    finally:
        stop(procs)

    requests = sum(len(v) for v in rec.times.values())
    errors = sum(len(v) for v in rec.errors.values())
    print(f"\n{'page':<24}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}")
    pages = ["login", "home", "class", "experiment", "submit (+answer page)", "status.json", "results", "results.json"]
    for page in pages:
        t = rec.times.get(page, [])
        print(
            f"{page:<24}{len(t):>7}{percentile(t, 50):>9.0f}{percentile(t, 95):>9.0f}"
            f"{max(t, default=float('nan')):>9.0f}{len(rec.errors.get(page, [])):>8}"
        )
    browsing = [x for p in pages if p not in ("login", "submit (+answer page)") for x in rec.times.get(p, [])]
    print(
        f"\nAll pages but login and upload: p50 {percentile(browsing, 50):.0f} ms, "
        f"p95 {percentile(browsing, 95):.0f} ms over {len(browsing)} requests"
    )
    print(f"{requests} requests in {elapsed:.0f} s ({requests / elapsed:.1f}/s), errors: {errors}")
    for page, errs in rec.errors.items():
        print(f"  {page}: {len(errs)} errors, e.g. {errs[0]}")
    print(re.search(r"PREDICTIONS .*", report).group(0))
    answer = [float(x) for x in re.search(r"ANSWER_SECONDS ?(.*)", report).group(1).split()]
    print(f"Time from submission to an answer: p50 {percentile(answer, 50):.2f} s, p95 {percentile(answer, 95):.2f} s")


if __name__ == "__main__":
    main()
