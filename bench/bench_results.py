"""make bench-results: class results over 1,000,000 stored tests in PostgreSQL.

Loads (once; --reload to redo) 50 classes x 30 students x 4 experiments x
2,500 submissions x 2 models = 1,000,000 predictions into a dedicated
database (default postgres://postgres@127.0.0.1:5432/ethitech_bench, set
BENCH_DATABASE_URL to change it) with COPY, then prints p50/p95 of:

- the results queries (classroom.results.compute) for one experiment and for
  a whole class across its experiments;
- the full page render (Django test client, session login, template, charts' JSON);
- the projector's live JSON, changed (200) and unchanged (304).

It prints numbers and asserts nothing: speed targets live here, not in tests.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_CLASSES = 50
STUDENTS_PER_CLASS = 30
ASSIGNMENTS_PER_CLASS = 4
SUBMISSIONS_PER_ASSIGNMENT = 2_500
GROUPS = ["Group A", "Group B", "Group C", "Group D", "Group E"]
MODEL_KEYS = ["bench-balanced", "bench-unbalanced"]
EXPECTED = N_CLASSES * ASSIGNMENTS_PER_CLASS * SUBMISSIONS_PER_ASSIGNMENT * len(MODEL_KEYS)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "ethitech.settings"
    os.environ.setdefault("ETHITECH_DATA_DIR", tempfile.mkdtemp(prefix="ethitech-bench-"))
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")  # never used: nothing is queued
    import logging

    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)  # one line per force_login otherwise


def ensure_database(url: str, drop: bool) -> None:
    import psycopg

    u = urlparse(url)
    name = u.path.lstrip("/")
    admin = urlunparse(u._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def copy_rows(model, rows, given: list[str]) -> None:
    """COPY rows into model's table. `given` names the fields in each row; the
    other columns get the model's defaults, so the loader follows model changes."""
    from django.db import connection
    from django.db.models import JSONField
    from psycopg.types.json import Jsonb

    fields = [f for f in model._meta.concrete_fields]
    by_name = {f.name: f for f in fields}
    for name in given:
        assert name in by_name or name.removesuffix("_id") in by_name, name
    columns, getters = [], []
    for f in fields:
        name = f.attname
        if name in given or f.name in given:
            idx = given.index(name if name in given else f.name)
            getters.append(("given", idx, isinstance(f, JSONField)))
        elif f.primary_key:
            continue
        elif f.has_default() or f.null or getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            getters.append(("default", f, isinstance(f, JSONField)))
        else:
            getters.append(("blank", f, False))
        columns.append(f.column)
    sql = f'COPY "{model._meta.db_table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) FROM STDIN'
    now = datetime.now(UTC)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            out = []
            for kind, ref, is_json in getters:
                if kind == "given":
                    value = row[ref]
                elif kind == "default":
                    f = ref
                    if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                        value = now
                    elif f.has_default():
                        value = f.get_default()
                    else:
                        value = None
                else:
                    value = ""
                out.append(Jsonb(value) if is_json and value is not None else value)
            copy.write_row(out)


def load(seed: int = 6) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from classroom.models import Assignment, Classroom, Enrollment, Prediction, Submission, User
    from inference.models import LabelSet, ModelVersion

    rng = random.Random(seed)
    t = time.perf_counter()
    with transaction.atomic():
        label_set = LabelSet.objects.create(
            key="bench-groups", name="Benchmark groups (synthetic)", labels=GROUPS, synthetic=True
        )
        compositions = {
            "bench-balanced": {g: 600 for g in GROUPS},
            "bench-unbalanced": {g: 3000 if g == "Group A" else 300 for g in GROUPS},
        }
        models = [
            ModelVersion.objects.create(
                key=key,
                name=key.replace("-", " ").title(),
                family="mlp",
                label_set=label_set,
                artifact_path=f"bench/{key}.skops",
                sha256="0" * 64,
                synthetic=True,
                composition=compositions[key],
            )
            for key in MODEL_KEYS
        ]
        password = make_password(None)
        teachers = User.objects.bulk_create(
            User(username=f"bench-teacher-{c}", role="teacher", password=password) for c in range(N_CLASSES)
        )
        students = User.objects.bulk_create(
            User(username=f"bench-s{c}-{i}", display_name=f"Bench Student {c}-{i}", role="student", password=password)
            for c in range(N_CLASSES)
            for i in range(STUDENTS_PER_CLASS)
        )
        classes = Classroom.objects.bulk_create(
            Classroom(name=f"Bench class {c:02d}", teacher=teachers[c], join_code=f"BENCH{c:03d}")
            for c in range(N_CLASSES)
        )
        Enrollment.objects.bulk_create(
            Enrollment(classroom=classes[c], student=students[c * STUDENTS_PER_CLASS + i])
            for c in range(N_CLASSES)
            for i in range(STUDENTS_PER_CLASS)
        )
        start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        assignments = Assignment.objects.bulk_create(
            Assignment(
                classroom=classes[c],
                title=f"Experiment {a + 1}",
                label_set=label_set,
                opens_at=start + timedelta(days=14 * a),
            )
            for c in range(N_CLASSES)
            for a in range(ASSIGNMENTS_PER_CLASS)
        )
        Assignment.model_versions.through.objects.bulk_create(
            Assignment.model_versions.through(assignment=a, modelversion=m) for a in assignments for m in models
        )

        # Every class works at the same time, as in a real school: rows are stored in time
        # order, so one class's tests are spread across the whole table, not side by side.
        tests = []
        class_index = {cl.pk: i for i, cl in enumerate(classes)}
        for a in assignments:
            c = class_index[a.classroom_id]
            roster = students[c * STUDENTS_PER_CLASS : (c + 1) * STUDENTS_PER_CLASS]
            for _ in range(SUBMISSIONS_PER_ASSIGNMENT):
                expected = rng.choice(GROUPS) if rng.random() < 0.7 else ""
                created = a.opens_at + timedelta(seconds=rng.uniform(0, 10 * 24 * 3600))
                tests.append((created, a.pk, rng.choice(roster).pk, expected))
        tests.sort()
        sub_rows, pred_rows = [], []
        pred_id = 0
        for sub_id, (created, assignment_id, student_id, expected) in enumerate(tests, start=1):
            sub_rows.append((sub_id, uuid.uuid4(), assignment_id, student_id, expected, created))
            truth = expected or rng.choice(GROUPS)
            for m in models:
                pred_id += 1
                status = "done" if rng.random() < 0.97 else rng.choice(["failed", "pending"])
                if status == "done":
                    hit = 0.85 if m.key == "bench-balanced" else (0.95 if truth == "Group A" else 0.55)
                    label = truth if rng.random() < hit else ("Group A" if rng.random() < 0.5 else rng.choice(GROUPS))
                    face = rng.random() < 0.92
                    finished = created + timedelta(seconds=2)
                else:
                    label, face, finished = "", None, None
                pred_rows.append((pred_id, sub_id, assignment_id, m.pk, status, label, face, created, finished))
        print(
            f"generated {len(sub_rows):,} submissions and {len(pred_rows):,} predictions "
            f"in {time.perf_counter() - t:.1f}s"
        )
        t = time.perf_counter()
        copy_rows(
            Submission, sub_rows, ["id", "public_id", "assignment_id", "student_id", "expected_label", "created_at"]
        )
        fields = "id submission_id assignment_id model_version_id status label face_found created_at finished_at"
        copy_rows(Prediction, pred_rows, fields.split())
        with connection.cursor() as cursor:
            for model in (Submission, Prediction):
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    print(f"COPY: {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE: {time.perf_counter() - t:.1f}s")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def timed(fn, n: int, warmup: int = 3) -> tuple[list[float], int]:
    from django.db import connection, reset_queries

    for _ in range(warmup):
        fn()
    times, queries = [], 0
    connection.force_debug_cursor = True
    try:
        for _ in range(n):
            reset_queries()
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
            queries = max(queries, len(connection.queries))
    finally:
        connection.force_debug_cursor = False
    return times, queries


