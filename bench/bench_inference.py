"""make bench-inference: VGG-Face forward time, upload-to-result latency through
the whole stack, a class burst with three models, and the VGG worker's memory.

Runs against PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaults to the
local servers) in a dedicated database `ethitech_inference`, with gunicorn and
one Celery worker per queue, exactly as deployed. Prints numbers; asserts nothing.
"""

import argparse
import io
import statistics
import sys
import threading
import time
from itertools import islice
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Browser, Stack, bench_env, create_database, manage, percentile  # noqa: E402


def raw_vgg_times(env) -> tuple[float, float]:
    """Seconds per image for model(x) at batch 1 and batch 8 (full-size VGG-Face, CPU)."""
    import os

    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ETHITECH_DATA_DIR", "DJANGO_SETTINGS_MODULE")})
    import django

    django.setup()
    from inference.artifacts import store_path
    from inference.models import ModelVersion
    from inference.vggface import build_model
    from inference.vggface_weights import iter_layers

    mv = ModelVersion.objects.select_related("base").get(key="demo-vgg-balanced")
    base, head = store_path(mv.base.artifact_path), store_path(mv.artifact_path)
    layers = islice(iter_layers(base), 15)
    model = build_model(5, layer_source=(*layers, *iter_layers(head)))
    x = np.random.default_rng(0).random((8, 224, 224, 3), dtype=np.float32)
    model(x[:1], training=False)
    model(x, training=False)  # warm-up of both shapes
    b1 = statistics.median(_timed(lambda: model(x[:1], training=False)) for _ in range(7))
    b8 = statistics.median(_timed(lambda: model(x, training=False)) for _ in range(3)) / 8
    return b1, b8


def raw_mlp_time(env) -> float:
    from inference.models import ModelVersion
    from inference.registry import get_predictor

    mv = ModelVersion.objects.get(key="demo-mlp-balanced")
    predictor = get_predictor(mv)
    x = np.random.default_rng(0).random((1, predictor.spec.flat_length), dtype=np.float32)
    predictor.predict_proba(x)
    return statistics.median(_timed(lambda: predictor.predict_proba(x)) for _ in range(50))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def photo_bytes(i: int) -> bytes:
    from PIL import Image

    from training import synthetic

    buf = io.BytesIO()
    Image.fromarray(synthetic.generate_image(i % 5, i, split="gallery")).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


