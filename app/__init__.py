"""The storefront: ``create_app`` is the only way an application object is made."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from app.config import engine_options, normalize_database_url, settings_from_env
from app.db_routing import configure_replica


def create_app(config: Mapping | None = None) -> Flask:
    """Defaults, then the environment, then ``config`` (tests pass a mapping here)."""
    # No app-wide /static: the storefront blueprint serves it (app/storefront/static).
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_mapping(settings_from_env(os.environ, app.instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config))
    configure_replica(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (models must be known to Alembic and the session)
    from app.caching import init_caching
    from app.db_credentials import init_db_credentials
    from app.errors import register_error_handlers
    from app.extensions import db, init_redis, migrate
    from app.inputs import init_inputs
    from app.mail import init_mail
    from app.observability import init_observability
    from app.ratelimit import init_rate_limits
    from app.request_limits import init_request_limits
    from app.security import init_security

    init_security(app)  # first: production refuses to start before anything connects
    init_request_limits(app)  # the first before_request hook
    db.init_app(app)
    init_db_credentials(app, db)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    init_redis(app)
    init_mail(app)
    register_error_handlers(app)
    init_observability(app)
    init_rate_limits(app)
    init_inputs(app)  # after the limiter: refused input still counts against a budget
    init_caching(app)


def _register_blueprints(app: Flask) -> None:
    from app.api import init_api
    from app.commands import register_commands
    from app.health import bp as health_bp
    from app.live import init_live
    from app.media import media_bp
    from app.storefront import init_storefront

    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp)
    init_api(app)
    init_storefront(app)
    init_live(app)
    register_commands(app)
