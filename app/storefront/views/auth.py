"""Signing up, in and out, and resetting a forgotten password, with the API's accounts."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.auth import service as accounts
from app.errors import Conflict, Invalid, Unauthorized
from app.ratelimit import (
    limit_password_reset,
    limit_password_reset_confirm,
    limit_sign_in,
    limit_sign_up,
)
from app.storefront import bp
from app.storefront.forms.auth import (
    ForgotPasswordForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
)
from app.storefront.forms.common import error_text, form_status, show_field_errors
from app.storefront.session import begin_session, end_session, safe_next
from app.users import reset as password_reset


def _next_page(form) -> str:
    return safe_next(form.next.data or request.args.get("next"), url_for("storefront.home"))


@bp.route("/signin", methods=["GET", "POST"])
@limit_sign_in
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except Unauthorized as error:
            # The domain's message never says whether the e-mail exists.
            form.form_errors.append(error_text(error))
        else:
            begin_session(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(_next_page(form))
    return render_template("storefront/auth/sign_in.html", form=form), form_status(form)


@bp.route("/signup", methods=["GET", "POST"])
@limit_sign_up
def sign_up():
    form = SignUpForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = accounts.register(form.email.data, form.password.data, form.name.data)
        except Conflict as error:
            show_field_errors(form, error)
        else:
            begin_session(user)
            flash(f"Welcome, {user.name}: your account is ready.", "success")
            return redirect(_next_page(form))
    return render_template("storefront/auth/sign_up.html", form=form), form_status(form)


@bp.post("/signout")
def sign_out():
    end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("storefront.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limit_password_reset
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_password_reset(form.email.data)
        # The same answer whether or not an account has this address.
        flash("If an account uses that address, a link to reset its password is on its way.",
              "info")
        return redirect(url_for("storefront.sign_in"))
    return render_template("storefront/auth/forgot_password.html", form=form), form_status(form)


@bp.route("/reset-password", methods=["GET", "POST"])
@limit_password_reset_confirm
def reset_password():
    form = ResetPasswordForm()
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
    if form.validate_on_submit():
        try:
            password_reset.reset_password(form.token.data, form.password.data)
        except Invalid:
            form.form_errors.append("This link is invalid, expired or already used. "
                                    "Ask for a new one.")
        else:
            flash("Your password is changed. Sign in with the new one.", "success")
            return redirect(url_for("storefront.sign_in"))
    return render_template("storefront/auth/reset_password.html", form=form), form_status(form)
