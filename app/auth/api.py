"""``/api/v1/auth``: sign up, sign in, refresh, sign out, who am I."""

from __future__ import annotations

from app.api_routes import ApiBlueprint
from app.auth import service
from app.auth.guards import current_user, signed_in_endpoint
from app.auth.schemas import LoginSchema, RefreshSchema, RegisterSchema, TokensSchema, UserSchema
from app.cart.schemas import CartTokenHeaderSchema
from app.models import User
from app.ratelimit import limit_sign_in, limit_sign_up

blp = ApiBlueprint("auth", __name__, url_prefix="/auth",
                   description="Accounts and sessions: access tokens live 15 minutes, refresh "
                               "tokens 7 days and rotate on every use.")


def _signed_in(user: User, cart_token: str | None) -> dict:
    """The response of a sign-in, with the guest cart merged into the account first."""
    extra = {}
    if cart_token:
        from app.cart.service import merge_guest_cart

        extra["cart_merge"] = merge_guest_cart(user.id, cart_token)
    return {**vars(service.start_session(user)), **extra}


@blp.post("/register")
@limit_sign_up
@blp.arguments(RegisterSchema)
@blp.arguments(CartTokenHeaderSchema, location="headers")
@blp.response(201, TokensSchema)
@blp.alt_response(409, response="CONFLICT")
def register(data: dict, headers: dict):
    """Create a customer account and sign in to it."""
    user = service.register(data["email"], data["password"], data["name"], data.get("phone"))
    return _signed_in(user, headers.get("cart_token"))


@blp.post("/login")
@limit_sign_in
@blp.arguments(LoginSchema)
@blp.arguments(CartTokenHeaderSchema, location="headers")
@blp.response(200, TokensSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def login(data: dict, headers: dict):
    """Sign in with e-mail and password."""
    user = service.authenticate(data["email"], data["password"])
    return _signed_in(user, headers.get("cart_token"))


@blp.post("/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokensSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def refresh(data: dict):
    """Trade a refresh token for a new pair. Each refresh token works once: presenting a used
    one signs out every device of that session."""
    return service.refresh(data["refresh_token"])


@blp.post("/logout")
@blp.arguments(RefreshSchema)
@blp.response(204)
@blp.alt_response(401, response="UNAUTHORIZED")
def logout(data: dict):
    """Sign out: revoke the session the refresh token belongs to."""
    service.logout(data["refresh_token"])


@blp.get("/me")
@signed_in_endpoint(blp)
@blp.response(200, UserSchema)
def me():
    """The signed-in account."""
    return current_user()
