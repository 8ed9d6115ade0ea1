"""Image intake: validate an uploaded file and re-encode it without metadata.

Only Pillow (and its HEIF plugin) is used here: the web process calls this.
Every rejection is an IntakeError with a message a student can act on; no
input, however hostile, raises anything else.

The allow-list is explicit: JPEG (including the multi-picture JPEGs some
cameras write), PNG, WebP and HEIC/HEIF (iPhone photos). Pillow is only
allowed to try those decoders, so a file is never parsed by a plugin outside
the list. Animated images keep their first frame; CMYK, 16-bit, palette,
greyscale and alpha images become plain 8-bit sRGB.
"""

import io
import logging
import math
import warnings
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext, gettext_noop
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .stored_text import declare

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Pillow decoder ids we let open a file -> how the format is named to users.
# The JPEG decoder also opens multi-picture JPEGs (format "MPO").
DECODERS = ("JPEG", "PNG", "WEBP", "HEIF")
MIN_SIDE = 32  # smaller images cannot show a face the models could look at
MAX_ASPECT = 10  # longer and thinner than 10:1 is a banner, not a photo

# Recognisable files outside the allow-list get a message that names them.
_SIGNATURES = [
    (b"GIF87a", gettext_noop("a GIF image")),
    (b"GIF89a", gettext_noop("a GIF image")),
    (b"BM", gettext_noop("a BMP image")),
    (b"II*\x00", gettext_noop("a TIFF image")),
    (b"MM\x00*", gettext_noop("a TIFF image")),
    (b"%PDF", gettext_noop("a PDF document")),
    (b"PK\x03\x04", gettext_noop("a ZIP archive or office document")),
    (b"\x00\x00\x01\x00", gettext_noop("an icon file")),
    (b"8BPS", gettext_noop("a Photoshop file")),
    (b"\x7fELF", gettext_noop("a program")),
    (b"MZ", gettext_noop("a program")),
]
_TEXT_SIGNATURES = [
    (b"<svg", gettext_noop("an SVG drawing")),
    (b"<?xml", gettext_noop("an XML or SVG file")),
    (b"<!doctype html", gettext_noop("a web page")),
    (b"<html", gettext_noop("a web page")),
    (b"<script", gettext_noop("a script")),
]
_AVIF = gettext_noop("an AVIF image")

# What a student reads; an audit's worker stores them in English, its page translates them
# (inference.stored_text).
TOO_LARGE = declare(gettext_noop("This file is larger than %(size)s. Please choose a smaller photo."))
EMPTY = gettext_noop("The file is empty. Please choose a photo (JPEG, PNG, WebP or HEIC).")
NOT_ACCEPTED_KIND = declare(
    gettext_noop(
        "This file is %(what)s, not a JPEG, PNG, WebP or HEIC photo. Please choose a photo in one of those formats."
    ),
    nested=("what",),
)
NOT_ACCEPTED = gettext_noop(
    "This file is not a JPEG, PNG, WebP or HEIC image (it may be a different file type renamed). "
    "Please choose a photo in one of those formats."
)
TOO_MANY_PIXELS = declare(
    gettext_noop(
        "This image is %(width)sx%(height)s pixels, more than we accept (%(megapixels)s megapixels). "
        "Please use a smaller photo."
    )
)
TOO_SMALL = declare(
    gettext_noop(
        "This image is only %(width)sx%(height)s pixels. The models need at least %(min_side)s pixels "
        "on each side; please use a larger photo."
    )
)
TOO_THIN = declare(
    gettext_noop(
        "This image is %(width)sx%(height)s pixels: too long and thin to be a photo of a face. "
        "Crop it closer to the face and try again."
    )
)
BOMB = gettext_noop("This image has too many pixels to process safely. Please use a smaller photo.")
NO_MEMORY = gettext_noop("This image is too large to process. Please use a smaller photo.")
DAMAGED = gettext_noop("This image file is damaged or incomplete. Please choose another photo.")
COLOURS = gettext_noop("This image uses a colour format we cannot convert. Please save it as JPEG and retry.")


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


def too_large_message(max_bytes: int | None = None) -> str:
    max_bytes = max_bytes or settings.UPLOAD_MAX_BYTES
    return gettext(TOO_LARGE) % {"size": _human_mb(max_bytes)}


