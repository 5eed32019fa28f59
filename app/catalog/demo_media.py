"""The demo catalog's pictures in the media store: named up front, drawn when first needed.

Drawing and encoding 250 pictures in every width takes about a minute of CPU, too long for
`flask seed-demo` and for every test that seeds. So the seed only names each product's set
(``demo_url``): the digest is that of the drawing's inputs (``DRAWING`` version, category,
name), which determine its bytes, so the names are as content-addressed as an upload's.

- Local disk: the first request for a missing member of a demo set (``fill_missing``, from
  ``app.media.serve``) draws the picture and stores the whole set through
  ``app.media.store_picture``, exactly as an upload is stored; later requests are plain
  files.
- S3: the CDN reads the bucket without asking the storefront, so ``store_all`` draws and
  uploads every set at seed time (``flask seed-demo`` says how long it took).
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app import image_sets
from app.catalog.demo_images import SIZE, demo_picture
from app.extensions import db
from app.images import DIGEST_CHARS
from app.media_storage import base_url
from app.models import Product

log = logging.getLogger(__name__)

DRAWING = "demo-drawing-v1"  # bump when demo_images draws differently


def demo_digest(name: str, category_slug: str) -> str:
    key = f"{DRAWING}\n{category_slug}\n{name}".encode()
    return hashlib.sha256(key).hexdigest()[:DIGEST_CHARS]


def demo_name(product_id: int, name: str, category_slug: str) -> str:
    """The primary name of the product's demo set (PNG: flat colours and crisp text)."""
    base = image_sets.base_name(product_id, demo_digest(name, category_slug), SIZE, SIZE)
    return f"{base}.png"


def demo_url(product_id: int, name: str, category_slug: str) -> str:
    return f"{base_url()}/{demo_name(product_id, name, category_slug)}"


def store(product: Product) -> str:
    """Draw the product's picture and store its set; returns the primary URL."""
    from app.media import store_picture  # app.media serves what this stores

    data = demo_picture(product.name, product.category.slug, product.category.name)
    return store_picture(product.id, data, field="image",
                         digest=demo_digest(product.name, product.category.slug))


def store_all(product_ids: list[int]) -> None:
    products = db.session.scalars(sa.select(Product).where(Product.id.in_(product_ids))
                                  .options(joinedload(Product.category)))
    for product in products:
        store(product)


def fill_missing(name: str) -> bool:
    """Draw and store the demo set ``name`` belongs to, when it is the set of a product
    that still shows its demo picture; False for anything else (then it is a 404)."""
    owner = image_sets.owner_of(name)
    product = db.session.get(Product, owner, options=[joinedload(Product.category)]) \
        if owner is not None else None
    if product is None:
        return False
    primary = demo_name(product.id, product.name, product.category.slug)
    if product.image_url != f"{base_url()}/{primary}" or \
            name not in image_sets.set_member_names(primary):
        return False
    log.info("drawing the demo picture of product %s", product.id)
    store(product)
    return True
