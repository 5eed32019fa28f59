"""Administrators list, deactivate and reactivate accounts; nobody else may."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RefreshToken


def emails(response) -> list[str]:
    return [user["email"] for user in response.json["items"]]


@pytest.fixture
def shoppers(make_user):
    return [make_user(email=f"{name}@{domain}") for name, domain in [
        ("alice", "example.com"), ("bob", "example.org"), ("carol", "example.com"),
        ("dan_x", "example.net"), ("danx", "example.net")]]


def test_admin_lists_users_page_by_page(client, admin, shoppers, auth_headers):
    first = client.get("/api/v1/users?per_page=4", headers=auth_headers(admin))
    second = client.get("/api/v1/users?per_page=4&page=2", headers=auth_headers(admin))

    assert first.status_code == 200
    assert emails(first) == ["admin@example.com", "alice@example.com", "bob@example.org",
                             "carol@example.com"]
    assert emails(second) == ["dan_x@example.net", "danx@example.net"]
    assert first.json["meta"] == {"page": 1, "per_page": 4, "total": 6, "pages": 2}
    assert "password_hash" not in first.json["items"][0]


def test_admin_filters_by_email_substring(client, admin, shoppers, auth_headers):
    by_domain = client.get("/api/v1/users?email=EXAMPLE.COM", headers=auth_headers(admin))
    # "_" is a LIKE wildcard; the filter takes it literally.
    literal = client.get("/api/v1/users?email=dan_", headers=auth_headers(admin))

    assert emails(by_domain) == ["admin@example.com", "alice@example.com", "carol@example.com"]
    assert by_domain.json["meta"]["total"] == 3
    assert emails(literal) == ["dan_x@example.net"]


@pytest.mark.parametrize(("query", "bad_field"), [
    ("page=0", "page"), ("page=abc", "page"), ("per_page=0", "per_page"),
    ("per_page=101", "per_page"), ("email=", "email")])
def test_user_list_names_the_bad_query_argument(client, admin, auth_headers, query,
                                                bad_field):
    response = client.get(f"/api/v1/users?{query}", headers=auth_headers(admin))
    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == [bad_field]


def test_deactivation_locks_the_account_out_everywhere(client, admin, customer, login,
                                                       auth_headers):
    session = login(customer.email).json

    response = client.post(f"/api/v1/users/{customer.id}/deactivate",
                           headers=auth_headers(admin))

    assert response.status_code == 200
    assert response.json["is_active"] is False
    db.session.refresh(customer)
    assert customer.is_active is False
    assert db.session.scalar(sa.select(RefreshToken.revoked_at).where(
        RefreshToken.user_id == customer.id)) is not None
    assert client.get("/api/v1/users/me", headers={
        "Authorization": f"Bearer {session['access_token']}"}).status_code == 401
    assert client.post("/api/v1/auth/refresh",
                       json={"refresh_token": session["refresh_token"]}).status_code == 401
    assert login(customer.email).json["error"]["code"] == "inactive_account"


def test_activation_lets_the_account_sign_in_again(client, admin, make_user, login,
                                                   auth_headers):
    user = make_user(email="paused@example.com", is_active=False)

    response = client.post(f"/api/v1/users/{user.id}/activate", headers=auth_headers(admin))

    assert response.status_code == 200
    db.session.refresh(user)
    assert user.is_active is True
    assert login("paused@example.com").status_code == 200


def test_admin_cannot_deactivate_themselves(client, admin, auth_headers):
    response = client.post(f"/api/v1/users/{admin.id}/deactivate", headers=auth_headers(admin))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "cannot_deactivate_self"
    db.session.refresh(admin)
    assert admin.is_active is True


@pytest.mark.parametrize("action", ["deactivate", "activate"])
def test_unknown_user_is_404(client, admin, auth_headers, action):
    response = client.post(f"/api/v1/users/99999/{action}", headers=auth_headers(admin))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/users"), ("post", "/api/v1/users/{id}/deactivate"),
    ("post", "/api/v1/users/{id}/activate")])
def test_customers_get_403_and_guests_401(client, customer, make_user, auth_headers, method,
                                          path):
    target = make_user(email="target@example.com")
    url = path.format(id=target.id)

    as_customer = getattr(client, method)(url, headers=auth_headers(customer))
    as_guest = getattr(client, method)(url)

    assert as_customer.status_code == 403
    assert as_customer.json["error"]["code"] == "forbidden"
    assert as_guest.status_code == 401
    db.session.refresh(target)
    assert target.is_active is True
