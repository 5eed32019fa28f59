"""The REST API under /api/v1: flask-smorest generates the OpenAPI 3 document from the
blueprints' schemas; Swagger UI is served from the swagger-ui-bundle package (no CDN)."""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api
from marshmallow import Schema, fields

from app.api_routes import API_PREFIX, takes_this_upload
from app.errors import error_response, handle_http_exception


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "e.g. fields: {name: [messages]}"})


class ErrorSchema(Schema):
    """The one error shape; documents every error response in the spec."""

    error = fields.Nested(ErrorBodySchema, required=True)


class ShopApi(Api):
    ERROR_SCHEMA = ErrorSchema

    # smorest registers its own HTTPException handler; ours keeps the one error shape.
    def handle_http_exception(self, error):
        return handle_http_exception(error)


api = ShopApi()


def _require_json_body():
    """A body that is not JSON is a 415, not a confusing 'missing field' 422."""
    if not request.path.startswith(API_PREFIX) or request.method not in ("POST", "PUT", "PATCH"):
        return None
    if request.content_length in (None, 0) and not request.headers.get("Transfer-Encoding"):
        return None
    if not request.is_json and not takes_this_upload():
        return error_response(415, "request body must be application/json")
    return None


def init_api(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Shop API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "v1/openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "/docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/api/docs/assets/")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "The storefront's REST API. Authenticate with "
                                "`Authorization: Bearer <access token>` from /api/v1/auth/login."},
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    })
    api.init_app(app)
    app.before_request(_require_json_body)
    _serve_swagger_assets(app)
    for blueprint in _blueprints():
        api.register_blueprint(blueprint, url_prefix=API_PREFIX + blueprint.url_prefix)


def _serve_swagger_assets(app: Flask) -> None:
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _blueprints():
    """Each concern's API blueprint, mounted under /api/v1 + its own url_prefix."""
    blueprints = []
    from app.auth.api import blp as auth_blp
    blueprints.append(auth_blp)
    from app.users.api import blp as users_blp
    blueprints.append(users_blp)
    from app.catalog.api import categories_blp, products_blp, search_blp
    blueprints.extend([categories_blp, products_blp, search_blp])
    from app.cart.api import blp as cart_blp
    blueprints.append(cart_blp)
    from app.orders.api import blp as orders_blp
    blueprints.append(orders_blp)
    return blueprints
