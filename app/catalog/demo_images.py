"""Pictures for the demo catalog, drawn with Pillow: one per product, the same every time.

Each category has a palette and an illustration (a pan for the kitchen, a book, a tent...);
each product gets its own variation of both, chosen by a random generator seeded with its
name (hue, layout, pattern), and its label on a tag. PNG bytes go through the same path as
an upload (``app.media.store_picture``), so the seed exercises what admins use.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
import textwrap
from collections.abc import Callable
from functools import cache

from PIL import Image, ImageDraw, ImageFont

SIZE = 800
Colour = tuple[int, int, int]
Draw = ImageDraw.ImageDraw

# Per category: the background's hue, the accent's usual hue and the saturation (HLS).
PALETTES: dict[str, tuple[float, float, float]] = {
    "electronics": (0.60, 0.52, 0.55),
    "home-kitchen": (0.07, 0.02, 0.55),
    "books": (0.75, 0.10, 0.35),
    "sports-outdoors": (0.33, 0.55, 0.45),
    "toys-games": (0.92, 0.14, 0.70),
    "beauty-personal-care": (0.95, 0.85, 0.40),
    "clothing": (0.55, 0.05, 0.30),
    "garden-tools": (0.28, 0.12, 0.50),
    "office-supplies": (0.58, 0.12, 0.25),
    "grocery-gourmet": (0.10, 0.00, 0.60),
}


def demo_picture(name: str, category_slug: str, kicker: str = "") -> bytes:
    """The PNG of product ``name`` in category ``category_slug``; ``kicker`` (the category's
    name) is printed above the product's."""
    rng = random.Random(hashlib.sha256(f"{category_slug}/{name}".encode()).digest())
    hue, accent_hue, saturation = PALETTES.get(category_slug, (0.6, 0.1, 0.4))
    hue = (hue + rng.uniform(-0.05, 0.05)) % 1
    top, bottom = _hls(hue, 0.92, saturation), _hls(hue, 0.78, saturation)
    # One product in three leaves the category's accent for a colour of its own.
    if rng.random() < 0.35:
        accent_hue = rng.random()
    accent = _hls((accent_hue + rng.uniform(-0.06, 0.06)) % 1, 0.55, 0.75)
    ink = _hls(hue, 0.25, saturation + 0.1)
    image = _gradient(top, bottom)
    draw = ImageDraw.Draw(image)
    _pattern(draw, rng, _hls(hue, 0.86, saturation))
    centre = (SIZE // 2 + rng.randint(-40, 40), 330 + rng.randint(-20, 20))
    _halo(draw, centre, _hls(hue, 0.97, saturation))
    illustration(name, category_slug)(draw, centre, accent, ink, rng)
    _label(draw, name, kicker, ink)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _hls(hue: float, lightness: float, saturation: float) -> Colour:
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, min(1.0, saturation))
    return round(red * 255), round(green * 255), round(blue * 255)


def _gradient(top: Colour, bottom: Colour) -> Image.Image:
    column = Image.new("RGB", (1, 2))
    column.putpixel((0, 0), top)
    column.putpixel((0, 1), bottom)
    return column.resize((SIZE, SIZE), Image.Resampling.BILINEAR)


