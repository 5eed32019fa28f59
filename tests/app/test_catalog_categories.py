"""Categories: public reads, admin writes, and every validation path."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Category
from tests.app.catalog_factories import make_category

URL = "/api/v1/categories"


def _names(response) -> list[str]:
    return [item["name"] for item in response.json["items"]]


def _fields(response) -> dict:
    return response.json["error"]["details"]["fields"]


def _category_count() -> int:
    return db.session.query(Category).count()


# --- reads -----------------------------------------------------------------------------

def test_public_list_shows_active_categories_by_name(client):
    make_category("Toys")
    make_category("Books")
    make_category("Attic", is_active=False)
    response = client.get(URL)
    assert response.status_code == 200
    assert _names(response) == ["Books", "Toys"]
    assert set(response.json["items"][0]) >= {"id", "name", "slug", "description", "is_active"}


def test_admin_may_include_inactive_categories(client, admin, auth_headers):
    make_category("Toys")
    make_category("Attic", is_active=False)
    response = client.get(URL, query_string={"include_inactive": "true"},
                          headers=auth_headers(admin))
    assert _names(response) == ["Attic", "Toys"]


def test_include_inactive_is_refused_to_customers_and_guests(client, customer, auth_headers):
    make_category("Attic", is_active=False)
    as_customer = client.get(URL, query_string={"include_inactive": "true"},
                             headers=auth_headers(customer))
    assert as_customer.status_code == 403
    assert client.get(URL, query_string={"include_inactive": "true"}).status_code == 401


def test_list_rejects_a_non_boolean_include_inactive(client):
    response = client.get(URL, query_string={"include_inactive": "maybe"})
    assert response.status_code == 422
    assert "include_inactive" in _fields(response)


def test_detail_by_id_and_by_slug(client):
    category = make_category("Garden Tools")
    by_id = client.get(f"{URL}/{category.id}")
    by_slug = client.get(f"{URL}/slug/garden-tools")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json["id"] == by_slug.json["id"] == category.id
    assert by_slug.json["slug"] == "garden-tools"


def test_inactive_category_is_404_to_shoppers_but_visible_to_admins(client, admin, customer,
                                                                    auth_headers):
    category = make_category("Attic", is_active=False)
    assert client.get(f"{URL}/{category.id}").status_code == 404
    assert client.get(f"{URL}/slug/attic", headers=auth_headers(customer)).status_code == 404
    as_admin = client.get(f"{URL}/{category.id}", headers=auth_headers(admin))
    assert as_admin.status_code == 200
    assert as_admin.json["is_active"] is False


def test_unknown_category_is_404_in_the_error_shape(client):
    for url in (f"{URL}/999", f"{URL}/slug/nothing-here"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


# --- create ----------------------------------------------------------------------------

def test_admin_creates_a_category_with_a_derived_slug(client, admin, auth_headers):
    response = client.post(URL, json={"name": "  Home & Kitchen ", "description": "Pans"},
                           headers=auth_headers(admin))
    assert response.status_code == 201
    row = db.session.get(Category, response.json["id"])
    assert (row.name, row.slug, row.description, row.is_active) == (
        "Home & Kitchen", "home-kitchen", "Pans", True)


def test_a_name_that_slugifies_like_another_gets_a_numbered_slug(client, admin, auth_headers):
    client.post(URL, json={"name": "Home & Kitchen"}, headers=auth_headers(admin))
    response = client.post(URL, json={"name": "Home Kitchen"}, headers=auth_headers(admin))
    assert response.status_code == 201
    assert response.json["slug"] == "home-kitchen-2"


def test_accents_are_folded_in_slugs(client, admin, auth_headers):
    response = client.post(URL, json={"name": "Café Crème"}, headers=auth_headers(admin))
    assert response.json["slug"] == "cafe-creme"


def test_duplicate_name_is_a_conflict_whatever_its_case(client, admin, auth_headers):
    make_category("Books")
    response = client.post(URL, json={"name": "BOOKS"}, headers=auth_headers(admin))
    assert response.status_code == 409
    assert "name" in _fields(response)
    assert _category_count() == 1


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"name": "!!!"}, "name"),
    ({"name": 42}, "name"),
    ({"name": "Books", "image_url": "ftp://example.com/a.png"}, "image_url"),
    ({"name": "Books", "image_url": "not a url"}, "image_url"),
    ({"name": "Books", "description": "x" * 5001}, "description"),
    ({"name": "Books", "colour": "red"}, "colour"),
])
def test_create_validation_names_the_field(client, admin, auth_headers, body, field):
    response = client.post(URL, json=body, headers=auth_headers(admin))
    assert response.status_code == 422
    assert field in _fields(response)
    assert _category_count() == 0


def test_create_requires_a_json_body(client, admin, auth_headers):
    response = client.post(URL, data="name=Books", headers=auth_headers(admin),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert _category_count() == 0


def test_create_is_for_admins_only(client, customer, auth_headers):
    assert client.post(URL, json={"name": "Books"}, headers=auth_headers(customer)
                       ).status_code == 403
    # A guest learns it must sign in before learning what is wrong with the body.
    assert client.post(URL, json={"name": ""}).status_code == 401
    assert _category_count() == 0


# --- update and deactivate -------------------------------------------------------------

def test_rename_keeps_the_slug_and_slug_can_be_set(client, admin, auth_headers):
    category = make_category("Books")
    renamed = client.patch(f"{URL}/{category.id}", json={"name": "Books & Comics"},
                           headers=auth_headers(admin))
    assert renamed.status_code == 200
    assert (renamed.json["name"], renamed.json["slug"]) == ("Books & Comics", "books")
    reslugged = client.patch(f"{URL}/{category.id}", json={"slug": "books-comics"},
                             headers=auth_headers(admin))
    assert reslugged.json["slug"] == "books-comics"
    db.session.expire_all()
    assert db.session.get(Category, category.id).slug == "books-comics"


def test_update_conflicts_on_a_taken_name_or_slug(client, admin, auth_headers):
    make_category("Books")
    toys = make_category("Toys")
    name_clash = client.patch(f"{URL}/{toys.id}", json={"name": "books"},
                              headers=auth_headers(admin))
    slug_clash = client.patch(f"{URL}/{toys.id}", json={"slug": "books"},
                              headers=auth_headers(admin))
    assert name_clash.status_code == slug_clash.status_code == 409
    assert "name" in _fields(name_clash)
    assert "slug" in _fields(slug_clash)
    db.session.expire_all()
    assert (db.session.get(Category, toys.id).name, toys.slug) == ("Toys", "toys")


@pytest.mark.parametrize("body, field", [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "trailing-"}, "slug"),
    ({"is_active": "sometimes"}, "is_active"),
    ({"image_url": "javascript:alert(1)"}, "image_url"),
    ({"id": 5}, "id"),
])
def test_update_validation_names_the_field(client, admin, auth_headers, body, field):
    category = make_category("Books")
    response = client.patch(f"{URL}/{category.id}", json=body, headers=auth_headers(admin))
    assert response.status_code == 422
    assert field in _fields(response)
    db.session.expire_all()
    assert db.session.get(Category, category.id).slug == "books"


def test_update_of_unknown_category_is_404(client, admin, auth_headers):
    response = client.patch(f"{URL}/999", json={"name": "X"}, headers=auth_headers(admin))
    assert response.status_code == 404


def test_delete_deactivates_and_patch_reactivates(client, admin, auth_headers):
    category = make_category("Books")
    deleted = client.delete(f"{URL}/{category.id}", headers=auth_headers(admin))
    assert deleted.status_code == 200
    assert deleted.json["is_active"] is False
    db.session.expire_all()
    assert db.session.get(Category, category.id).is_active is False  # kept, not deleted
    assert _names(client.get(URL)) == []
    assert client.get(f"{URL}/{category.id}").status_code == 404

    client.patch(f"{URL}/{category.id}", json={"is_active": True}, headers=auth_headers(admin))
    assert _names(client.get(URL)) == ["Books"]


def test_delete_of_unknown_category_is_404(client, admin, auth_headers):
    assert client.delete(f"{URL}/999", headers=auth_headers(admin)).status_code == 404


def test_writes_are_for_admins_only(client, customer, auth_headers):
    category = make_category("Books")
    for headers, status in ((auth_headers(customer), 403), ({}, 401)):
        assert client.patch(f"{URL}/{category.id}", json={"name": "X"},
                            headers=headers).status_code == status
        assert client.delete(f"{URL}/{category.id}", headers=headers).status_code == status
    db.session.expire_all()
    row = db.session.get(Category, category.id)
    assert (row.name, row.is_active) == ("Books", True)