def measure(n: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from classroom import results as res
    from classroom.models import Assignment, Classroom, Prediction

    total = Prediction.objects.count()
    print(
        f"\n{total:,} predictions in {Classroom.objects.count()} classes "
        f"({Assignment.objects.count()} experiments); PostgreSQL {connection.pg_version // 10000}"
    )
    rng = random.Random(1)
    classes = list(Classroom.objects.select_related("teacher"))
    assignments = list(Assignment.objects.select_related("classroom__teacher"))
    clients = {}

    def client_for(teacher):
        if teacher.pk not in clients:
            c = Client()
            c.force_login(teacher)
            clients[teacher.pk] = c
        return clients[teacher.pk]

    def pick_a():
        return rng.choice(assignments)

    def pick_c():
        return rng.choice(classes)

    def q_assignment():
        a = pick_a()
        res.compute(res.assignment_scope(a, a.classroom.teacher))

    def q_class():
        c = pick_c()
        res.compute(res.classroom_scope(c, c.teacher))

    def page_assignment():
        a = pick_a()
        r = client_for(a.classroom.teacher).get(reverse("results", args=[a.public_id]))
        assert r.status_code == 200, r.status_code

    def page_class():
        c = pick_c()
        r = client_for(c.teacher).get(reverse("classroom_results", args=[c.public_id]))
        assert r.status_code == 200, r.status_code

    def live_json():
        a = pick_a()
        r = client_for(a.classroom.teacher).get(reverse("results_json", args=[a.public_id]))
        assert r.status_code == 200

    sample = rng.sample(assignments, min(20, len(assignments)))
    etags = {
        a.pk: client_for(a.classroom.teacher).get(reverse("results_json", args=[a.public_id]))["ETag"] for a in sample
    }

    def live_304():
        a = rng.choice(sample)
        r = client_for(a.classroom.teacher).get(
            reverse("results_json", args=[a.public_id]), HTTP_IF_NONE_MATCH=etags[a.pk]
        )
        assert r.status_code == 304

    rows = [
        ("results queries, one experiment (~5,000 tests)", q_assignment),
        ("results queries, whole class (~20,000 tests)", q_class),
        ("page render, experiment results", page_assignment),
        ("page render, class results", page_class),
        ("projector JSON, changed (200)", live_json),
        ("projector JSON, unchanged (304)", live_304),
    ]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"\n{'':52} {'p50':>8} {'p95':>8} {'max':>8}  queries  (ms, {n} runs each)")
    for name, fn in rows:
        times, queries = timed(fn, n)
        print(f"{name:52} {pct(times, 0.5):8.1f} {pct(times, 0.95):8.1f} {max(times):8.1f}  {queries:>7}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per measurement (default 100)")
    parser.add_argument("--reload", action="store_true", help="drop the benchmark database and load it again")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ethitech_bench")
    ensure_database(url, drop=args.reload)
    setup_django(url)
    from django.core.management import call_command

    from classroom.models import Prediction

    call_command("migrate", verbosity=0)
    have = Prediction.objects.count()
    if have != EXPECTED:
        if have:
            print(f"found {have:,} predictions, expected {EXPECTED:,}: reloading")
            ensure_database(url, drop=True)
            from django.db import connection

            connection.close()
            call_command("migrate", verbosity=0)
        load()
    else:
        # A migration may have rewritten the tables: measure them as autovacuum soon leaves them.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    measure(args.runs)


if __name__ == "__main__":
    main()