def _pattern(draw: Draw, rng: random.Random, colour: Colour) -> None:
    """Dots, rings or stripes behind the illustration, so no two pictures look alike."""
    kind = rng.choice(("dots", "rings", "stripes"))
    if kind == "stripes":
        gap = rng.randint(40, 70)
        for x in range(-SIZE, SIZE, gap):
            draw.line([(x, SIZE), (x + SIZE, 0)], fill=colour, width=gap // 3)
        return
    for _ in range(rng.randint(14, 24)):
        x, y, r = rng.randint(0, SIZE), rng.randint(0, SIZE), rng.randint(8, 36)
        box = [x - r, y - r, x + r, y + r]
        if kind == "dots":
            draw.ellipse(box, fill=colour)
        else:
            draw.ellipse(box, outline=colour, width=6)


def _halo(draw: Draw, centre: tuple[int, int], colour: Colour) -> None:
    x, y = centre
    draw.ellipse([x - 230, y - 230, x + 230, y + 230], fill=colour)


# --- one illustration per category ------------------------------------------------------

def _device(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    w, h = rng.choice(((300, 200), (220, 300), (340, 170)))
    draw.rounded_rectangle([x - w // 2, y - h // 2, x + w // 2, y + h // 2], 28, fill=ink)
    draw.rounded_rectangle([x - w // 2 + 18, y - h // 2 + 18, x + w // 2 - 18,
                            y + h // 2 - 18], 14, fill=accent)
    draw.ellipse([x - 14, y + h // 2 - 14, x + 14, y + h // 2 + 14], fill=ink)


def _pan(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    angle = rng.choice((-1, 1))
    draw.rounded_rectangle([x + angle * 120 - 140, y - 18, x + angle * 120 + 140, y + 18],
                           16, fill=ink)
    draw.ellipse([x - 160 - angle * 60, y - 160, x + 160 - angle * 60, y + 160], fill=ink)
    draw.ellipse([x - 130 - angle * 60, y - 130, x + 130 - angle * 60, y + 130], fill=accent)


def _book(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 150, y - 200, x + 150, y + 200], 12, fill=accent)
    draw.rectangle([x - 150, y - 200, x - 115, y + 200], fill=ink)
    for line in range(rng.randint(2, 4)):
        top = y - 130 + line * 44
        draw.rounded_rectangle([x - 80, top, x + 110 - rng.randint(0, 80), top + 20], 10,
                               fill=ink)


def _mountains(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.ellipse([x + 60, y - 190, x + 160, y - 90], fill=accent)
    draw.polygon([(x - 220, y + 170), (x - 40, y - 140), (x + 140, y + 170)], fill=ink)
    draw.polygon([(x - 20, y + 170), (x + 110, y - 40), (x + 230, y + 170)], fill=accent)


def _blocks(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    colours = [accent, ink, _hls(rng.random(), 0.6, 0.8)]
    for row, count in enumerate((3, 2, 1)):
        for col in range(count):
            left = x - count * 60 + col * 120
            top = y + 90 - row * 115
            draw.rounded_rectangle([left + 4, top, left + 112, top + 108], 14,
                                   fill=colours[(row + col) % 3])


def _bottle(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    width = rng.choice((150, 180, 210))
    draw.rounded_rectangle([x - width // 2, y - 120, x + width // 2, y + 200], 40, fill=accent)
    draw.rounded_rectangle([x - 40, y - 200, x + 40, y - 110], 12, fill=ink)
    draw.rounded_rectangle([x - width // 2 + 25, y - 20, x + width // 2 - 25, y + 80], 10,
                           fill=_hls(0, 0.97, 0))


def _shirt(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.polygon([(x - 90, y - 190), (x - 220, y - 110), (x - 170, y - 20), (x - 120, y - 50),
                  (x - 120, y + 200), (x + 120, y + 200), (x + 120, y - 50), (x + 170, y - 20),
                  (x + 220, y - 110), (x + 90, y - 190)], fill=accent)
    draw.chord([x - 60, y - 230, x + 60, y - 130], 0, 180, fill=ink)


def _plant(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.polygon([(x - 110, y + 60), (x + 110, y + 60), (x + 80, y + 210), (x - 80, y + 210)],
                 fill=ink)
    draw.line([(x, y + 60), (x, y - 150)], fill=ink, width=14)
    for side, height in ((-1, -40), (1, -110), (-1, -170)):
        left = x if side > 0 else x - 150
        draw.ellipse([left, y + height - 45, left + 150, y + height + 45], fill=accent)


def _pencil(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 170, y - 190, x + 90, y + 190], 18, fill=_hls(0, 0.98, 0))
    for line in range(6):
        draw.line([(x - 140, y - 130 + line * 50), (x + 60, y - 130 + line * 50)], fill=ink,
                  width=6)
    draw.polygon([(x + 120, y - 190), (x + 170, y - 190), (x + 170, y + 130),
                  (x + 145, y + 200), (x + 120, y + 130)], fill=accent)


def _jar(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 140, y - 130, x + 140, y + 200], 50, fill=accent)
    draw.rounded_rectangle([x - 120, y - 190, x + 120, y - 120], 16, fill=ink)
    draw.ellipse([x - 80, y - 20, x + 80, y + 120], fill=_hls(0, 0.97, 0))


def _parcel(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rectangle([x - 170, y - 150, x + 170, y + 170], fill=accent)
    draw.rectangle([x - 20, y - 150, x + 20, y + 170], fill=ink)


def _cup(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.ellipse([x + 60, y - 60, x + 190, y + 90], outline=ink, width=26)
    draw.rounded_rectangle([x - 150, y - 110, x + 110, y + 170], 46, fill=accent)
    draw.rounded_rectangle([x - 190, y + 150, x + 150, y + 190], 20, fill=ink)
    for offset in (-80, -20, 40):  # steam
        draw.arc([x + offset - 20, y - 230, x + offset + 20, y - 130], 100, 260, fill=ink,
                 width=10)


def _bar(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 210, y - 110, x + 210, y + 110], 18, fill=ink)
    draw.rectangle([x - 90, y - 110, x + 90, y + 110], fill=accent)
    for row in (-1, 1):
        for col in (-3, -2, 2, 3):
            left, top = x + col * 55 - (25 if col > 0 else 30), y + row * 50 - 22
            draw.rounded_rectangle([left, top, left + 45, top + 44], 8,
                                   fill=_hls(0, 0.35 + 0.05 * abs(col), 0.1))


def _headphones(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.arc([x - 170, y - 200, x + 170, y + 140], 180, 360, fill=ink, width=30)
    for side in (-1, 1):
        left = x + side * 170 - 55
        draw.rounded_rectangle([left, y - 40, left + 110, y + 150], 40, fill=accent)
        draw.rounded_rectangle([left + 25, y - 10, left + 85, y + 120], 24, fill=ink)


def _keyboard(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 220, y - 100, x + 220, y + 100], 24, fill=ink)
    for row in range(3):
        for col in range(8):
            left, top = x - 196 + col * 50, y - 78 + row * 52
            draw.rounded_rectangle([left, top, left + 40, top + 40], 8, fill=accent)
    draw.rounded_rectangle([x - 120, y + 78 - 8, x + 120, y + 90], 6, fill=accent)


def _watch(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 60, y - 220, x + 60, y + 220], 30, fill=ink)
    draw.ellipse([x - 130, y - 130, x + 130, y + 130], fill=ink)
    draw.ellipse([x - 105, y - 105, x + 105, y + 105], fill=accent)
    draw.line([(x, y), (x, y - 70)], fill=ink, width=12)
    draw.line([(x, y), (x + 50, y + 20)], fill=ink, width=12)


def _speaker(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.rounded_rectangle([x - 130, y - 200, x + 130, y + 200], 40, fill=ink)
    for top, radius in ((y - 100, 55), (y + 70, 95)):
        draw.ellipse([x - radius, top - radius, x + radius, top + radius], fill=accent)
        draw.ellipse([x - 20, top - 20, x + 20, top + 20], fill=ink)


def _bag(draw: Draw, c, accent, ink, rng) -> None:
    x, y = c
    draw.polygon([(x - 150, y - 150), (x + 150, y - 150), (x + 180, y + 200),
                  (x - 180, y + 200)], fill=accent)
    draw.rectangle([x - 150, y - 190, x + 150, y - 150], fill=ink)
    draw.ellipse([x - 70, y - 20, x + 70, y + 120], fill=ink)
    draw.line([(x, y - 10), (x, y + 110)], fill=accent, width=10)


# A product's own picture where its kind has one (BY_KEYWORD); otherwise its category's.
ILLUSTRATIONS: dict[str, Callable[..., None]] = {
    "electronics": _device, "home-kitchen": _pan, "books": _book,
    "sports-outdoors": _mountains, "toys-games": _blocks, "beauty-personal-care": _bottle,
    "clothing": _shirt, "garden-tools": _plant, "office-supplies": _pencil,
    "grocery-gourmet": _jar,
}
BY_KEYWORD = (
    ("Headphones", _headphones), ("Keyboard", _keyboard), ("Smartwatch", _watch),
    ("Speaker", _speaker), ("Coffee", _bag), ("Granola", _bag), ("Pasta", _bag),
    ("Tea", _cup), ("Mug", _cup), ("French Press", _cup), ("Chocolate", _bar),
    ("Oil", _bottle), ("Shampoo", _bottle), ("Cleanser", _bottle), ("Sunscreen", _bottle),
    ("Water Bottle", _bottle), ("Storage Jars", _jar), ("Cream", _jar), ("Honey", _jar),
    ("Lip Balm", _jar), ("Notebook", _book), ("Planner", _book), ("Backpack", _bag),
    ("Puzzle", _blocks), ("Board Game", _blocks), ("Kettle", _cup),
)


def illustration(name: str, category_slug: str) -> Callable[..., None]:
    # Book titles ("The Quiet Harbor") never name a kind of goods; their category does.
    if category_slug != "books":
        for keyword, draw in BY_KEYWORD:
            if keyword in name:
                return draw
    return ILLUSTRATIONS.get(category_slug, _parcel)


# --- the label ----------------------------------------------------------------------------

@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # Pillow's bundled scalable font


def _label(draw: Draw, name: str, kicker: str, ink: Colour) -> None:
    lines = textwrap.wrap(name, 26)[:2]
    top = SIZE - 90 - 52 * len(lines) - (40 if kicker else 0)
    draw.rounded_rectangle([40, top, SIZE - 40, SIZE - 40], 28, fill=(255, 255, 255))
    y = top + 26
    if kicker:
        draw.text((72, y), kicker.upper(), font=_font(26), fill=ink)
        y += 40
    for line in lines:
        draw.text((72, y), line, font=_font(42), fill=(33, 33, 33))
        y += 52
