"""With DATABASE_REPLICA_URL set, the catalog's reads come from the replica while every write,
the cart and checkout stay on the primary. The "replica" here is a second database,
migrated like the first and holding different rows, so each answer shows where it came
from."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app
from app.db_routing import REPLICA_BIND
from app.extensions import db
from app.models import Category, Order, Product
from tests.app.factories import checkout_body, make_category, make_product
from tests.app.pages_support import sign_in
from tests.conftest import DATABASE_URL, TEST_CONFIG, reset_schema


def _create_database(url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(make_url(url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                       {"n": name})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def replica_url(migrated_database) -> str:
    """A second database beside the test database, built by the same migrations."""
    from flask_migrate import upgrade

    url = make_url(DATABASE_URL)
    replica = url.set(database=f"{url.database}_replica").render_as_string(hide_password=False)
    _create_database(replica)
    reset_schema(replica)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": replica})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return replica


@pytest.fixture
def replica_rows(replica_url):
    """What the replica holds: rows the primary does not have."""
    engine = sa.create_engine(replica_url)
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE products, categories RESTART IDENTITY CASCADE"))
        category_id = connection.execute(sa.insert(Category).values(
            name="Replica Shelf", slug="replica-shelf").returning(Category.id)).scalar_one()
        connection.execute(sa.insert(Product).values(
            name="Replica Kettle", price=Decimal("9.99"), stock=3, sku="REPLICA-1",
            category_id=category_id, description="served by the replica"))
    yield engine
    engine.dispose()


@pytest.fixture
def shop(app, make_app, replica_url, replica_rows):
    return make_app(DATABASE_REPLICA_URL=replica_url).test_client()


def _names(response) -> list[str]:
    assert response.status_code == 200
    return [item["name"] for item in response.json["items"]]


def test_the_replica_is_a_bind_with_the_primarys_safeguards(make_app, replica_url):
    app = make_app(DATABASE_REPLICA_URL=replica_url)
    with app.app_context():
        replica = db.engines[REPLICA_BIND]
        assert replica.url.database == make_url(replica_url).database
        assert db.engine.url.database == make_url(DATABASE_URL).database
        assert replica.pool._pre_ping is True
        with replica.connect() as connection:
            assert connection.scalar(sa.text("SHOW statement_timeout")) == "5s"


def test_catalog_reads_come_from_the_replica(shop):
    make_product(make_category("Primary Shelf"), name="Primary Kettle")

    assert _names(shop.get("/api/v1/products")) == ["Replica Kettle"]
    assert _names(shop.get("/api/v1/search?q=kettle")) == ["Replica Kettle"]
    assert _names(shop.get("/api/v1/categories")) == ["Replica Shelf"]
    assert shop.get("/api/v1/products/1").json["sku"] == "REPLICA-1"
    assert shop.get("/api/v1/products/sku/replica-1").json["name"] == "Replica Kettle"
    assert shop.get("/api/v1/categories/slug/replica-shelf").status_code == 200


def test_writes_go_to_the_primary_and_never_to_the_replica(shop, admin, auth_headers,
                                                           replica_rows):
    category = make_category("Primary Shelf")
    created = shop.post("/api/v1/products", headers=auth_headers(admin), json={
        "name": "Primary Teapot", "price": "15.00", "sku": "PRIMARY-1", "stock": 4,
        "category_id": category.id})
    assert created.status_code == 201
    # The admin's edit reads the row it changes from the primary (the replica has another
    # product under this id).
    patched = shop.patch(f"/api/v1/products/{created.json['id']}",
                         headers=auth_headers(admin), json={"price": "16.50"})
    assert (patched.status_code, patched.json["name"]) == (200, "Primary Teapot")

    db.session.expire_all()
    assert db.session.scalar(sa.select(Product.price).where(Product.sku == "PRIMARY-1")) \
        == Decimal("16.50")
    with replica_rows.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Product).where(
            Product.sku == "PRIMARY-1")) == 0


def test_cart_and_checkout_use_the_primary(shop, customer, auth_headers, replica_rows):
    product = make_product(name="Primary Mug", price="8.00", stock=6)  # id 1, as on the replica
    signed_in = auth_headers(customer)
    cart = shop.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 2},
                     headers=signed_in)
    assert cart.json["items"][0]["name"] == "Primary Mug"

    order = shop.post("/api/v1/orders/checkout", json=checkout_body(),
                      headers={**signed_in, "Idempotency-Key": "replica-1"})

    assert (order.status_code, order.json["total_amount"]) == (201, "16.00")
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    with replica_rows.connect() as connection:
        untouched = connection.execute(sa.select(Product.name, Product.stock)).all()
        assert untouched == [("Replica Kettle", 3)]


def test_without_a_replica_the_catalog_reads_the_primary(client):
    make_product(name="Primary Kettle")
    assert _names(client.get("/api/v1/products")) == ["Primary Kettle"]


def test_catalog_pages_read_the_replica_and_the_shopper_from_the_primary(
        shop, customer, replica_rows):
    make_product(make_category("Primary Shelf"), name="Primary Kettle", stock=5)
    pages = {page: shop.get(page).get_data(as_text=True)
             for page in ("/", "/products", "/products/1")}
    for page, html in pages.items():
        assert "Replica Kettle" in html, page
        assert "Primary Kettle" not in html, page

    # The customer exists only on the primary: a page read from the replica still knows them.
    sign_in(shop, customer.email)
    html = shop.get("/products").get_data(as_text=True)
    assert "Replica Kettle" in html
    assert 'href="/account"' in html


def test_a_signed_in_catalog_read_finds_the_shopper_on_the_primary(
        shop, customer, auth_headers, replica_url):
    # The shopper exists only on the primary: looking them up on the replica would be a 401.
    engine = sa.create_engine(replica_url)
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM users")) == 0
    engine.dispose()

    # include_inactive makes the view ask who the caller is: a known customer is a 403
    # (not an admin); a lookup on the replica would not find them and answer 401.
    response = shop.get("/api/v1/products?include_inactive=true",
                        headers=auth_headers(customer))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
