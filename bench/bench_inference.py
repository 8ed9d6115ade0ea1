"""make bench-inference: VGG-Face in float32, bfloat16 and int8, side by side in one run.

For each precision: the raw forward at batch 1 and batch 8 (interleaved rounds, median and
range), one photo at a time from upload to all three answers stored, a 30-photo class burst
(MLP answer latency p50/p95) and the workers' peak memory; the top-1 agreement of each reduced
precision with float32 on generated faces; what a photo costs before the forward (decoding, finding the face).

Runs against PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaults to the local servers) in a
dedicated database `ethitech_inference`, with gunicorn and one Celery worker per queue, exactly
as deployed, restarted for each precision. Prints numbers; asserts nothing.
"""

import argparse
import io
import statistics
import sys
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Browser, Stack, bench_env, create_database, manage, percentile  # noqa: E402

PRECISIONS = ("float32", "bfloat16", "int8")
SHORT = {"bfloat16": "bf16", "int8": "int8"}


def setup_demo_class(env, students: int) -> tuple[list, str]:
    """A fresh database with the demo models (full-size VGG-Face on a random base) and a class of
    `students` whose experiment takes uploads. Returns (logins, the experiment's public id)."""
    create_database(env)
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env,
        "train_demo_models",
        "--total",
        "1000",
        "--test-per-group",
        "40",
        "--vgg-per-group",
        "6",
        "--vgg-test-per-group",
        "2",
    )
    seeded = manage(env, "seed_demo", "--submissions", "0", "--students", str(students))
    logins = [line.split()[1:3] for line in seeded.splitlines() if line.strip().startswith("student ")]
    django_setup(env)
    from classroom.models import Assignment
    from inference.models import ModelVersion

    assignment = str(
        ModelVersion.objects.get(key="demo-vgg-balanced").assignments.values_list("public_id", flat=True).first()
    )
    # The demo class has a test gallery, so uploads are off by default; the benchmarks measure uploads.
    # Nor do the benchmark's students answer the lesson's prediction questions first.
    Assignment.objects.filter(public_id=assignment).update(allow_uploads=True, ask_predictions=False)
    return logins, assignment


def django_setup(env) -> None:
    import os

    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ETHITECH_DATA_DIR", "DJANGO_SETTINGS_MODULE")})
    import django

    django.setup()


def demo_vgg():
    from inference.models import ModelVersion

    return ModelVersion.objects.select_related("base", "label_set").get(key="demo-vgg-balanced")


def usable(precision: str) -> tuple[bool, str]:
    from inference.precision import choose

    choice = choose(precision)
    return choice.precision == precision, choice.reason


