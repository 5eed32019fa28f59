"""DATABASE_PASSWORD_FILE / DATABASE_PASSWORD: the password reaches every new connection of
the primary and the replica, from a file re-read each time (a rotation needs no restart).

The test server trusts local connections, so a wrong password would not be refused here;
each test reads back, from libpq itself (`connection.info.password`), the password the real
PostgreSQL connection was opened with."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app
from app.db_routing import REPLICA_BIND
from app.extensions import db
from tests.conftest import DATABASE_URL, TEST_CONFIG

URL_WITHOUT_PASSWORD = make_url(DATABASE_URL).set(password=None).render_as_string(
    hide_password=False)


def _password_of_new_connection(engine: sa.Engine) -> str:
    engine.dispose()  # a fresh connection, as after the server closed the pooled ones
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT 1")) == 1
        return connection.connection.dbapi_connection.info.password


def test_password_file_is_read_for_each_new_connection(migrated_database, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("first-password\n")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": URL_WITHOUT_PASSWORD,
                      "DATABASE_PASSWORD_FILE": str(secret)})
    with app.app_context():
        assert _password_of_new_connection(db.engine) == "first-password"
        secret.write_text("rotated-password")  # what the CSI driver does after a rotation
        assert _password_of_new_connection(db.engine) == "rotated-password"
        db.engine.dispose()


def test_replica_bind_gets_the_same_password(migrated_database, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("shared-password")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": URL_WITHOUT_PASSWORD,
                      "DATABASE_REPLICA_URL": URL_WITHOUT_PASSWORD,
                      "DATABASE_PASSWORD_FILE": str(secret)})
    with app.app_context():
        for engine in (db.engine, db.engines[REPLICA_BIND]):
            assert _password_of_new_connection(engine) == "shared-password"
            engine.dispose()


def test_password_from_environment_overrides_the_url(migrated_database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", URL_WITHOUT_PASSWORD)
    monkeypatch.setenv("DATABASE_PASSWORD", "from-env")
    app = create_app({key: value for key, value in TEST_CONFIG.items()
                      if key != "SQLALCHEMY_DATABASE_URI"})
    with app.app_context():
        assert _password_of_new_connection(db.engine) == "from-env"
        db.engine.dispose()


def test_no_password_setting_leaves_the_url_alone(migrated_database):
    app = create_app(TEST_CONFIG)
    with app.app_context():
        assert _password_of_new_connection(db.engine) == (
            make_url(DATABASE_URL).password or "")
        db.engine.dispose()


@pytest.mark.parametrize("content, message", [
    (None, "cannot be read"), ("", "is empty"), ("\n", "is empty")])
def test_unusable_password_file_refuses_to_start(tmp_path, content, message):
    secret = tmp_path / "password"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(RuntimeError, match=f"DATABASE_PASSWORD_FILE .*{message}"):
        create_app({**TEST_CONFIG, "DATABASE_PASSWORD_FILE": str(secret)})


def test_both_password_settings_are_refused(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("x")
    with pytest.raises(RuntimeError, match="DATABASE_PASSWORD or DATABASE_PASSWORD_FILE"):
        create_app({**TEST_CONFIG, "DATABASE_PASSWORD": "y",
                    "DATABASE_PASSWORD_FILE": str(secret)})
