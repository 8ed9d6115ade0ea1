"""make bench-peer: the whole platform against a plain loop the way deepface works, same photos.

The plain loop (deepface's `analyze(actions=("race",))` with its default OpenCV detector, without
deepface itself: nothing is downloaded) loads the same VGG-Face architecture with the same
weights in Keras (float32), and for each photo, one at a time: decodes it whole, finds the face
with OpenCV's Haar cascade on the whole photo (scale 1.1, 10 neighbours) and the eyes inside it
(deepface aligns on them), resizes the face to 224 x 224 and calls the model on it.

The platform gets the same photos uploaded through the page at once (one per student) and
answers each with three models (two MLPs and VGG-Face), with its workers as deployed. Printed:
photos per second of each and the ratio, in the same run on the same machine.

Photos: a folder of your own (--photos DIR), else generated JPEGs of a 12 MP phone camera's size
(--size WxH for another).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_inference import (  # noqa: E402
    Results,
    as_the_page_sends,
    burst,
    demo_vgg,
    folder_photos,
    login_all,
    parse_size,
    phone_photo_bytes,
    setup_demo_class,
    submit,
    usable,
)
from bench.stack import Stack, bench_env, manage  # noqa: E402


class PlainLoop:
    """One photo at a time, as deepface's analyze() does it with its OpenCV detector."""

    def __init__(self, model_version):
        from itertools import islice

        import cv2

        from inference.artifacts import store_path
        from inference.vggface import build_model
        from inference.vggface_weights import iter_layers

        base, head = store_path(model_version.base.artifact_path), store_path(model_version.artifact_path)
        n = len(model_version.label_set.labels)
        self.model = build_model(n, layer_source=(*islice(iter_layers(base), 15), *iter_layers(head)))
        data = Path(cv2.data.haarcascades)
        self.faces = cv2.CascadeClassifier(str(data / "haarcascade_frontalface_default.xml"))
        self.eyes = cv2.CascadeClassifier(str(data / "haarcascade_eye.xml"))

    def answer(self, path: Path) -> np.ndarray:
        import cv2

        img = cv2.imread(str(path))  # BGR, whole
        faces, _, _ = self.faces.detectMultiScale3(img, 1.1, 10, outputRejectLevels=True)
        if len(faces):
            x, y, w, h = faces[0]
            face = img[y : y + h, x : x + w]
            self.eyes.detectMultiScale(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), 1.1, 10)  # for alignment
        else:
            face = img  # deepface with enforce_detection=False: the whole photo
        factor = min(224 / face.shape[0], 224 / face.shape[1])
        resized = cv2.resize(face, (max(1, int(face.shape[1] * factor)), max(1, int(face.shape[0] * factor))))
        padded = np.zeros((224, 224, 3), dtype=np.uint8)
        padded[: resized.shape[0], : resized.shape[1]] = resized
        x = (padded.astype(np.float32) / 255)[None]
        return self.model(x, training=False).numpy()[0]  # deepface's RaceClient.predict


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", metavar="DIR", help="a folder of your own photos (default: generated ones)")
    parser.add_argument("--count", type=int, default=30, help="generated photos when no folder is given")
    parser.add_argument("--size", default="4032x3024", help="the generated photos' size (default: a phone camera's)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--precision",
        default=None,
        help="the platform's VGG-Face precision (default: bfloat16 where the CPU has it, else float32; int8 as "
        "deployed: only where the model meets its agreement bar, else the fallback)",
    )
    parser.add_argument(
        "--as-sent",
        choices=("page", "file"),
        default="page",
        help="the platform gets the photos as its upload page sends them (made smaller on each student's "
        "device), or each file whole; the plain loop always reads the files",
    )
    args = parser.parse_args()
    ok, reason = usable(args.precision or "bfloat16")
    precision = args.precision or ("bfloat16" if ok else "float32")

    folder = Path(args.photos) if args.photos else Path(tempfile.mkdtemp(prefix="bench-peer-"))
    if args.photos:
        make, n = folder_photos(args.photos)
        photos = [make(i) for i in range(n)]
        paths = None
    else:
        photos = [phone_photo_bytes(200 + i, parse_size(args.size)) for i in range(args.count)]
        paths = []
        for i, data in enumerate(photos):
            paths.append(folder / f"photo{i:03d}.jpg")
            paths[-1].write_bytes(data)
    if paths is None:
        from inference.precision_check import folder_images

        paths = [Path(p) for p, _ in folder_images(folder)[0]]
    if args.as_sent == "page":
        photos = [as_the_page_sends(data) for data in photos]
    n = len(photos)

    env = bench_env("peer", args.port)
    print(f"Setting up: fresh database, demo models (full-size VGG-Face, random base), a class of {n}...", flush=True)
    logins, assignment = setup_demo_class(env, n)
    mv = demo_vgg()

    print(
        f"Plain loop: Keras VGG-Face (float32), OpenCV Haar on the whole photo, one photo at a time, {n} photos",
        flush=True,
    )
    loop = PlainLoop(mv)
    loop.answer(paths[0])  # deepface's models are built once too; the first call pays tracing
    t0 = time.perf_counter()
    per_photo = []
    for path in paths:
        t1 = time.perf_counter()
        loop.answer(path)
        per_photo.append(time.perf_counter() - t1)
    plain = time.perf_counter() - t0
    del loop

    print(
        f"The platform: the same {n} photos uploaded at once, 3 models each, VGG-Face in {precision} ({reason})",
        flush=True,
    )
    results = Results(env["DATABASE_URL"])
    if precision == "int8":  # quantised and checked against float32 before the worker starts, as an operator would
        print(manage({**env, "ETHITECH_VGG_PRECISION": "int8"}, "prepare_int8").strip(), flush=True)
    stack = Stack({**env, "ETHITECH_VGG_PRECISION": precision}, {"mlp": "mlp", "vgg": "vgg"}, nice={"vgg": 10})
    try:
        browsers = login_all(stack.url, logins)
        warm = submit(browsers[0], assignment, 9999, photos[0])  # models load once per worker process
        results.wait_final([warm], 3)
        time.sleep(1)
        ids, t_start, _ = burst(browsers[:n], assignment, photos, 0)
        rows = results.wait_final(ids, 3 * n)
        whole = max(r[4] for r in rows).timestamp() - t_start
        failed = sum(r[2] != "done" for r in rows)
        served = sorted({r[7] for r in rows if r[1] == "vgg"})
    finally:
        stack.stop()

    source = f"from {args.photos}" if args.photos else f"generated {args.size}"
    sent = "as the upload page sends them" if args.as_sent == "page" else "each file whole"
    print(f"\nSame machine, same run, {n} photos ({source}; the platform got them {sent}):")
    print(
        f"  plain loop, 1 model per photo: {plain:.1f} s = {n / plain:.2f} photos/s "
        f"(per photo median {statistics.median(per_photo) * 1000:.0f} ms)"
    )
    print(
        f"  the platform, 3 models per photo, upload to last answer stored: {whole:.1f} s = {n / whole:.2f} photos/s"
        f" (VGG-Face in {', '.join(served)}; {failed} failed)"
    )
    print(f"  throughput ratio: {plain / whole:.2f}x (target >= 5x)")


if __name__ == "__main__":
    main()
