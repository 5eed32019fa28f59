"""``flask seed-demo [--if-empty]``: a deterministic demo catalog.

Products are made from fixed word lists (brand x qualifier x item, per category) picked
and priced by ``random.Random(SEED)``, so every load into an empty database yields the
same names, SKUs, prices and stock. Rows go in with two bulk INSERTs, not one per row,
and each product gets a picture of its own (``app.catalog.demo_media``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.catalog import demo_media
from app.catalog.cache import note_catalog_writes
from app.catalog.service import slugify
from app.extensions import db
from app.media_storage import uses_s3
from app.models import Category, Product

SEED = 42
PRODUCTS_PER_CATEGORY = 25
CLOSINGS = ("Ships within two business days.", "Free returns within 30 days.",
            "Backed by a two-year warranty.", "Thoughtfully packaged in recycled materials.")


@dataclass(frozen=True)
class CategorySpec:
    name: str
    code: str  # SKU prefix
    description: str
    brands: tuple[str, ...]
    items: tuple[tuple[str, tuple[str, ...]], ...]  # (item, qualifiers that suit it)
    features: tuple[str, ...]
    price_range: tuple[int, int]  # whole currency units
    name_template: str = "{brand} {qualifier} {item}"


CATALOG = (
    CategorySpec(
        "Electronics", "ELEC", "Headphones, speakers, chargers and everyday gadgets.",
        ("Voltix", "Auralis", "Nordtek", "Lumina"),
        (("Headphones", ("Wireless", "Noise-Cancelling", "Over-Ear")),
         ("Bluetooth Speaker", ("Portable", "Waterproof", "Compact")),
         ("Power Bank", ("20000mAh", "Slim", "Fast-Charging")),
         ("USB-C Charger", ("65W", "Dual-Port", "Travel")),
         ("Smartwatch", ("Fitness", "Classic", "Solar")),
         ("Webcam", ("1080p", "4K", "Wide-Angle")),
         ("Keyboard", ("Mechanical", "Wireless", "Low-Profile"))),
        ("Pairs in seconds and remembers up to eight devices.",
         "A full charge lasts well over a working day.",
         "Built from recycled aluminium with a matte finish.",
         "Firmware updates arrive over the air.",
         "Includes a braided USB-C cable."),
        (15, 320)),
    CategorySpec(
        "Home & Kitchen", "HOME", "Cookware, knives and tools for everyday cooking.",
        ("Hearthstone", "Casa Verde", "Kitchory"),
        (("Frying Pan", ("Nonstick", "Cast Iron", "Stainless Steel")),
         ("Dutch Oven", ("Enamelled", "Cast Iron")),
         ("Chef's Knife", ("Damascus", "Japanese Steel", "Forged")),
         ("Cutting Board", ("Bamboo", "Walnut", "End-Grain")),
         ("French Press", ("Glass", "Insulated")),
         ("Kettle", ("Electric", "Gooseneck", "Stovetop")),
         ("Storage Jars", ("Glass", "Airtight", "Ceramic"))),
        ("Tested in professional kitchens before it reached ours.",
         "Finished by hand and inspected piece by piece.",
         "Designed to last a lifetime of daily use.",
         "Balanced for comfortable, precise handling.",
         "Easy to clean with warm soapy water."),
        (9, 180)),
    CategorySpec(
        "Books", "BOOK", "Novels, essays and illustrated editions.",
        ("Mara Ellison", "Tomas Reyes", "Ingrid Halvorsen", "Jonah Mercer"),
        (("The Quiet Harbor", ("Paperback", "Hardcover")),
         ("A Map of Forgotten Rivers", ("Paperback", "Hardcover")),
         ("The Lighthouse Archive", ("Paperback", "Hardcover", "Illustrated Edition")),
         ("Northern Orchard", ("Paperback", "Hardcover")),
         ("The Last Winter Garden", ("Paperback", "Hardcover")),
         ("Salt and Silver", ("Paperback", "Illustrated Edition")),
         ("Letters from the Burning Coast", ("Paperback", "Hardcover"))),
        ("A gripping story told across three generations.",
         "Shortlisted for a national fiction prize.",
         "Printed on acid-free paper with a sewn binding.",
         "Includes a reading group guide.",
         "Translated into more than twenty languages."),
        (9, 45), "{item} by {brand} ({qualifier})"),
    CategorySpec(
        "Sports & Outdoors", "SPRT", "Gear for hiking, camping, running and training.",
        ("Trailpeak", "Riverline", "Summitcraft"),
        (("Hiking Backpack", ("30L", "45L", "Ultralight")),
         ("Tent", ("2-Person", "4-Person", "Ultralight")),
         ("Sleeping Bag", ("Down", "3-Season", "Compact")),
         ("Water Bottle", ("Insulated", "Collapsible")),
         ("Yoga Mat", ("Non-Slip", "Cork", "Travel")),
         ("Trekking Poles", ("Carbon", "Foldable")),
         ("Headlamp", ("Rechargeable", "400-Lumen"))),
        ("Packs down small and weighs next to nothing.",
         "Tested in wind, rain and snow.",
         "Reinforced seams where wear is highest.",
         "Adjustable to fit every body shape.",
         "Made with bluesign-approved materials."),
        (12, 350)),
    CategorySpec(
        "Toys & Games", "TOYS", "Puzzles, board games and building sets for all ages.",
        ("Brightblock", "Puzzlewood", "Tinker Town"),
        (("Building Blocks", ("Wooden", "Magnetic", "Classic")),
         ("Jigsaw Puzzle", ("1000-Piece", "500-Piece", "Panorama")),
         ("Board Game", ("Strategy", "Family", "Cooperative")),
         ("Train Set", ("Wooden", "Battery-Powered")),
         ("Science Kit", ("Chemistry", "Robotics", "Crystal-Growing")),
         ("Marble Run", ("Deluxe", "Starter")),
         ("Kite", ("Stunt", "Rainbow"))),
        ("Encourages creativity and problem solving.",
         "Safety-tested and free of BPA and phthalates.",
         "Clear illustrated instructions included.",
         "Loved by children and grown-ups alike.",
         "Stores neatly in its sturdy box."),
        (7, 120)),
    CategorySpec(
        "Beauty & Personal Care", "BEAU", "Skincare, hair care and everyday essentials.",
        ("Solenne", "Pure Bloom", "Verdana"),
        (("Face Cream", ("Hydrating", "Night", "Fragrance-Free")),
         ("Cleanser", ("Gentle", "Foaming", "Oil")),
         ("Serum", ("Vitamin C", "Hyaluronic", "Retinol")),
         ("Shampoo", ("Volumising", "Repairing", "Sulfate-Free")),
         ("Sunscreen SPF 50", ("Mineral", "Sport")),
         ("Lip Balm", ("Tinted", "Nourishing")),
         ("Hand Cream", ("Shea Butter", "Lavender"))),
        ("Dermatologist tested and suitable for sensitive skin.",
         "Vegan and never tested on animals.",
         "Absorbs quickly without a greasy feel.",
         "Comes in a recyclable aluminium tube.",
         "Free of parabens and synthetic dyes."),
        (5, 60)),
    CategorySpec(
        "Clothing", "CLTH", "Everyday clothing in lasting fabrics.",
        ("Northbound", "Linen & Loom", "Urban Thread"),
        (("T-Shirt", ("Organic Cotton", "Slim-Fit", "Heavyweight")),
         ("Hoodie", ("Fleece", "Zip-Up", "Relaxed")),
         ("Chinos", ("Stretch", "Slim-Fit", "Relaxed")),
         ("Rain Jacket", ("Waterproof", "Packable")),
         ("Sweater", ("Merino Wool", "Cable-Knit", "Cashmere")),
         ("Socks", ("Merino Wool", "Bamboo")),
         ("Beanie", ("Ribbed", "Merino Wool"))),
        ("Pre-washed so it keeps its shape and size.",
         "Sewn in a fair-trade certified factory.",
         "Soft from the very first wear.",
         "Available in five understated colours.",
         "Machine washable at 30 degrees."),
        (12, 220)),
    CategorySpec(
        "Garden & Tools", "GRDN", "Tools for the garden, the shed and the workshop.",
        ("Greenhand", "Rootworks", "Fieldcraft"),
        (("Pruning Shears", ("Bypass", "Ergonomic", "Heavy-Duty")),
         ("Garden Hose", ("Expandable", "Reinforced")),
         ("Trowel Set", ("Stainless Steel", "Ergonomic")),
         ("Watering Can", ("Galvanized", "Indoor")),
         ("Drill Driver", ("Cordless", "18V", "Brushless")),
         ("Raised Garden Bed", ("Cedar", "Galvanized")),
         ("Hedge Trimmer", ("Cordless", "Telescopic"))),
        ("Rust-resistant and built for years outdoors.",
         "Comfort grip reduces hand fatigue.",
         "Every part is replaceable.",
         "Covered by a five-year guarantee.",
         "Hangs neatly on any shed wall."),
        (8, 300)),
    CategorySpec(
        "Office Supplies", "OFFC", "Notebooks, pens and a tidier desk.",
        ("Paperline", "Deskwise", "Inkwell"),
        (("Notebook", ("Dotted", "Ruled", "Recycled")),
         ("Fountain Pen", ("Refillable", "Brass", "Fine-Nib")),
         ("Desk Organizer", ("Bamboo", "Modular")),
         ("Monitor Stand", ("Adjustable", "Oak")),
         ("Gel Pens 12-Pack", ("Quick-Dry", "Pastel")),
         ("Planner", ("Weekly", "Undated")),
         ("Desk Lamp", ("LED", "Dimmable", "Architect"))),
        ("Fountain-pen friendly 100 gsm paper.",
         "Made from FSC-certified materials.",
         "Keeps everyday essentials within reach.",
         "Minimal design that suits any workspace.",
         "Refills are sold separately."),
        (3, 150)),
    CategorySpec(
        "Grocery & Gourmet", "GROC", "Pantry staples and small-batch treats.",
        ("Olive & Oak", "Mountain Roast", "Harvest Table"),
        (("Coffee Beans 1kg", ("Single-Origin", "Espresso", "Decaf")),
         ("Olive Oil 500ml", ("Extra Virgin", "Cold-Pressed")),
         ("Honey 350g", ("Wildflower", "Raw", "Manuka")),
         ("Dark Chocolate Bar", ("70%", "Sea Salt", "Orange")),
         ("Green Tea 50 Bags", ("Organic", "Jasmine")),
         ("Pasta 500g", ("Bronze-Cut", "Whole Wheat")),
         ("Granola", ("Maple Pecan", "Low-Sugar"))),
        ("Sourced directly from small family producers.",
         "Certified organic and fairly traded.",
         "Packed in a resealable, compostable bag.",
         "No artificial flavours or preservatives.",
         "Best enjoyed within six months of opening."),
        (3, 45)),
)


def demo_products(rng: random.Random) -> list[dict]:
    """Product rows (without category ids) for the whole demo catalog, in a fixed order."""
    rows = []
    for spec in CATALOG:
        combos = [(brand, qualifier, item) for item, qualifiers in spec.items
                  for qualifier in qualifiers for brand in spec.brands]
        for index, (brand, qualifier, item) in enumerate(
                rng.sample(combos, PRODUCTS_PER_CATEGORY), start=1):
            name = spec.name_template.format(brand=brand, qualifier=qualifier, item=item)
            rows.append({"name": name, "sku": f"{spec.code}-{index:04d}",
                         "category_slug": slugify(spec.name),
                         "description": _description(rng, spec, name),
                         "price": _price(rng, spec.price_range), "stock": _stock(rng)})
    return rows


def _description(rng: random.Random, spec: CategorySpec, name: str) -> str:
    features = " ".join(rng.sample(spec.features, 2))
    return f"{name}. {features} {rng.choice(CLOSINGS)}"


def _price(rng: random.Random, price_range: tuple[int, int]) -> Decimal:
    whole = rng.randint(*price_range)
    cents = rng.choice((99, 99, 95, 49, 0))
    return Decimal(f"{whole}.{cents:02d}")


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.06:
        return 0  # sold out
    if roll < 0.18:
        return rng.randint(1, 4)  # low stock
    return rng.randint(5, 250)


@dataclass(frozen=True)
class SeedResult:
    categories: int
    products: int


def catalog_has_products() -> bool:
    return db.session.scalar(sa.select(Product.id).limit(1)) is not None


def load_demo_catalog() -> SeedResult:
    """Insert the demo catalog; categories that already exist (by slug) are reused."""
    category_ids = _ensure_categories()
    rows = []
    for row in demo_products(random.Random(SEED)):
        slug = row.pop("category_slug")
        rows.append({**row, "category_id": category_ids[slug]})
    db.session.execute(sa.insert(Product), rows)
    product_ids = _name_demo_pictures(category_ids)
    note_catalog_writes()  # bulk inserts pass the session's flush, where the cache looks
    db.session.commit()
    if uses_s3():  # the CDN reads the bucket directly: nothing can be drawn on demand
        demo_media.store_all(product_ids)
    return SeedResult(categories=len(category_ids), products=len(rows))


def _name_demo_pictures(category_ids: dict[str, int]) -> list[int]:
    """Point every demo product at its picture's set (app.catalog.demo_media), in one
    bulk UPDATE; returns their ids."""
    slugs = {category_id: slug for slug, category_id in category_ids.items()}
    products = db.session.execute(sa.select(Product.id, Product.name, Product.category_id)
                                  .where(Product.category_id.in_(slugs),
                                         Product.image_url.is_(None)))
    changes: list[dict[str, Any]] = [{"id": product_id, "image_url": demo_media.demo_url(
        product_id, name, slugs[category_id])} for product_id, name, category_id in products]
    if changes:
        db.session.execute(sa.update(Product), changes)
    return [change["id"] for change in changes]


def _ensure_categories() -> dict[str, int]:
    wanted = {slugify(spec.name): spec for spec in CATALOG}
    existing = set(db.session.scalars(sa.select(Category.slug).where(Category.slug.in_(wanted))))
    missing = [{"name": spec.name, "slug": slug, "description": spec.description}
               for slug, spec in wanted.items() if slug not in existing]
    if missing:
        db.session.execute(sa.insert(Category), missing)
    rows = db.session.execute(sa.select(Category.slug, Category.id)
                              .where(Category.slug.in_(wanted)))
    return {slug: category_id for slug, category_id in rows}


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing when the catalog already has products (for `make run`).")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the deterministic demo catalog (10 categories, 250 products)."""
    if catalog_has_products():
        if if_empty:
            click.echo("The catalog already has products; nothing to do.")
            return
        raise click.ClickException(
            "the catalog already has products; pass --if-empty to skip loading")
    result = load_demo_catalog()
    click.echo(f"Loaded {result.categories} categories and {result.products} products.")
