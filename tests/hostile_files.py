"""A corpus of malformed, hostile and merely unusual upload files, generated
in the test run (nothing is checked in). Each entry says what a student must
see: either the message an IntakeError gives, or that the photo is accepted
(optionally with a check on the stored, re-encoded copy).
"""

import io
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    filename: str = "photo.jpg"
    content_type: str = "image/jpeg"
    refused: str = ""  # regex the page must show; empty: the photo is accepted
    check: Callable[[Image.Image, bytes], None] | None = None  # on the stored copy (image, raw bytes)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def noisy(size=(200, 160), mode="RGB") -> Image.Image:
    return Image.effect_noise(size, 90).convert(mode)


def solid(color=(200, 40, 40), size=(120, 100), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def raw_png(width, height, *, depth=8, color_type=2, rows: bytes | None = None, extra=(), bad_crc=False) -> bytes:
    """A PNG written by hand, so headers can lie about what follows."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    chunks = [png_chunk(b"IHDR", ihdr, crc=0 if bad_crc else None), *extra]
    if rows is not None:
        chunks.append(png_chunk(b"IDAT", zlib.compress(rows)))
    chunks.append(png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def png16_rgb(width=64, height=48, value=(65535, 0, 32768)) -> bytes:
    row = b"\x00" + struct.pack(">HHH", *value) * width
    return raw_png(width, height, depth=16, color_type=2, rows=row * height)


def jpeg_with_segment(marker: bytes, payload: bytes, img: Image.Image | None = None) -> bytes:
    """Insert an APPn/COM segment right after SOI of a valid JPEG."""
    data = encode(img or solid(), "JPEG")
    segment = marker + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims other dimensions."""
    data = bytearray(encode(solid(size=(64, 64)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP whose canvas claims other dimensions."""
    data = bytearray(encode(solid(size=(64, 64), mode="RGBA", color=(9, 9, 9, 128)), "WEBP"))
    at = data.find(b"VP8X")
    assert at > 0, "Pillow wrote no VP8X chunk"
    data[at + 12 : at + 15] = (width - 1).to_bytes(3, "little")
    data[at + 15 : at + 18] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def exif_bytes(**tags) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[int(tag[1:])] = value
    return exif.tobytes()


def animated(fmt: str) -> bytes:
    frames = [solid((220, 20, 20), (80, 80)), solid((20, 220, 20), (80, 80)), solid((20, 20, 220), (80, 80))]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def heic(img: Image.Image | None = None) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(img or solid((30, 160, 60), (96, 80)), "HEIF", quality=90)


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def red(img: Image.Image, stored: bytes) -> None:
    r, g, b = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
    assert r > 200 and g < 60 and b < 60, (r, g, b)


def mid_grey(img: Image.Image, stored: bytes) -> None:
    r, g, b = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
    assert all(110 < c < 145 for c in (r, g, b)), (r, g, b)  # scaled from 16 bits, not clipped to white


def white(img: Image.Image, stored: bytes) -> None:
    assert all(c > 240 for c in img.convert("RGB").getpixel((img.width // 2, img.height // 2)))


def not_in_stored(*needles: bytes) -> Callable[[Image.Image, bytes], None]:
    def check(img: Image.Image, stored: bytes) -> None:
        for needle in needles:
            assert needle not in stored, needle

    return check


DAMAGED = "damaged or incomplete|not a JPEG, PNG, WebP or HEIC"
TOO_BIG = "megapixels|too many pixels"
NOT_ACCEPTED = "not a JPEG, PNG, WebP or HEIC"
SEED = random.Random(7)

CASES = [
    # --- empty, truncated, broken ---
    Case("zero-bytes", lambda: b"", refused="empty"),
    Case("truncated-jpeg", lambda: half(encode(noisy(), "JPEG")), refused=DAMAGED),
    Case("truncated-png", lambda: half(encode(noisy(), "PNG")), filename="a.png", refused=DAMAGED),
    Case("truncated-webp", lambda: half(encode(noisy(), "WEBP")), filename="a.webp", refused=DAMAGED),
    Case("truncated-heic", lambda: half(heic(noisy())), filename="a.heic", refused=DAMAGED),
    Case("jpeg-soi-eoi-only", lambda: b"\xff\xd8\xff\xd9", refused=DAMAGED),
    Case("jpeg-header-then-garbage", lambda: b"\xff\xd8\xff\xe0" + bytes(SEED.randbytes(4000)), refused=DAMAGED),
    Case("png-signature-only", lambda: b"\x89PNG\r\n\x1a\n", filename="a.png", refused=DAMAGED),
    Case("png-bad-crc", lambda: raw_png(64, 64, rows=b"\x00" + b"\x80" * 192, bad_crc=True), refused=DAMAGED),
    Case("png-zero-dimensions", lambda: raw_png(0, 0, rows=b""), filename="a.png", refused=DAMAGED + "|only 0x0"),
    Case("png-missing-pixel-data", lambda: raw_png(64, 64), filename="a.png", refused=DAMAGED),
    Case("webp-riff-header-only", lambda: b"RIFF\x10\x00\x00\x00WEBPVP8 ", filename="a.webp", refused=DAMAGED),
    Case("heic-ftyp-only", lambda: heic()[:40], filename="a.heic", refused=DAMAGED),
    Case("random-bytes", lambda: bytes(SEED.randbytes(5000)), refused=NOT_ACCEPTED),
    # --- decompression bombs and absurd dimensions ---
    Case("png-bomb-81-megapixels", lambda: encode(Image.new("1", (9000, 9000)), "PNG"), refused=TOO_BIG),
    Case("png-bomb-225-megapixels", lambda: encode(Image.new("1", (15000, 15000)), "PNG"), refused=TOO_BIG),
    Case("png-header-claims-100000-square", lambda: raw_png(100_000, 100_000), refused=TOO_BIG),
    Case("png-header-claims-2-31-wide", lambda: raw_png(2**31 - 1, 1), refused=TOO_BIG + "|" + DAMAGED),
    Case("jpeg-header-claims-65000-square", lambda: jpeg_claiming(65000, 65000), refused=TOO_BIG),
    Case("webp-canvas-claims-16000-square", lambda: webp_claiming(16000, 16000), refused=TOO_BIG + "|" + DAMAGED),
    Case(
        "png-ztxt-bomb",
        lambda: raw_png(
            64,
            64,
            rows=(b"\x00" + b"\x80" * 192) * 64,
            extra=[png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 60_000_000, 9))],
        ),
        filename="a.png",
        refused=DAMAGED,
    ),
    Case(
        "png-iccp-bomb",
        lambda: raw_png(
            64,
            64,
            rows=(b"\x00" + b"\x80" * 192) * 64,
            extra=[png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 60_000_000, 9))],
        ),
        filename="a.png",
        refused=DAMAGED,
    ),
    # --- formats outside the allow-list and files pretending to be photos ---
    Case("gif", lambda: encode(solid(), "GIF"), filename="a.gif", content_type="image/gif", refused="a GIF image"),
    Case("animated-gif", lambda: animated("GIF"), filename="a.gif", content_type="image/gif", refused="a GIF image"),
    Case(
        "gif-javascript-polyglot",
        lambda: b"GIF89a/*\x0a\x00\x0a\x00\x00\xff\x00*/=1;alert(document.domain);//" + encode(solid(), "GIF")[13:],
        filename="x.gif",
        content_type="image/gif",
        refused="a GIF image",
    ),
    Case("bmp", lambda: encode(solid(), "BMP"), filename="a.bmp", refused="a BMP image"),
    Case("tiff", lambda: encode(solid(), "TIFF"), filename="a.tif", refused="a TIFF image"),
    Case("ico", lambda: encode(solid(size=(64, 64)), "ICO"), filename="a.ico", refused="an icon file"),
    Case("avif", lambda: encode(solid(), "AVIF"), filename="a.avif", refused="an AVIF image"),
    Case(
        "svg-with-script",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
        filename="face.svg",
        content_type="image/svg+xml",
        refused="an SVG drawing",
    ),
    Case(
        "svg-renamed-jpg",
        lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect width="9"/></svg>',
        refused="XML or SVG",
    ),
    Case("html-renamed-jpg", lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script>", refused="a web page"),
    Case("php-renamed-png", lambda: b"<?php system($_GET['c']); ?>", filename="a.png", refused=NOT_ACCEPTED),
    Case("pdf-renamed-jpg", lambda: b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer\n%%EOF", refused="a PDF document"),
    Case("zip-renamed-jpg", lambda: b"PK\x03\x04" + bytes(200), refused="a ZIP archive"),
    Case("elf-renamed-jpg", lambda: b"\x7fELF\x02\x01\x01" + bytes(300), refused="a program"),
    Case("exe-renamed-jpg", lambda: b"MZ\x90\x00" + bytes(300), refused="a program"),
    Case("psd-renamed-jpg", lambda: b"8BPS\x00\x01" + bytes(100), refused="a Photoshop file"),
    Case("text-renamed-jpg", lambda: b"Just some text, not a photo.\n" * 30, refused=NOT_ACCEPTED),
    # --- sizes and shapes a face cannot be in ---
    Case("one-by-one-png", lambda: encode(solid(size=(1, 1)), "PNG"), filename="a.png", refused="only 1x1 pixels"),
    Case("ten-by-ten-jpeg", lambda: encode(solid(size=(10, 10)), "JPEG"), refused="at least 32 pixels"),
    Case("banner-4000x60", lambda: encode(solid(size=(4000, 60)), "PNG"), filename="a.png", refused="long and thin"),
    Case("tower-40x2000", lambda: encode(solid(size=(40, 2000)), "JPEG"), refused="long and thin"),
    # --- valid photos that are merely unusual: accepted and converted correctly ---
    Case("cmyk-jpeg", lambda: encode(solid((0, 255, 255, 0), mode="CMYK"), "JPEG"), check=red),
    Case("grayscale-jpeg", lambda: encode(solid(128, mode="L"), "JPEG"), check=mid_grey),
    Case(
        "png-16-bit-grey", lambda: encode(Image.new("I;16", (80, 80), 32896), "PNG"), filename="a.png", check=mid_grey
    ),
    Case("png-16-bit-rgb", png16_rgb, filename="a.png"),
    Case(
        "palette-png-transparent",
        lambda: encode(solid(0, mode="P"), "PNG", transparency=0),
        filename="a.png",
        check=white,
    ),
    Case("la-png", lambda: encode(solid((90, 0), mode="LA"), "PNG"), filename="a.png", check=white),
    Case(
        "rgba-webp",
        lambda: encode(solid((220, 20, 20, 255), mode="RGBA"), "WEBP", lossless=True),
        filename="a.webp",
        check=red,
    ),
    Case("animated-webp", lambda: animated("WEBP"), filename="a.webp", check=red),
    Case("animated-png", lambda: animated("PNG"), filename="a.png", check=red),
    Case(
        "heic-iphone",
        lambda: heic(solid((220, 20, 20), (96, 80))),
        filename="IMG_0001.HEIC",
        content_type="image/heic",
        check=red,
    ),
    Case(
        "mpo-camera-jpeg",
        lambda: encode(solid((220, 20, 20)), "MPO", save_all=True, append_images=[solid()]),
        check=red,
    ),
    Case(
        "jpeg-zip-polyglot",
        lambda: encode(solid((220, 20, 20)), "JPEG") + b"PK\x03\x04" + b"payload" * 50,
        check=not_in_stored(b"PK\x03\x04", b"payload"),
    ),
    Case(
        "jpeg-script-in-comment",
        lambda: jpeg_with_segment(b"\xff\xfe", b"<script>alert(1)</script><?php ?>"),
        check=not_in_stored(b"<script>", b"<?php"),
    ),
    Case(
        "jpeg-broken-exif", lambda: jpeg_with_segment(b"\xff\xe1", b"Exif\x00\x00MM\x00*\xff\xff\xff\xf0" + bytes(64))
    ),
    Case(
        "jpeg-exif-bad-orientation",
        lambda: encode(solid((220, 20, 20)), "JPEG", exif=exif_bytes(t274=9, t271="Evil<script>")),
        check=not_in_stored(b"Evil<script>"),
    ),
    Case(
        "jpeg-gps-exif",
        lambda: encode(solid(), "JPEG", exif=exif_bytes(t271="PhoneMaker", t34853={2: (51.0, 30.0, 0.0)})),
        check=not_in_stored(b"PhoneMaker"),
    ),
    Case("png-named-jpg-sent-as-gif", lambda: encode(solid((220, 20, 20)), "PNG"), content_type="image/gif", check=red),
    Case("path-traversal-filename", lambda: encode(solid(), "JPEG"), filename="../../../../etc/passwd.jpg"),
    Case("very-long-unicode-filename", lambda: encode(solid(), "PNG"), filename="ф" * 300 + ".png"),
    Case("near-limit-aspect-600x61", lambda: encode(noisy((600, 61)), "JPEG")),
    Case("large-photo-4000x3000", lambda: encode(noisy((4000, 3000)), "JPEG", quality=40)),
]
