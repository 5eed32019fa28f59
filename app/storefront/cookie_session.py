"""Flask's signed-cookie session, minus its work on requests that carry no session
cookie: the API's Bearer-token calls and first visits.

Flask builds an itsdangerous serializer (key derivation included) on every request before
it even looks for the cookie. Without the cookie the session is a new, empty one either
way, so it is made directly; the serializer is built only when there is a cookie to read
or a session to write (``save_session`` is Flask's own, unchanged).
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class LeanCookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
