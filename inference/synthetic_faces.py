"""Deterministic synthetic face-like images for the demo, the tests and int8's calibration and check.

Five groups with neutral names differ in skin tone, face shape and feature
placement; every image also gets random lighting, pose jitter and noise, so
the groups overlap and a classifier learns them imperfectly. These are not
people and the groups are not races: everything built on them is labelled
"synthetic demo".
"""

from dataclasses import dataclass

import cv2
import numpy as np

LABEL_SET_KEY = "synthetic-demo-5"
LABEL_SET_NAME = "Synthetic demo groups (5)"
GROUPS = ["Group A", "Group B", "Group C", "Group D", "Group E"]
IMAGE_SIZE = 96


@dataclass(frozen=True)
class GroupStyle:
    tone: tuple[float, float, float]  # mean RGB of the face
    aspect: float  # face height / width
    eye_gap: float  # eye distance as a fraction of face width
    hair: tuple[float, float, float]


STYLES = [
    GroupStyle(tone=(205, 165, 135), aspect=1.30, eye_gap=0.42, hair=(70, 50, 35)),
    GroupStyle(tone=(165, 120, 95), aspect=1.22, eye_gap=0.46, hair=(35, 30, 30)),
    GroupStyle(tone=(220, 190, 160), aspect=1.38, eye_gap=0.40, hair=(150, 110, 60)),
    GroupStyle(tone=(175, 140, 100), aspect=1.18, eye_gap=0.50, hair=(55, 40, 30)),
    GroupStyle(tone=(200, 145, 150), aspect=1.36, eye_gap=0.44, hair=(110, 60, 45)),
]

SPLIT_STREAMS = {"train": 1, "test": 2, "gallery": 3}


def generate_image(group: int, index: int, *, split: str = "train", seed: int = 0) -> np.ndarray:
    """One RGB uint8 image; the same arguments always give the same pixels."""
    rng = np.random.default_rng([seed, SPLIT_STREAMS[split], group, index])
    style = STYLES[group]
    s = IMAGE_SIZE
    bg = rng.uniform(120, 235, size=3)
    img = np.empty((s, s, 3), dtype=np.float32)
    img[:] = bg

    light = rng.normal(1.0, 0.07)  # photo exposure: the main source of overlap
    tone = np.clip(np.array(style.tone) * light + rng.normal(0, 9, size=3), 0, 255)
    shade = rng.normal(1.0, 0.3)  # hair shade
    hair = np.clip(np.array(style.hair) * shade + rng.normal(0, 10, size=3), 0, 255)
    cx = s / 2 + rng.normal(0, 3)
    cy = s / 2 + 4 + rng.normal(0, 3)
    fw = s * 0.27 * rng.normal(1.0, 0.06)
    fh = fw * (style.aspect + rng.normal(0, 0.07))
    tilt = rng.normal(0, 6)

    cv2.ellipse(
        img, (int(cx), int(cy - fh * 0.25)), (int(fw * 1.08), int(fh * 0.85)), tilt, 180, 360, hair.tolist(), -1
    )
    cv2.ellipse(img, (int(cx), int(cy)), (int(fw), int(fh)), tilt, 0, 360, tone.tolist(), -1)
    gap = fw * (style.eye_gap + rng.normal(0, 0.04))
    eye_y = int(cy - fh * 0.18)
    eye_r = max(2, int(fw * 0.12))
    for side in (-1, 1):
        ex = int(cx + side * gap)
        cv2.ellipse(img, (ex, eye_y), (eye_r + 1, eye_r), 0, 0, 360, (245, 245, 245), -1)
        cv2.circle(img, (ex, eye_y), max(1, eye_r // 2), (40, 30, 25), -1)
        cv2.line(img, (ex - eye_r, eye_y - eye_r - 3), (ex + eye_r, eye_y - eye_r - 4), (hair * 0.8).tolist(), 2)
    nose = (tone * 0.82).tolist()
    cv2.line(img, (int(cx), eye_y + 3), (int(cx), int(cy + fh * 0.18)), nose, 2)
    mouth_w = int(fw * rng.uniform(0.3, 0.5))
    cv2.ellipse(img, (int(cx), int(cy + fh * 0.45)), (mouth_w, 3), 0, 0, 180, (150, 70, 70), 2)

    img += rng.normal(0, 10, size=img.shape)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    return np.clip(img, 0, 255).astype(np.uint8)


# Two made-up attributes of each drawing, read off its own random draws (never changing a pixel),
# so the demo's cards and results can break accuracy down the way Gender Shades did: "Style"
# (from the hair shade, gender-like) and "Band" (from the exposure, age-like). Synthetic, and
# named so wherever they are shown.
STYLE_NAMES = ("Style 1", "Style 2")
BAND_NAMES = ("Band 1", "Band 2", "Band 3")


def attributes(group: int, index: int, *, split: str = "train", seed: int = 0) -> dict[str, str]:
    """{"style": ..., "band": ...} of generate_image(group, index, split=split, seed=seed)."""
    rng = np.random.default_rng([seed, SPLIT_STREAMS[split], group, index])
    rng.uniform(120, 235, size=3)  # the background, as generate_image draws it
    light = rng.normal(1.0, 0.07)
    rng.normal(0, 9, size=3)
    shade = rng.normal(1.0, 0.3)
    band = 0 if light < 0.97 else 1 if light < 1.03 else 2  # about a third each
    return {"style": STYLE_NAMES[int(shade >= 1.0)], "band": BAND_NAMES[band]}


def generate_group(group: int, count: int, *, split: str = "train", seed: int = 0, start: int = 0):
    for i in range(start, start + count):
        yield generate_image(group, i, split=split, seed=seed)
