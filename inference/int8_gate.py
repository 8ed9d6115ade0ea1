"""int8 serves a model only where its answers agree with float32's.

The issue's bar (ETHITECH_VGG_INT8_MIN_AGREEMENT, 0.99 by default): the first time a model is to
be served in int8, a child process answers GATE_IMAGES generated faces (synthetic, not the ones
int8 was calibrated on) in float32 and in int8 and stores the top-1 agreement beside the
quantised files. A model below the bar is served in the best precision that meets it instead
(bfloat16 where the CPU runs it, else float32), and the worker's log says so. Measured on the
demo's randomly initialised base: 96.5% (a random network's features sit close to ties, so 8-bit
activations move answers), so the demo falls back; a model whose int8 answers agree is served
in int8, without TensorFlow.

The child imports TensorFlow (float32 needs it) and loads both networks: about a minute and
1.5 GB at full size, once per model; the worker serving int8 stays as small as before.
"""

import hashlib
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GATE_IMAGES = 200
GATE_SEED = 3  # neither the demo's training (0), comparison (1) nor calibration (2) faces
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Verdict:
    agree: int
    n: int
    nudge_rate: float  # float32 against itself on the images moved by one grey level: how near ties are

    @property
    def rate(self) -> float:
        return self.agree / self.n if self.n else 0.0

    def passes(self, bar: float) -> bool:
        return self.n > 0 and self.rate >= bar


def _key(model_version, predictor) -> str:
    """Over what makes the answers: the model's file, the quantised graphs it runs (their keys
    cover the weights, the calibration and the settings) and the images checked."""
    from . import int8

    about = {
        "version": FORMAT_VERSION,
        "model": model_version.sha256,
        "graphs": [spec.key() for spec in predictor.part_specs()],
        "images": GATE_IMAGES,
        "seed": GATE_SEED,
        "int8": int8.FORMAT_VERSION,
    }
    return hashlib.sha256(json.dumps(about, sort_keys=True).encode()).hexdigest()[:32]


def verdict(model_version, predictor) -> Verdict:
    """The model's measured agreement, from the cache or measured now in a child process."""
    from django.conf import settings

    from .int8 import cache_dir, run_child

    path = cache_dir() / f"agreement-{_key(model_version, predictor)}.json"
    try:
        return Verdict(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        pass
    log.warning(
        "Checking %s's int8 answers against float32 on %d generated faces (once per model, in a child process)...",
        model_version.key,
        GATE_IMAGES,
    )
    network = {  # what the child loads: the files this process verified, no database needed
        "path": str(predictor.path),
        "base_path": str(predictor.base_path) if predictor.base_path else "",
        "width": predictor.width,
        "n_classes": predictor.n_classes,
        "input_spec": predictor.spec.to_dict(),
    }
    run_child(
        "inference.int8_gate",
        [json.dumps(network), str(path)],
        f"Checking {model_version.key}'s int8 answers against float32",
        env={"ETHITECH_DATA_DIR": str(settings.DATA_DIR)},  # the same int8 cache
    )
    return Verdict(**json.loads(path.read_text()))


def measure(network: dict, images: int = GATE_IMAGES, batch: int = 8) -> Verdict:
    """float32 against int8 on `images` generated faces (the child's work): how often the top
    guess is the same, and for scale how often a one-grey-level nudge alone keeps float32's."""
    import numpy as np

    from .int8_predictor import Int8VGGPredictor
    from .predictors import VGGPredictor
    from .preprocessing import InputSpec, prepare
    from .synthetic_faces import GROUPS, generate_image

    spec = InputSpec.from_dict(network["input_spec"])
    common = {
        "base_path": Path(network["base_path"]) if network["base_path"] else None,
        "width": network["width"],
    }
    reference = VGGPredictor(Path(network["path"]), spec, network["n_classes"], precision="float32", **common)
    reduced = Int8VGGPredictor(Path(network["path"]), spec, network["n_classes"], precision="int8", **common)
    reference.load()
    reduced.load()
    per_group = -(-images // len(GROUPS))
    faces = [(g, i) for g in range(len(GROUPS)) for i in range(per_group)][:images]
    rng, agree, nudged = np.random.default_rng(0), 0, 0
    for start in range(0, images, batch):
        chunk = faces[start : start + batch]
        x = np.stack([prepare(generate_image(g, i, split="test", seed=GATE_SEED), spec)[0] for g, i in chunk])
        moved = np.clip(x + rng.integers(-1, 2, x.shape) / np.float32(255), 0, 1).astype(np.float32)
        top = reference.predict_proba(x).argmax(axis=1)
        agree += int((reduced.predict_proba(x).argmax(axis=1) == top).sum())
        nudged += int((reference.predict_proba(moved).argmax(axis=1) == top).sum())
    return Verdict(agree=agree, n=images, nudge_rate=round(nudged / images, 4))


def _write(path: Path, found: Verdict) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".json", delete=False) as tmp:
        json.dump({"agree": found.agree, "n": found.n, "nudge_rate": found.nudge_rate}, tmp)
    os.replace(tmp.name, path)


def main(argv: list[str]) -> int:
    """`python -m inference.int8_gate NETWORK_JSON OUT`: measure and store (run by verdict())."""
    import django

    from .int8 import child_main

    django.setup()  # the worker's settings module, in the environment it passed on
    return child_main(lambda: _write(Path(argv[1]), measure(json.loads(argv[0]))))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
