"""How a product picture's renditions are named, and how a page finds them again.

A set is named after its source bytes and its size, so the product row keeps one URL (its
``image_url``, the full-width fallback) and every other rendition follows from it:

    products/42/3f9a0c1d2e4b5a69-1200x900.jpg         full width, fallback format
    products/42/3f9a0c1d2e4b5a69-1200x900.webp        full width, WebP
    products/42/3f9a0c1d2e4b5a69-1200x900-640w.jpg    640 wide, fallback format
    products/42/3f9a0c1d2e4b5a69-1200x900-640w.webp   ...

The size in the name gives the pages each picture's width and height (no layout shift)
without a query or a stored manifest; the digest makes the names content-addressed, so
they are cached for a year and never change meaning. Pure functions: no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.images import EXTENSIONS, WIDTHS, RenderedSet, Rendition, candidate_widths

# A set member: the set's base, then "-<width>w" unless it is the full width.
SET_MEMBER = re.compile(r"products/(?P<product>\d+)/(?P<digest>[0-9a-f]{16})-"
                        r"(?P<width>\d{1,5})x(?P<height>\d{1,5})(?:-(?P<each>\d{1,5})w)?"
                        r"\.(?P<ext>jpg|png|webp)")
# Names of the first release: one random name per upload, no renditions.
LEGACY_NAME = re.compile(r"products/(?P<product>\d+)/[A-Za-z0-9_-]{16}\.(?:jpg|png|webp)")
_TYPES = {ext: content_type for content_type, ext in EXTENSIONS.items()}


def base_name(product_id: int, digest: str, width: int, height: int) -> str:
    return f"products/{product_id}/{digest}-{width}x{height}"


def member_name(base: str, full_width: int, width: int, content_type: str) -> str:
    suffix = "" if width == full_width else f"-{width}w"
    return f"{base}{suffix}.{EXTENSIONS[content_type]}"


def names_of(product_id: int, rendered: RenderedSet) -> list[tuple[str, Rendition]]:
    """Where each rendition of ``rendered`` is stored, the full-width fallback first."""
    base = base_name(product_id, rendered.digest, rendered.width, rendered.height)
    ordered = sorted(rendered.renditions, key=lambda r: (
        r.width != rendered.width or r.content_type != rendered.fallback_type))
    return [(member_name(base, rendered.width, r.width, r.content_type), r) for r in ordered]


def primary_name(product_id: int, rendered: RenderedSet) -> str:
    return names_of(product_id, rendered)[0][0]


def is_media_name(name: str) -> bool:
    return bool(SET_MEMBER.fullmatch(name) or LEGACY_NAME.fullmatch(name))


def owner_of(name: str) -> int | None:
    match = SET_MEMBER.fullmatch(name) or LEGACY_NAME.fullmatch(name)
    return int(match.group("product")) if match else None


@dataclass(frozen=True)
class Variant:
    url: str
    width: int
    height: int
    content_type: str


@dataclass(frozen=True)
class ImageSet:
    """Every rendition of one stored picture, as URLs under the media base."""

    width: int
    height: int
    fallback_type: str
    variants: tuple[Variant, ...]

    def srcset(self, content_type: str) -> str:
        return ", ".join(f"{v.url} {v.width}w" for v in self.variants
                         if v.content_type == content_type)

    def src(self, near_width: int) -> Variant:
        """The fallback rendition a browser without srcset gets: the smallest one at
        least ``near_width`` wide, else the largest."""
        fallbacks = [v for v in self.variants if v.content_type == self.fallback_type]
        return next((v for v in fallbacks if v.width >= near_width), fallbacks[-1])


def image_set(url: str | None, media_base: str,
              widths: tuple[int, ...] = WIDTHS) -> ImageSet | None:
    """The renditions behind ``url`` when it is the primary name of a set stored under
    ``media_base``; None for any other URL (an older upload, an address an admin typed)."""
    prefix = media_base.rstrip("/") + "/"
    if not url or not url.startswith(prefix):
        return None
    match = SET_MEMBER.fullmatch(url[len(prefix):])
    if match is None or match.group("each") is not None or match.group("ext") == "webp":
        return None
    full_width, full_height = int(match.group("width")), int(match.group("height"))
    fallback = _TYPES[match.group("ext")]
    base = prefix + base_name(int(match.group("product")), match.group("digest"),
                              full_width, full_height)
    variants = []
    for width in candidate_widths(full_width, widths):
        height = max(1, round(full_height * width / full_width))
        for content_type in ("image/webp", fallback):
            variants.append(Variant(member_name(base, full_width, width, content_type),
                                    width, height, content_type))
    return ImageSet(full_width, full_height, fallback, tuple(variants))


def set_member_names(name: str, widths: tuple[int, ...] = WIDTHS) -> list[str]:
    """Every stored name of the set ``name`` is the primary of (or ``[name]`` for a
    legacy single file): what deleting a replaced picture removes."""
    found = image_set("/" + name, "", widths)
    if found is None:
        return [name]
    return [variant.url.lstrip("/") for variant in found.variants]
