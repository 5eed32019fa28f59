"""Product pictures as the pages serve them: checked, oriented, stripped and resized.

``render_set(data)`` turns one uploaded (or generated) picture into its *renditions*: the
widths of ``WIDTHS`` below its own (capped at ``MAX_WIDTH``), each in WebP and in a fallback
format (the upload's own: JPEG stays JPEG, PNG stays PNG; a WebP upload falls back to PNG
when it has transparency, else JPEG). Every rendition is re-encoded, so EXIF data (a phone
photo's GPS position) never reaches a shopper.

What is refused, with a message for the field it came in: anything Pillow cannot read as a
JPEG, PNG or WebP, a file cut short, and decompression bombs: a few kilobytes announcing
billions of pixels are refused from the header, before a pixel is decoded.

Pure functions of bytes: no Flask, no storage (``app.media`` stores what this returns).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

WIDTHS = (320, 640, 960, 1280)
MAX_WIDTH = 1600
# 40 megapixels is a large camera's photo; anything bigger is refused before decoding.
MAX_PIXELS = 40_000_000
# Pillow's own guard (a warning past it, an error past twice it) as the second line.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
DIGEST_CHARS = 16
_QUALITY = {"image/jpeg": 82, "image/webp": 80}


class ImageRejected(ValueError):
    """The bytes are not a picture the shop will store; the message says why."""


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RenderedSet:
    """One picture in every width and format the pages offer. ``digest`` names the set
    after the source bytes, so the same upload always makes the same names."""

    digest: str
    width: int
    height: int
    fallback_type: str
    renditions: tuple[Rendition, ...]


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]


def open_checked(data: bytes) -> Image.Image:
    """The decoded picture, or ``ImageRejected``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=tuple(FORMATS))
            _check_size(image.size)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"is too large to decode safely (over {MAX_PIXELS} pixels)") \
            from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected("must be a JPEG, PNG or WebP image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("is a damaged or truncated image") from exc
    return image


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageRejected("has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageRejected(f"is too large to decode safely ({width}x{height} is over "
                            f"{MAX_PIXELS} pixels)")


def render_set(data: bytes, widths: tuple[int, ...] = WIDTHS,
               digest: str | None = None) -> RenderedSet:
    """Every rendition of ``data``. ``digest`` names the set when the bytes are made from
    something smaller that already identifies them (a generated picture's inputs)."""
    image = open_checked(data)
    source_type = FORMATS[image.format or ""]  # open_checked admits only FORMATS
    image = ImageOps.exif_transpose(image)  # a phone's portrait photo stays upright
    fallback = _fallback_type(source_type, image)
    image = _normalised_mode(image, fallback)
    full_width, full_height = _fitted(image.size)
    renditions = []
    for width in candidate_widths(full_width, widths):
        height = max(1, round(full_height * width / full_width))
        resized = image if (width, height) == image.size else image.resize(
            (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for content_type in ("image/webp", fallback):
            renditions.append(Rendition(width, height, content_type,
                                        encode(resized, content_type)))
    return RenderedSet(digest or digest_of(data), full_width, full_height, fallback,
                       tuple(renditions))


def candidate_widths(full_width: int, widths: tuple[int, ...] = WIDTHS) -> list[int]:
    """The srcset widths of a picture ``full_width`` wide: the standard ones below it, and
    its own width (a small picture is never scaled up)."""
    return sorted({width for width in widths if width < full_width} | {full_width})


def _fitted(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    if width <= MAX_WIDTH:
        return width, height
    return MAX_WIDTH, max(1, round(height * MAX_WIDTH / width))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _fallback_type(source_type: str, image: Image.Image) -> str:
    if source_type != "image/webp":
        return source_type
    return "image/png" if _has_alpha(image) else "image/jpeg"


def _normalised_mode(image: Image.Image, fallback: str) -> Image.Image:
    """RGB, or RGBA where the picture has transparency and the fallback keeps it."""
    if fallback == "image/png" and _has_alpha(image):
        return image.convert("RGBA")
    return image.convert("RGB")


def encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/webp":
        image.save(out, "WEBP", quality=_QUALITY[content_type], method=3)
    elif content_type == "image/jpeg":
        image.save(out, "JPEG", quality=_QUALITY[content_type], optimize=True,
                   progressive=True)
    else:
        image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()
