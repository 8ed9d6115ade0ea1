"""Image intake: validate an uploaded file and re-encode it without metadata.

Only Pillow is used here (the web process calls this). Every rejection is an
IntakeError with a message a student can act on.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


class IntakeError(ValueError):
    """The file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes  # JPEG bytes, no EXIF or other metadata
    width: int
    height: int
    source_format: str


def _human_mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def clean_upload(fileobj, *, size: int | None = None) -> CleanImage:
    """Validate an uploaded image and return a re-encoded, metadata-free JPEG."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    max_pixels = settings.UPLOAD_MAX_PIXELS
    if size is not None and size > max_bytes:
        raise IntakeError(f"This file is larger than {_human_mb(max_bytes)}. Please choose a smaller photo.")
    raw = fileobj.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise IntakeError(f"This file is larger than {_human_mb(max_bytes)}. Please choose a smaller photo.")
    if not raw:
        raise IntakeError("The file is empty. Please choose a photo (JPEG, PNG or WebP).")
    return clean_bytes(raw, max_pixels=max_pixels)


def clean_bytes(raw: bytes, *, max_pixels: int) -> CleanImage:
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x its limit; treat that as an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=list(ALLOWED_FORMATS))
            if img.width * img.height > max_pixels:
                raise IntakeError(
                    f"This image is {img.width}x{img.height} pixels, more than we accept "
                    f"({max_pixels // 1_000_000} megapixels). Please use a smaller photo."
                )
            source_format = img.format
            img.load()
    except IntakeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IntakeError("This image has too many pixels to process safely. Please use a smaller photo.")
    except UnidentifiedImageError:
        raise IntakeError(
            "This file is not a JPEG, PNG or WebP image (it may be a different file type renamed). "
            "Please choose a photo in one of those formats."
        )
    except (OSError, SyntaxError, ValueError, EOFError):
        raise IntakeError("This image file is damaged or incomplete. Please choose another photo.")

    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # broken EXIF must not block an otherwise good photo
        pass
    img = _to_rgb(img)
    limit = settings.UPLOAD_STORE_MAX_SIDE
    if max(img.size) > limit:
        img.thumbnail((limit, limit), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh save with no exif/icc arguments writes no metadata at all.
    img.save(out, format="JPEG", quality=90)
    return CleanImage(data=out.getvalue(), width=img.width, height=img.height, source_format=source_format)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")
