"""Real pictures for the media tests, made with Pillow: flat colours keep them small."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def picture(width: int = 64, height: int = 48, fmt: str = "PNG", mode: str = "RGB",
            colour=(200, 40, 90), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, fmt, **save)
    return out.getvalue()


def png(width: int = 64, height: int = 48, **kwargs) -> bytes:
    return picture(width, height, "PNG", **kwargs)


def jpeg(width: int = 64, height: int = 48, **kwargs) -> bytes:
    return picture(width, height, "JPEG", **kwargs)


def webp(width: int = 64, height: int = 48, **kwargs) -> bytes:
    return picture(width, height, "WEBP", **kwargs)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid 1x1 PNG whose header announces ``width`` x ``height`` pixels: a few dozen
    bytes that would decode into gigabytes."""
    data = bytearray(png(1, 1))
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4:ihdr + 13]))
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def dimensions(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size