def raw_vgg_times(predictors: dict, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per image at batch 1 and 8 for each precision's predictor, as the worker runs it,
    in interleaved rounds (so a slow spell of the machine hits both alike). On generated faces,
    not noise: int8 looks again, in float32, at a face whose answer is a near-tie, and that cost
    depends on the faces. Batch 1: the mean over the 8 faces one at a time."""
    x = generated_faces(8)
    for predictor in predictors.values():
        predictor.predict_proba(x[:1])
        predictor.predict_proba(x)  # warm-up of both shapes
        if hasattr(predictor, "answered"):  # int8's count of second looks starts with the timing
            predictor.answered = predictor.looked_again = 0
    times = {p: {"b1": [], "b8": []} for p in predictors}
    for _ in range(rounds):
        for precision, predictor in predictors.items():
            times[precision]["b1"].append(
                sum(_timed(lambda f=predictor, i=i: f.predict_proba(x[i : i + 1])) for i in range(8)) / 8
            )
            times[precision]["b8"].append(_timed(lambda f=predictor: f.predict_proba(x)) / 8)
    return times


def generated_faces(n: int) -> np.ndarray:
    """`n` generated faces of the five groups, prepared as a worker prepares a photo for VGG-Face."""
    from inference.preprocessing import VGG_SPEC, prepare
    from inference.synthetic_faces import GROUPS, generate_image

    faces = (generate_image(i % len(GROUPS), i, split="gallery") for i in range(n))
    return np.stack([prepare(face, VGG_SPEC)[0] for face in faces]).astype(np.float32)


def raw_mlp_time() -> float:
    from inference.models import ModelVersion
    from inference.registry import get_predictor

    predictor = get_predictor(ModelVersion.objects.get(key="demo-mlp-balanced"))
    x = np.random.default_rng(0).random((1, predictor.spec.flat_length), dtype=np.float32)
    predictor.predict_proba(x)
    return statistics.median(_timed(lambda: predictor.predict_proba(x)) for _ in range(50))


def map_times(predictor) -> tuple[float, float]:
    """(answer + its map, answer alone) in seconds at batch 1, as the worker makes them (Grad-CAM;
    int8: feature occlusion)."""
    x = np.random.default_rng(1).random((1, 224, 224, 3), dtype=np.float32)
    predictor.predict_and_explain(x, [True])  # warm-up (builds the Grad-CAM graph once)
    both = statistics.median(_timed(lambda: predictor.predict_and_explain(x, [True])) for _ in range(5))
    alone = statistics.median(_timed(lambda: predictor.predict_proba(x)) for _ in range(5))
    return both, alone


def photo_load_times(sent: bytes) -> dict[str, float]:
    """CPU seconds the web's intake takes for a photo as sent, then to decode the copy it stores
    and find its face, the way workers did before (whole decode) and do now (a large JPEG at
    reduced size, crops for a 224 px input)."""
    from django.conf import settings

    from inference.intake import clean_bytes
    from inference.preprocessing import crop_face, load_rgb
    from inference.services import load_face_photo

    data = clean_bytes(sent, max_pixels=settings.UPLOAD_MAX_PIXELS).data

    def cpu(fn, n=9):
        runs = []
        for _ in range(n):
            t0 = time.process_time()
            fn()
            runs.append(time.process_time() - t0)
        return statistics.median(runs)

    return {
        "web intake of the photo as sent": cpu(lambda: clean_bytes(sent, max_pixels=settings.UPLOAD_MAX_PIXELS)),
        "worker: decode whole": cpu(lambda: load_rgb(io.BytesIO(data))),
        "decode reduced": cpu(lambda: load_face_photo(io.BytesIO(data))),
        "decode whole + find face": cpu(lambda: crop_face(load_rgb(io.BytesIO(data)))),
        "decode reduced + find face + crops": cpu(lambda: load_face_photo(io.BytesIO(data)).crop("haar", 224)),
    }


PHONE_SIZE = (4032, 3024)  # what a phone camera writes (12 MP); the intake keeps at most 1600 px


def phone_photo_bytes(i: int, size: tuple[int, int] = PHONE_SIZE) -> bytes:
    """A phone-sized photo: a synthetic face in a scene of `size`, with a camera's fine grain, so
    the JPEG is about as large as a phone's (2-4 MB at 12 MP) and costs as much to decode."""
    import cv2
    from PIL import Image

    from training import synthetic

    width, height = size
    face = synthetic.generate_image(i % 5, i, split="gallery")
    rng = np.random.default_rng(i)
    small = cv2.GaussianBlur(rng.normal(150, 30, (300, 400, 3)).clip(0, 255).astype(np.uint8), (0, 0), 1.25)
    scene = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    side = height * 2 // 5  # the face drawing fills 40% of the height, as in a selfie
    top, left = (height - side) * 2 // 5, (width - side) // 2
    scene[top : top + side, left : left + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    scene += rng.integers(-6, 7, scene.shape, dtype=np.int16)  # sensor grain
    buf = io.BytesIO()
    Image.fromarray(scene.clip(0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def photo_bytes(i: int) -> bytes:
    """One of the synthetic set's 96 px photos."""
    from PIL import Image

    from training import synthetic

    buf = io.BytesIO()
    Image.fromarray(synthetic.generate_image(i % 5, i, split="gallery")).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def folder_photos(folder: str):
    """A photo maker cycling through the image files of a folder (the user's own photos)."""
    from inference.precision_check import folder_images

    files, _ = folder_images(Path(folder))
    if not files:
        raise SystemExit(f"No photos (.jpg, .jpeg, .png, .webp, .heic) in {folder}.")
    data = [Path(path).read_bytes() for path, _ in files]
    return lambda i: data[i % len(data)], len(data)


def as_the_page_sends(data: bytes, max_side: int = 1600) -> bytes:
    """What the upload page's script (static/js/photo-shrink.js) sends for a photo: larger than
    `max_side`, it goes upright, at most that size, as a JPEG at quality 0.9 without metadata.
    Made here with Pillow before the clock starts: on a class's devices each student's own phone
    does it (measured in Chromium: see the README), not the server."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as img:
        if max(img.size) <= max_side or img.format not in ("JPEG", "PNG", "WEBP"):
            return data
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=90)
        return buf.getvalue()


def photo_source(args):
    """(make_photo(i) -> bytes, what they are in words)."""
    if args.photos:
        make, n = folder_photos(args.photos)
        make, described = make, f"{n} photos from {args.photos}"
    elif args.phone_photos:
        size = parse_size(args.phone_size)
        make, described = partial(phone_photo_bytes, size=size), f"generated {size[0]}x{size[1]} JPEGs"
    else:
        return photo_bytes, "synthetic 96 px photos"
    if args.as_sent == "page":
        return (lambda i: as_the_page_sends(make(i))), described + ", sent as the upload page sends them"
    return make, described + ", each file sent whole (no JavaScript, or the API)"


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


class Results:
    """Reads stored predictions straight from PostgreSQL."""

    def __init__(self, db_url: str):
        import psycopg

        self.conn = psycopg.connect(db_url, autocommit=True)

    def rows(self, public_ids: list[str]):
        return self.conn.execute(
            """SELECT s.public_id::text, m.family, p.status, s.created_at, p.finished_at, p.started_at, p.latency_ms,
                      p.precision
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
            # What is measured is the answers' own stored timestamps, so polling more often only
            # steals CPU from the workers being measured (a student's page polls every second or so).
            time.sleep(0.25)
        raise RuntimeError(f"results not stored after {timeout}s")


def submit(browser: Browser, assignment: str, i: int, photo: bytes) -> str:
    _, url, _ = browser.post(
        f"/a/{assignment}/submit/",
        {"expected_label": "", "note": ""},
        files={"photo": (f"photo{i}.jpg", photo, "image/jpeg")},
    )
    if "/s/" not in url:
        raise RuntimeError(f"upload was not accepted (ended at {url})")
    return url.rstrip("/").split("/s/")[1]


def login_all(url: str, logins) -> list[Browser]:
    browsers = []
    for username, password in logins:
        b = Browser(url)
        b.login(username, password)
        browsers.append(b)
    return browsers


def burst(browsers, assignment: str, photos: list[bytes], first: int) -> tuple[list[str], float, float]:
    """Every browser uploads its photo at the same moment. Returns (submission ids, the start
    time on the workers' clock, seconds until every upload was answered by the web)."""
    ids, barrier = [None] * len(photos), threading.Barrier(len(photos) + 1)

    def student(i):
        barrier.wait()
        ids[i] = submit(browsers[i], assignment, first + i, photos[i])

    threads = [threading.Thread(target=student, args=(i,)) for i in range(len(photos))]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.time()  # the workers' timestamps come from the same clock
    for t in threads:
        t.join()
    return ids, t0, time.time() - t0


def stack_run(env, precision: str, args, logins, assignment, make_photo, predictor, mlp_raw, run: int) -> dict:
    """The whole stack with VGG-Face in `precision`: one photo at a time, then a burst."""
    results = Results(env["DATABASE_URL"])
    nice = {"vgg": args.vgg_nice} if args.vgg_nice else None
    # int8 as deployed: checked against float32 (inference/int8_gate.py; load_uncached above ran the
    # check), served in the fallback precision where it misses the bar: the "served in" row says.
    faces = {"ETHITECH_FIND_FACES_AT_UPLOAD": str(args.find_faces == "upload").lower()}
    stack = Stack({**env, "ETHITECH_VGG_PRECISION": precision, **faces}, {"mlp": "mlp", "vgg": "vgg"}, nice=nice)
    out = {}
    try:
        browsers = login_all(stack.url, logins)
        single = browsers[run % len(browsers)]  # a student's upload rate limit counts per minute
        warm = submit(single, assignment, 9000 + run, make_photo(999))  # models load once per worker process
        results.wait_final([warm], 3)
        # The machine's speed drifts (other tenants), so each photo is paired with a raw batch-1
        # forward in this process just before it, and the ratio uses those.
        one = np.random.default_rng(1).random((1, 224, 224, 3), dtype=np.float32)
        singles, mlp_singles, stages, paired, used = [], [], [], [], set()
        single_cpu = dict.fromkeys(stack.cpu_seconds(), 0.0)
        for i in range(args.single):
            paired.append(_timed(lambda: predictor.predict_proba(one)))
            time.sleep(0.3)
            photo = make_photo(i)
            cpu_before = stack.cpu_seconds()
            t0 = time.time()
            sid = submit(single, assignment, 1000 * run + i, photo)
            rows = results.wait_final([sid], 3)
            singles.append(max(r[4] for r in rows).timestamp() - t0)  # when the last answer was stored
            mlp_singles += [(r[4] - r[3]).total_seconds() for r in rows if r[1] == "mlp"]
            vgg = next(r for r in rows if r[1] == "vgg")
            used.add(vgg[7])
            stages.append(
                (
                    vgg[3].timestamp() - t0,
                    (vgg[5] - vgg[3]).total_seconds(),
                    (vgg[4] - vgg[5]).total_seconds(),
                    (vgg[6] or 0) / 1000,
                )
            )
            single_cpu = {
                k: v + after - cpu_before[k]
                for (k, v), after in zip(single_cpu.items(), stack.cpu_seconds().values(), strict=True)
            }
            time.sleep(0.3)
        out["single"] = statistics.median(singles)
        out["single range"] = (min(singles), max(singles))
        out["paired raw b1"] = statistics.median(paired)
        out["single MLP"] = statistics.median(mlp_singles)
        out["single cpu"] = {k: v / args.single for k, v in single_cpu.items()}
        out["stages"] = [statistics.median(x) for x in zip(*stages, strict=True)]

        photos = [make_photo(100 + i) for i in range(args.burst)]  # made before the clock starts
        cpu_before = stack.cpu_seconds()
        ids, t0, uploads_done = burst(browsers[: args.burst], assignment, photos, 10_000 * (run + 1))
        rows = results.wait_final(ids, 3 * args.burst)
        used |= {r[7] for r in rows if r[1] == "vgg"}
        out["burst total"] = max(r[4] for r in rows).timestamp() - t0
        out["burst uploads"] = uploads_done
        out["burst cpu"] = {k: v - cpu_before[k] for k, v in stack.cpu_seconds().items()}
        mlp_lat = [(r[4] - r[3]).total_seconds() for r in rows if r[1] == "mlp"]
        out["burst MLP p50"], out["burst MLP p95"] = percentile(mlp_lat, 50), percentile(mlp_lat, 95)
        # What the students wait: from the moment they all pressed upload, the uploads' own time included.
        from_press = [r[4].timestamp() - t0 for r in rows if r[1] == "mlp"]
        out["burst MLP press p50"], out["burst MLP press p95"] = percentile(from_press, 50), percentile(from_press, 95)
        out["burst waits"] = {
            f: percentile([(r[5] - r[3]).total_seconds() for r in rows if r[1] == f], 50) for f in ("mlp", "vgg")
        }
        out["burst runs"] = {
            f: percentile([(r[4] - r[5]).total_seconds() for r in rows if r[1] == f], 50) for f in ("mlp", "vgg")
        }
        out["burst batches"] = len({r[5] for r in rows if r[1] == "vgg"})
        out["burst summed raw"] = args.burst * (out["paired raw b1"] + 2 * mlp_raw)
        out["failed"] = sum(r[2] != "done" for r in rows)
        out["memory vgg"], out["memory mlp"] = stack.memory_mb("vgg"), stack.memory_mb("mlp")
        out["served in"] = ", ".join(sorted(used))
    finally:
        stack.stop()
    return out


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def spread(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"


def print_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    rows = [tuple(r) + ("",) * (len(header) - len(r)) for r in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--single", type=int, default=11)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--phone-photos", action="store_true", help="upload phone-sized JPEGs, not 96 px ones")
    parser.add_argument("--phone-size", default="4032x3024", help="their size (default: a 12 MP phone camera's)")
    parser.add_argument(
        "--as-sent",
        choices=("page", "file"),
        default="page",
        help="photos as the upload page sends them (made smaller on the device), or each file whole",
    )
    parser.add_argument("--photos", metavar="DIR", help="upload your own photos from this folder (cycled)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of the raw forward timing")
    parser.add_argument("--agreement-images", type=int, default=100, help="generated faces for top-1 agreement")
    parser.add_argument("--precisions", default=",".join(PRECISIONS), help="which to run, comma-separated")
    parser.add_argument(
        "--find-faces",
        choices=("upload", "worker"),
        default="upload",
        help="where the face is found: by the web at upload (as deployed), or by the first worker",
    )
    parser.add_argument("--vgg-nice", type=int, default=10, help="the VGG-Face worker's nice value (as deployed: 10)")
    args = parser.parse_args()
    make_photo, described = photo_source(args)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    for reduced in (p for p in precisions if p != "float32"):
        ok, reason = usable(reduced)
        print(reason)
        if not ok:
            print(f"  (the {reduced} column below is float32: the workers fall back, and say so in their logs)")

    env = bench_env("inference", args.port)
    print("Setting up: fresh database, demo models (full-size VGG-Face, random base), class...", flush=True)
    logins, assignment = setup_demo_class(env, max(args.burst, len(precisions)))
    from inference.registry import load_uncached

    mv = demo_vgg()
    predictors = {p: load_uncached(mv, precision=p) for p in precisions}
    raw = raw_vgg_times(predictors, args.rounds)
    second_look = {p: (f.looked_again, f.answered) for p, f in predictors.items() if getattr(f, "answered", 0)}
    mlp_raw = raw_mlp_time()
    maps = {p: map_times(predictor) for p, predictor in predictors.items()}
    agreements = {}
    if "float32" in precisions and args.agreement_images:
        from inference.precision_check import compare_precisions
        from training import synthetic
        from training.image_sets import synthetic_image_set

        n = args.agreement_images
        images = synthetic_image_set(dict.fromkeys(synthetic.GROUPS, -(-n // 5)), split="test", seed=1)
        for reduced in (p for p in precisions if p != "float32"):
            agreements[reduced] = compare_precisions(
                mv, ((images.load(i), synthetic.GROUPS[images.labels[i]]) for i in range(n)), reduced=reduced, batch=8
            )
    loads = photo_load_times(make_photo(7))

    runs = {}
    for i, precision in enumerate(precisions):
        print(f"Whole stack with VGG-Face in {precision}...", flush=True)
        runs[precision] = stack_run(
            env, precision, args, logins, assignment, make_photo, predictors[precision], mlp_raw, i
        )

    print(
        f"\nVGG-Face (full size, demo random base), photos: {described}; faces found "
        f"{'by the web at upload' if args.find_faces == 'upload' else 'by the first worker'}. "
        f"Raw forward as the worker runs it, {args.rounds} interleaved rounds: median (min-max) per image"
    )
    reduced = [p for p in precisions if p != "float32"] if "float32" in precisions else []
    header = ("measure", *precisions, *(f"{SHORT.get(p, p)} / f32" for p in reduced))

    def ratio(key_fn):
        return [f"{key_fn(p) / key_fn('float32'):.2f}x" for p in reduced]

    table = [
        (
            "raw forward, batch 1",
            *(spread(raw[p]["b1"]) for p in precisions),
            *ratio(lambda p: statistics.median(raw[p]["b1"])),
        ),
        (
            "raw forward, batch 8 (per image)",
            *(spread(raw[p]["b8"]) for p in precisions),
            *ratio(lambda p: statistics.median(raw[p]["b8"])),
        ),
        ("answer + map / answer alone", *(f"{fmt_ms(maps[p][0])} / {fmt_ms(maps[p][1])}" for p in precisions)),
    ]
    for p in precisions:
        r = runs[p]
        r["single ratio"] = r["single"] / r["paired raw b1"]
    table += [
        ("served in (stored with the answers)", *(runs[p]["served in"] for p in precisions)),
        (
            "one photo: upload -> all 3 answers",
            *(f"{fmt_ms(runs[p]['single'])} = {runs[p]['single ratio']:.2f}x raw b1" for p in precisions),
        ),
        ("  raw b1 measured alongside", *(fmt_ms(runs[p]["paired raw b1"]) for p in precisions)),
        (
            "  range over the photos",
            *(f"{fmt_ms(runs[p]['single range'][0])}-{fmt_ms(runs[p]['single range'][1])}" for p in precisions),
        ),
        ("  MLP answers stored after", *(fmt_ms(runs[p]["single MLP"]) for p in precisions)),
        (
            "  VGG: stored / queued / claimed->stored / photo+model",
            *(" / ".join(fmt_ms(s) for s in runs[p]["stages"]) for p in precisions),
        ),
        (
            f"burst of {args.burst} x 3 models: all answers stored",
            *(f"{runs[p]['burst total']:.1f} s" for p in precisions),
        ),
        (
            "  summed raw model time (ratio)",
            *(
                f"{runs[p]['burst summed raw']:.1f} s ({runs[p]['burst total'] / runs[p]['burst summed raw']:.2f})"
                for p in precisions
            ),
        ),
        (
            "  MLP answer latency p50 / p95",
            *(f"{fmt_ms(runs[p]['burst MLP p50'])} / {fmt_ms(runs[p]['burst MLP p95'])}" for p in precisions),
        ),
        (
            "  the same from pressing upload p50 / p95",
            *(
                f"{fmt_ms(runs[p]['burst MLP press p50'])} / {fmt_ms(runs[p]['burst MLP press p95'])}"
                for p in precisions
            ),
        ),
        ("  MLP submitted -> claimed p50", *(fmt_ms(runs[p]["burst waits"]["mlp"]) for p in precisions)),
        ("  VGG submitted -> claimed p50", *(fmt_ms(runs[p]["burst waits"]["vgg"]) for p in precisions)),
        ("  VGG batches", *(str(runs[p]["burst batches"]) for p in precisions)),
        ("  failed answers", *(str(runs[p]["failed"]) for p in precisions)),
        (
            "VGG worker peak RSS (VmHWM)",
            *(f"{runs[p]['memory vgg']['VmHWM']:,.0f} MB" for p in precisions),
            *ratio(lambda p: runs[p]["memory vgg"]["VmHWM"]),
        ),
        (
            "  now: private / shared library pages",
            *(
                f"{runs[p]['memory vgg']['RssAnon']:,.0f} / {runs[p]['memory vgg']['RssFile']:,.0f} MB"
                for p in precisions
            ),
        ),
        ("MLP worker peak RSS", *(f"{runs[p]['memory mlp']['VmHWM']:,.0f} MB" for p in precisions)),
    ]
    print_table(table, header)
    for p in precisions:
        cpu = runs[p]["single cpu"]
        print(f"  CPU ms per photo, one at a time ({p}): " + ", ".join(f"{k} {v * 1000:.0f}" for k, v in cpu.items()))
        cpu = runs[p]["burst cpu"]
        print(f"  CPU s in the burst ({p}): " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    print(f"Raw MLP predict_proba: {mlp_raw * 1000:.2f} ms/image")
    print("One photo's decode and face search, CPU ms: " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in loads.items()))
    for p, (again, answered) in second_look.items():
        print(f"{p}: {again}/{answered} answers of the raw timing ({again / answered:.0%}) looked at again in float32")
    if "int8" in precisions:
        print(
            "The int8 column is served as deployed: int8 (with its second look at near-ties) only where the model "
            "keeps 99% of float32's top guesses (inference/int8_gate.py), else the fallback the 'served in' row names."
        )
    for a in agreements.values():
        print(
            f"Top-1 agreement, float32 vs {a.reduced}, {a.n} generated faces: {a.agree}/{a.n} = {a.rate:.1%}; "
            f"largest probability difference {a.max_diff:.4f}; a one-grey-level nudge of the photos alone "
            f"keeps {a.noise_rate:.1%}; float32's top probability, mean {a.mean_top:.2f}"
        )
        print("  per group: " + ", ".join(f"{g} {k}/{n}" for g, (n, k) in sorted(a.per_group.items())))


if __name__ == "__main__":
    main()
