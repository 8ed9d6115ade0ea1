"""make bench-audit: a teacher uploads a zip of 500 generated faces of known make-up (60% Group A,
10% each other group) through the audit page, against gunicorn, a real worker per queue (mlp,
vgg), PostgreSQL and Redis (fresh database ethitech_audit, Redis db 5). The two demo MLPs and
the full-size demo VGG-Face (random base: its answers mean little, its cost is real) answer.

Prints the time from the upload to the finished report, split into checking the photos and each
model's pass; each worker's peak memory; and each model's estimates against the truth.

Target (2 cores): 500 images through all three models in <= 60 s.
"""

import argparse
import io
import os
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Browser, Stack, bench_env, create_database, manage  # noqa: E402

TRUTH = [0.6, 0.1, 0.1, 0.1, 0.1]


def collection_zip(n: int, seed: int) -> bytes:
    from PIL import Image

    from training import synthetic

    buf = io.BytesIO()
    counts = [round(n * t) for t in TRUTH]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        i = 0
        for group, count in enumerate(counts):
            for j in range(count):
                png = io.BytesIO()
                Image.fromarray(synthetic.generate_image(group, j, split="gallery", seed=seed)).save(png, "PNG")
                archive.writestr(f"collection/{i:04d}.png", png.getvalue())
                i += 1
    return buf.getvalue()


def run_audit(browser: Browser, assignment, models, data: bytes, title: str):
    from classroom.models import CollectionAudit

    fields = {"title": title, "source": "upload", "models": [m.pk for m in models]}
    started = time.perf_counter()
    status, url, _ = browser.post(
        f"/a/{assignment.public_id}/audits/", fields, {"files": ("collection.zip", data, "application/zip")}
    )
    uploaded = time.perf_counter()
    audit = CollectionAudit.objects.get(title=title)
    prepared_at = None
    while True:
        audit.refresh_from_db()
        if prepared_at is None and not audit.incoming:
            prepared_at = time.perf_counter()
        if audit.is_final:
            break
        if time.perf_counter() - started > 900:
            raise RuntimeError("The audit did not finish within 15 minutes.")
        time.sleep(0.1)
    return audit, started, uploaded, prepared_at or uploaded, time.perf_counter()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    env = bench_env("audit", args.port)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "ETHITECH_DATA_DIR")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "ethitech.settings"
    print("Setting up: fresh database, demo models (full-size VGG-Face, random base), class...", flush=True)
    create_database(env)
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env,
        "train_demo_models",
        "--total",
        "1000",
        "--test-per-group",
        "100",
        "--vgg-per-group",
        "6",
        "--vgg-test-per-group",
        "2",
    )

    import django

    django.setup()
    import redis

    from classroom.models import User
    from classroom.services.classes import create_assignment, create_classroom
    from inference.models import ModelVersion

    redis.Redis.from_url(env["REDIS_URL"]).delete("mlp", "vgg")
    teacher = User.objects.create(username="bench-teacher", role=User.Role.TEACHER)
    teacher.set_password("bench-pass-123")
    teacher.save()
    classroom = create_classroom(teacher=teacher, name="Audit bench")
    classroom.consent_confirmed_at = classroom.created_at
    classroom.save()
    models = list(
        ModelVersion.objects.filter(key__in=["demo-mlp-balanced", "demo-mlp-unbalanced", "demo-vgg-balanced"])
    )
    assignment = create_assignment(
        classroom=classroom, title="Audit bench", instructions="", model_versions=models, ask_expected=False
    )
    warm_zip, data = collection_zip(10, seed=1), collection_zip(args.images, seed=7)
    print(
        f"Collection: {args.images} generated faces (60% Group A, 10% each other group), zip of "
        f"{len(data) / 1e6:.1f} MB",
        flush=True,
    )

    stack = Stack(env, {"mlp": "mlp", "vgg": "vgg"})
    try:
        browser = Browser(stack.url)
        browser.login("bench-teacher", "bench-pass-123")
        run_audit(browser, assignment, models, warm_zip, "warm-up")  # models load once per worker, before timing
        audit, started, uploaded, prepared, finished = run_audit(browser, assignment, models, data, "timed")
        runs = list(audit.runs.select_related("model_version"))
        print(f"\n{audit.image_count} images, {audit.skipped_count} skipped, status {audit.status}")
        print(f"  upload accepted (zip checked, stored):   {uploaded - started:6.1f} s")
        print(f"  photos checked and re-encoded (worker):  {prepared - uploaded:6.1f} s")
        for run in runs:
            took = (run.finished_at - run.started_at).total_seconds()
            per_image = took / audit.image_count * 1000
            print(
                f"  {run.model_version.name[:40]:40s} {took:6.1f} s  ({per_image:.0f} ms/image, "
                f"faces found {run.faces_found})"
            )
        print(f"  upload -> finished report:               {finished - started:6.1f} s  (target <= 60 s)")
        print(
            f"  worker peak memory: MLP {stack.peak_rss_mb('mlp'):.0f} MB, VGG-Face {stack.peak_rss_mb('vgg'):.0f} MB"
        )
        print("\nEstimated share of Group A (truth 60%); how much of the collection each puts in the wrong group:")
        for run in runs:
            methods = (run.estimates or {}).get("methods") or {}
            parts = []
            for name in ("raw", "adjusted", "em"):
                m = methods.get(name)
                if m:
                    off = sum(abs(a - b) for a, b in zip(m["share"], TRUTH, strict=True)) / 2
                    parts.append(f"{name} {m['share'][0]:.0%} [{m['low'][0]:.0%}-{m['high'][0]:.0%}] off {off:.0%}")
            print(f"  {run.model_version.name[:40]:40s} " + "; ".join(parts))
    finally:
        stack.stop()
    floor = raw_vgg_ms(models)
    print(
        f"\nVGG-Face raw forward on this machine: {floor:.0f} ms/image at batch 8, so {args.images} images need "
        f"at least {floor * args.images / 1000:.0f} s of forward passes, whatever the pipeline does."
    )


def raw_vgg_ms(models) -> float:
    """The VGG-Face forward alone, in this process (the workers are stopped): the audit's floor."""
    import numpy as np

    from inference.registry import get_predictor

    vgg = next(m for m in models if m.family == "vgg")
    predictor = get_predictor(vgg)
    batch = np.random.default_rng(0).random((8, 224, 224, 3), dtype=np.float32)
    predictor.predict_proba(batch)
    started = time.perf_counter()
    for _ in range(3):
        predictor.predict_proba(batch)
    return (time.perf_counter() - started) / 24 * 1000


if __name__ == "__main__":
    main()
