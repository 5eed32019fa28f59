"""Rendering a picture into its set (app/images.py) and naming it (app/image_sets.py):
pure functions of bytes, no app."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app import image_sets
from app.images import MAX_WIDTH, ImageRejected, render_set
from tests.app.image_support import dimensions, jpeg, picture, png, png_bomb, webp


def test_a_large_photo_gets_every_standard_width_in_webp_and_its_own_format():
    rendered = render_set(jpeg(2000, 1500))
    assert (rendered.width, rendered.height, rendered.fallback_type) == (1600, 1200,
                                                                         "image/jpeg")
    got = sorted((r.width, r.height, r.content_type) for r in rendered.renditions)
    assert got == sorted((w, w * 3 // 4, t) for w in (320, 640, 960, 1280, MAX_WIDTH)
                         for t in ("image/webp", "image/jpeg"))
    for rendition in rendered.renditions:  # what each says it is, it is
        fmt, size = dimensions(rendition.data)
        assert {"WEBP": "image/webp", "JPEG": "image/jpeg"}[fmt] == rendition.content_type
        assert size == (rendition.width, rendition.height)


def test_a_small_picture_is_never_scaled_up():
    rendered = render_set(png(500, 250))
    assert sorted({r.width for r in rendered.renditions}) == [320, 500]
    assert rendered.fallback_type == "image/png"


def test_webp_is_smaller_than_the_fallback_for_a_photo_like_picture():
    noisy = Image.effect_noise((800, 600), 64).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    rendered = render_set(out.getvalue())
    by_type = {r.content_type: len(r.data) for r in rendered.renditions if r.width == 800}
    assert by_type["image/webp"] < by_type["image/jpeg"]


@pytest.mark.parametrize(("mode", "fallback"), [("RGB", "image/jpeg"), ("RGBA", "image/png")])
def test_a_webp_upload_falls_back_to_jpeg_or_to_png_when_transparent(mode, fallback):
    colour = (10, 20, 30, 128) if mode == "RGBA" else (10, 20, 30)
    rendered = render_set(webp(400, 400, mode=mode, colour=colour))
    assert rendered.fallback_type == fallback
    kept = next(r for r in rendered.renditions if r.content_type == "image/png") \
        if mode == "RGBA" else None
    if kept is not None:
        with Image.open(io.BytesIO(kept.data)) as image:
            assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 128


def test_exif_is_stripped_and_the_orientation_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "Phone maker"
    rendered = render_set(picture(400, 200, "JPEG", exif=exif.tobytes()))
    assert (rendered.width, rendered.height) == (200, 400)
    for rendition in rendered.renditions:
        with Image.open(io.BytesIO(rendition.data)) as image:
            assert not image.getexif()


def test_the_same_bytes_make_the_same_set_and_other_bytes_another():
    assert render_set(png(100, 100)).digest == render_set(png(100, 100)).digest
    assert render_set(png(100, 100)).digest != render_set(png(100, 101)).digest


@pytest.mark.parametrize(("data", "message"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "must be a JPEG, PNG or WebP image"),
    (picture(10, 10, "GIF"), "must be a JPEG, PNG or WebP image"),
    (picture(10, 10, "BMP"), "must be a JPEG, PNG or WebP image"),
    (png(300, 300)[:80], "damaged or truncated"),
    (png_bomb(), "too large to decode safely"),
    (png_bomb(7000, 7000), "too large to decode safely"),  # past ours, below Pillow's
])
def test_what_is_not_a_safe_picture_is_refused(data, message):
    with pytest.raises(ImageRejected, match=message):
        render_set(data)


def test_pillows_own_bomb_error_is_a_refusal_too(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # twice this raises in Image.open
    with pytest.raises(ImageRejected, match="too large"):
        render_set(png(100, 100))


# --- names -----------------------------------------------------------------------------

def test_the_primary_url_leads_back_to_every_rendition():
    rendered = render_set(png(1000, 500))
    named = image_sets.names_of(7, rendered)
    primary = named[0][0]
    assert primary == f"products/7/{rendered.digest}-1000x500.png"
    found = image_sets.image_set(f"https://cdn.test/media/{primary}", "https://cdn.test/media")
    assert (found.width, found.height, found.fallback_type) == (1000, 500, "image/png")
    assert sorted(v.url for v in found.variants) == sorted(
        f"https://cdn.test/media/{name}" for name, _ in named)
    assert {(v.width, v.height) for v in found.variants} == {
        (r.width, r.height) for _, r in named}
    assert found.srcset("image/webp") == ", ".join(
        f"https://cdn.test/media/products/7/{rendered.digest}-1000x500{suffix}.webp {w}w"
        for suffix, w in (("-320w", 320), ("-640w", 640), ("-960w", 960), ("", 1000)))
    assert found.src(400).width == 640 and found.src(5000).width == 1000


@pytest.mark.parametrize("url", [
    None, "", "https://elsewhere.test/products/7/0123456789abcdef-10x10.png",
    "https://cdn.test/media/products/7/AbCdEfGhIjKlMnOp.png",  # an older random name
    "https://cdn.test/media/products/7/0123456789abcdef-10x10-320w.png",  # not the primary
])
def test_other_urls_have_no_set(url):
    assert image_sets.image_set(url, "https://cdn.test/media") is None


def test_deleting_a_set_names_all_its_members_and_a_legacy_name_alone():
    rendered = render_set(png(700, 700))
    named = image_sets.names_of(3, rendered)
    assert sorted(image_sets.set_member_names(named[0][0])) == sorted(n for n, _ in named)
    assert image_sets.set_member_names("products/3/AbCdEfGhIjKlMnOp.png") == [
        "products/3/AbCdEfGhIjKlMnOp.png"]
