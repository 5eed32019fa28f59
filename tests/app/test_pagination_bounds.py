"""Page numbers are bounded: a huge one is a 422 naming ``page`` in the API and the last
allowed page on the server-rendered lists, never a 500 from an OFFSET past bigint."""

from __future__ import annotations

import pytest

from app.pagination import MAX_PAGE, page_number
from tests.app.pages_support import sign_in

HUGE = str(10**20)


@pytest.mark.parametrize("page", [str(MAX_PAGE + 1), HUGE])
def test_the_api_refuses_a_page_past_the_bound(client, customer, auth_headers, page):
    response = client.get(f"/api/v1/orders/mine?page={page}", headers=auth_headers(customer))

    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["page"]


def test_the_api_serves_the_last_allowed_page(client, customer, auth_headers):
    response = client.get(f"/api/v1/orders/mine?page={MAX_PAGE}",
                          headers=auth_headers(customer))

    assert response.status_code == 200
    assert response.get_json()["meta"]["page"] == MAX_PAGE


@pytest.mark.parametrize(("given", "page"), [
    ({}, 1), ({"page": "3"}, 3), ({"page": "-4"}, 1), ({"page": "two"}, 1),
    ({"page": HUGE}, MAX_PAGE),
])
def test_page_views_clamp_the_page_argument(given, page):
    assert page_number(given) == page


@pytest.mark.parametrize("url", ["/account/orders", "/admin/orders", "/admin/products"])
def test_page_views_render_a_huge_page_number(client, admin, url):
    sign_in(client, admin.email)

    response = client.get(f"{url}?page={HUGE}")

    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