def clean_upload(fileobj, *, size: int | None = None) -> CleanImage:
    """Validate an uploaded image and return a re-encoded, metadata-free JPEG."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    if size is not None and size > max_bytes:
        raise IntakeError(too_large_message(max_bytes))
    raw = fileobj.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise IntakeError(too_large_message(max_bytes))
    if not raw:
        raise IntakeError(gettext(EMPTY))
    return clean_bytes(raw, max_pixels=settings.UPLOAD_MAX_PIXELS)


def _not_accepted(raw: bytes) -> IntakeError:
    head = raw[:64]
    what = next((name for sig, name in _SIGNATURES if head.startswith(sig)), None)
    if what is None:
        text = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        what = next((name for sig, name in _TEXT_SIGNATURES if text.startswith(sig)), None)
    if what is None and head[4:12] in (b"ftypavif", b"ftypavis"):
        what = _AVIF
    if what:
        return IntakeError(gettext(NOT_ACCEPTED_KIND) % {"what": gettext(what)})
    return IntakeError(gettext(NOT_ACCEPTED))


def _check_geometry(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise IntakeError(
            gettext(TOO_MANY_PIXELS) % {"width": width, "height": height, "megapixels": max_pixels // 1_000_000}
        )
    if min(width, height) < MIN_SIDE:
        raise IntakeError(gettext(TOO_SMALL) % {"width": width, "height": height, "min_side": MIN_SIDE})
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise IntakeError(gettext(TOO_THIN) % {"width": width, "height": height})


def _decode(raw: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Open with the allowed decoders only, check the size from the header, then decode frame 1."""
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x its own limit; treat that as an error too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(raw), formats=list(DECODERS))
        source_format = img.format or "unknown"
        _check_geometry(img.width, img.height, max_pixels)  # before a single pixel is decoded
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated: the first frame stands for the whole image
        if source_format in ("JPEG", "MPO"):
            # Decode at reduced scale when the stored copy will be smaller anyway (much less memory
            # and time). libjpeg keeps the result at least as large as asked in both directions, so
            # it is asked for the stored copy's own size: a square (limit, limit) would keep a
            # 4032x3024 phone photo whole, as 1512 < 1600 (200 CPU-ms in all instead of about 60).
            ratio = settings.UPLOAD_STORE_MAX_SIDE / max(img.size)
            if ratio < 1:
                img.draft(None, (math.ceil(img.width * ratio), math.ceil(img.height * ratio)))
        img.load()
    return img, source_format


def clean_bytes(raw: bytes, *, max_pixels: int) -> CleanImage:
    try:
        img, source_format = _decode(raw, max_pixels)
    except IntakeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IntakeError(gettext(BOMB))
    except UnidentifiedImageError:
        raise _not_accepted(raw)
    except MemoryError:
        raise IntakeError(gettext(NO_MEMORY))
    except Exception as exc:  # any decoder failure on hostile input is a damaged file, never a crash
        if not isinstance(exc, (OSError, SyntaxError, ValueError, EOFError)):
            log.warning("Unexpected %s while decoding an upload: %s", type(exc).__name__, exc)
        raise IntakeError(gettext(DAMAGED))

    try:
        ImageOps.exif_transpose(img, in_place=True)  # not a copy of the whole photo when upright
    except Exception:  # broken EXIF must not block an otherwise good photo
        pass
    try:
        img = to_rgb(img)
    except Exception as exc:
        log.warning("Could not convert a %s %s upload: %s", source_format, img.mode, exc)
        raise IntakeError(gettext(COLOURS))
    limit = settings.UPLOAD_STORE_MAX_SIDE
    if max(img.size) > limit:
        # Bicubic (Pillow's own choice for thumbnails): the models see this copy at 224 px or less,
        # and Lanczos took 37 ms instead of 27 for a phone photo's last step down to 1600 px.
        img.thumbnail((limit, limit), Image.Resampling.BICUBIC)
    # Pillow carries some metadata (a JPEG comment, for one) from the source
    # into a save; with it cleared, and no exif/icc arguments, none is written.
    img.info = {}
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return CleanImage(data=out.getvalue(), width=img.width, height=img.height, source_format=source_format)


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _icc_to_srgb(img: Image.Image) -> Image.Image | None:
    """Colour-manage to sRGB when the file carries a profile (CMYK print files,
    Display P3 phone photos); None when there is none or it is unusable."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "CMYK"):
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
    except Exception:  # a broken or mismatched profile: fall back to a plain conversion
        return None


def to_rgb(img: Image.Image) -> Image.Image:
    """Any decoded mode -> 8-bit RGB: alpha on white, 16-bit scaled (not clipped), CMYK via its profile."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale: Pillow's own conversion clips at 255, turning photos white.
        img = img.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    managed = _icc_to_srgb(img)
    if managed is not None:
        return managed
    return img if img.mode == "RGB" else img.convert("RGB")  # convert() would copy an RGB photo