class Results:
    """Reads stored predictions straight from PostgreSQL."""

    def __init__(self, db_url: str):
        import psycopg

        self.conn = psycopg.connect(db_url, autocommit=True)

    def rows(self, public_ids: list[str]):
        return self.conn.execute(
            """SELECT s.public_id::text, m.family, p.status, s.created_at, p.finished_at, p.started_at
               FROM classroom_prediction p JOIN classroom_submission s ON s.id = p.submission_id
               JOIN inference_modelversion m ON m.id = p.model_version_id WHERE s.public_id::text = ANY(%s)""",
            (public_ids,),
        ).fetchall()

    def wait_final(self, public_ids: list[str], expected: int, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            rows = self.rows(public_ids)
            if len(rows) == expected and all(r[2] in ("done", "failed") for r in rows):
                return rows
            time.sleep(0.005)
        raise RuntimeError(f"results not stored after {timeout}s")


def submit(browser: Browser, assignment: str, i: int, photo: bytes | None = None) -> str:
    _, url, _ = browser.post(
        f"/a/{assignment}/submit/", {"expected_label": "", "note": ""},
        files={"photo": (f"photo{i}.jpg", photo or photo_bytes(i), "image/jpeg")},
    )  # fmt: skip
    if "/s/" not in url:
        raise RuntimeError(f"upload was not accepted (ended at {url})")
    return url.rstrip("/").split("/s/")[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--single", type=int, default=5)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    env = bench_env("inference", args.port)
    print("Setting up: fresh database, demo models (full-size VGG-Face, random base), class...", flush=True)
    create_database(env)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "train_demo_models", "--total", "1000", "--test-per-group", "40",
           "--vgg-per-group", "6", "--vgg-test-per-group", "2")  # fmt: skip
    seeded = manage(env, "seed_demo", "--submissions", "0", "--students", str(args.burst))
    logins = [line.split()[1:3] for line in seeded.splitlines() if line.strip().startswith("student ")]

    vgg_b1, vgg_b8 = raw_vgg_times(env)
    mlp_raw = raw_mlp_time(env)
    print(f"\nRaw VGG-Face forward (CPU): {vgg_b1 * 1000:.0f} ms/image at batch 1, ", end="")
    print(f"{vgg_b8 * 1000:.0f} ms/image at batch 8")
    print(f"Raw MLP predict_proba: {mlp_raw * 1000:.2f} ms/image")

    from inference.models import ModelVersion  # django is set up by raw_vgg_times

    assignment = str(
        ModelVersion.objects.get(key="demo-vgg-balanced").assignments.values_list("public_id", flat=True).first()
    )
    from classroom.models import Assignment

    # The demo class has a test gallery, so uploads are off by default; this benchmark measures uploads.
    Assignment.objects.filter(public_id=assignment).update(allow_uploads=True)
    results = Results(env["DATABASE_URL"])
    stack = Stack(env, {"mlp": "mlp", "vgg": "vgg"})
    try:
        browsers = []
        for username, password in logins:
            b = Browser(stack.url)
            b.login(username, password)
            browsers.append(b)
        warm = submit(browsers[0], assignment, 999)  # models load once per worker process, before timing
        results.wait_final([warm], 3)

        singles, mlp_singles = [], []
        for i in range(args.single):
            t0 = time.perf_counter()
            sid = submit(browsers[0], assignment, i)
            rows = results.wait_final([sid], 3)
            singles.append(time.perf_counter() - t0)
            mlp_singles += [(r[4] - r[3]).total_seconds() for r in rows if r[1] == "mlp"]
        per_photo = statistics.median(singles)
        print(f"\nOne photo at a time, upload -> all 3 results stored: median {per_photo * 1000:.0f} ms "
              f"({per_photo / vgg_b1:.2f}x the raw batch-1 VGG forward); MLP results in "
              f"{statistics.median(mlp_singles) * 1000:.0f} ms")  # fmt: skip

        ids, barrier = [None] * args.burst, threading.Barrier(args.burst + 1)
        photos = [photo_bytes(100 + i) for i in range(args.burst)]  # made before the clock starts

        def student(i):
            barrier.wait()
            ids[i] = submit(browsers[i], assignment, 100 + i, photos[i])

        threads = [threading.Thread(target=student, args=(i,)) for i in range(args.burst)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        rows = results.wait_final(ids, 3 * args.burst)
        total = time.perf_counter() - t0
        mlp_lat = [(r[4] - r[3]).total_seconds() for r in rows if r[1] == "mlp"]
        waits = {f: [(r[5] - r[3]).total_seconds() for r in rows if r[1] == f] for f in ("mlp", "vgg")}
        runs = {f: [(r[4] - r[5]).total_seconds() for r in rows if r[1] == f] for f in ("mlp", "vgg")}
        vgg_batches = len({r[5] for r in rows if r[1] == "vgg"})
        summed_raw = args.burst * (vgg_b1 + 2 * mlp_raw)
        print(f"\nBurst: {args.burst} photos at once, 3 models each ({3 * args.burst} predictions)")
        print(f"  all results stored after {total:.1f} s; summed raw model time {summed_raw:.1f} s "
              f"-> ratio {total / summed_raw:.2f}")  # fmt: skip
        print(f"  MLP result latency p50 {percentile(mlp_lat, 50) * 1000:.0f} ms, "
              f"p95 {percentile(mlp_lat, 95) * 1000:.0f} ms")  # fmt: skip
        for f in ("mlp", "vgg"):
            print(f"  {f.upper()}: submitted -> claimed p50 {percentile(waits[f], 50) * 1000:.0f} ms, "
                  f"claimed -> stored p50 {percentile(runs[f], 50) * 1000:.0f} ms")  # fmt: skip
        print(f"  VGG-Face predictions ran in {vgg_batches} batches (batch size up to "
              f"{env.get('ETHITECH_VGG_BATCH_SIZE', 8)})")  # fmt: skip
        print(f"\nVGG worker peak RSS: {stack.peak_rss_mb('vgg'):.0f} MB; MLP worker {stack.peak_rss_mb('mlp'):.0f} MB")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
