"""The embedded default (SQLite and the in-process Redis stand-in that `make run` uses
with nothing installed) runs the same cart and checkout code: the dialect's own upsert
and the Lua scripts."""

from __future__ import annotations

from flask_migrate import upgrade

from app import create_app
from app.auth.tokens import issue_access_token
from app.extensions import db
from app.models import User
from tests.app.factories import checkout_body, make_product, stock_of
from tests.conftest import TEST_CONFIG


def test_cart_and_checkout_work_on_the_embedded_default(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/shop.db",
                      "REDIS_URL": None})
    client = app.test_client()
    with app.app_context():
        upgrade()
        product = make_product(price="2.50", stock=5)
        user = User(email="embedded@example.com", password_hash="-", name="Em Bedded")
        db.session.add(user)
        db.session.commit()
        signed_in = {"Authorization": f"Bearer {issue_access_token(user.id, user.role)}"}

        guest = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                        "quantity": 2})
        token = {"X-Cart-Token": guest.headers["X-Cart-Token"]}
        again = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                        "quantity": 2}, headers=token)
        too_many = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                           "quantity": 2}, headers=token)
        for quantity in (1, 2):
            mine = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                           "quantity": quantity},
                               headers=signed_in)
        order = client.post("/api/v1/orders/checkout", json=checkout_body(),
                            headers={**signed_in, "Idempotency-Key": "embedded"})

        assert again.get_json()["items"][0]["quantity"] == 4
        assert too_many.status_code == 409
        assert mine.get_json()["items"][0]["quantity"] == 3
        assert order.status_code == 201 and order.get_json()["total_amount"] == "7.50"
        assert stock_of(product.id) == 2
        db.engine.dispose()
