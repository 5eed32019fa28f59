"""The in-process profile's requests: the same endpoints, bodies and shoppers as the wrk
scripts in bench/lua, sent through Flask's test client."""

from __future__ import annotations

import json
from pathlib import Path

from bench.app import BARE_ROUTE
from bench.dataset import Dataset
from bench.profile import Call


def _lines(dataset: Dataset, name: str) -> list[str]:
    return Path(dataset.file(name)).read_text().split()


def calls(dataset: Dataset, requests: int = 200) -> list[Call]:
    ids = _lines(dataset, "ids.txt")
    terms = _lines(dataset, "terms.txt")
    cart_tokens = _lines(dataset, "cart_tokens.txt")
    cart_ids = _lines(dataset, "cart_ids.txt")
    checkout_tokens = _lines(dataset, "profile_tokens.txt")
    body = json.loads(Path(dataset.file("checkout_body.json")).read_text())

    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    def add_to_cart(client, i):
        return client.post("/api/v1/cart/items", headers=bearer(cart_tokens[i % len(cart_tokens)]),
                           json={"product_id": int(cart_ids[i % len(cart_ids)]), "quantity": 1})

    def checkout(client, i):
        index = i % len(checkout_tokens)
        return client.post("/api/v1/orders/checkout", json=body,
                           headers={**bearer(checkout_tokens[index]),
                                    "Idempotency-Key": f"profile-{index}"})

    checkouts = min(requests, len(checkout_tokens) - 3)  # 3 warm-ups, each a fresh cart
    return [
        Call("app floor", lambda client, i: client.get(BARE_ROUTE), requests),
        Call("home page", lambda client, i: client.get("/"), requests),
        Call("product list", lambda client, i: client.get("/api/v1/products"), requests),
        Call("product detail",
             lambda client, i: client.get(f"/api/v1/products/{ids[i % len(ids)]}"), requests),
        Call("search",
             lambda client, i: client.get(f"/api/v1/search?q={terms[i % len(terms)]}"),
             requests),
        Call("add to cart", add_to_cart, requests, repeatable=False),
        Call("checkout", _fresh_index(checkout), checkouts, repeatable=False),
    ]


def _fresh_index(send):
    """Checkout consumes a cart: number its calls from 0, whatever index it is handed."""
    used = iter(range(10**9))
    return lambda client, _i: send(client, next(used))
