"""``/api/v1/users``: one's own profile and password, password reset, administration."""

from __future__ import annotations

from app.api_routes import ApiBlueprint
from app.auth.guards import admin_endpoint, current_user, signed_in_endpoint
from app.auth.schemas import TokensSchema, UserSchema
from app.ratelimit import (
    limit_password_change,
    limit_password_reset,
    limit_password_reset_confirm,
)
from app.users import reset, service
from app.users.schemas import (
    MessageSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    ProfileUpdateSchema,
    UserListArgsSchema,
    UserPageSchema,
)

blp = ApiBlueprint("users", __name__, url_prefix="/users",
                   description="Profiles, passwords, password reset and user administration.")

RESET_REQUESTED = ("If an account exists for that address, a link to reset its password "
                   "is on its way.")


@blp.get("/me")
@signed_in_endpoint(blp)
@blp.response(200, UserSchema)
def get_profile():
    """The signed-in account."""
    return current_user()


@blp.patch("/me")
@signed_in_endpoint(blp)
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
def update_profile(changes: dict):
    """Change name and/or phone (null clears the phone)."""
    return service.update_profile(current_user(), changes)


@blp.post("/me/password")
@limit_password_change
@signed_in_endpoint(blp)
@blp.arguments(PasswordChangeSchema)
@blp.response(200, TokensSchema)
def change_password(data: dict):
    """Change the password. Every session is signed out; the response is a new one."""
    return service.change_password(current_user(), data["old_password"], data["new_password"])


@blp.post("/password-reset")
@limit_password_reset
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202, MessageSchema)
def request_password_reset(data: dict):
    """Mail a single-use, time-limited reset link. The answer is the same whether or not
    the account exists."""
    reset.request_password_reset(data["email"])
    return {"message": RESET_REQUESTED}


@blp.post("/password-reset/confirm")
@limit_password_reset_confirm
@blp.arguments(PasswordResetConfirmSchema)
@blp.response(204)
def confirm_password_reset(data: dict):
    """Set a new password with the token from the reset link; signs out every session."""
    reset.reset_password(data["token"], data["new_password"])


@blp.get("")
@admin_endpoint(blp)
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, UserPageSchema)
def list_users(args: dict):
    """Administrators: every account, oldest first, optionally filtered by e-mail."""
    page = service.list_users(args["page"], args["per_page"], args.get("email"))
    return {"items": page.items, "meta": page.meta}


@blp.post("/<int:user_id>/deactivate")
@admin_endpoint(blp)
@blp.response(200, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def deactivate(user_id: int):
    """Administrators: lock an account out and sign out all of its sessions."""
    return service.deactivate(user_id, current_user())


@blp.post("/<int:user_id>/activate")
@admin_endpoint(blp)
@blp.response(200, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
def activate(user_id: int):
    """Administrators: let a deactivated account sign in again."""
    return service.activate(user_id)
