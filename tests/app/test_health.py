from unittest import mock


def test_healthz_answers_without_consulting_dependencies(client):
    with mock.patch("app.health._check_database") as check_db:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    check_db.assert_not_called()


def test_readyz_reports_both_dependencies_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "up", "redis": "up"}


def test_readyz_names_the_dependency_that_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "up", "redis": "down"}
    assert response.json["error"]["details"] == {"failed": ["redis"]}


def test_unknown_route_uses_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/docs/assets/swagger-ui-bundle.js" in page.data
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/openapi.json").json["openapi"].startswith("3.")


def test_readiness_probe_stays_ready_when_only_redis_is_down(make_app):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    response = client.get("/readyz?optional=redis")
    assert response.status_code == 200
    assert response.json == {"status": "degraded",
                             "checks": {"database": "up", "redis": "down"}}


def test_readiness_probe_still_fails_without_the_database(make_app):
    client = make_app(SQLALCHEMY_DATABASE_URI="postgresql://postgres@127.0.0.1:1/test",
                      REDIS_URL="redis://127.0.0.1:1/0").test_client()
    response = client.get("/readyz?optional=redis")
    assert response.status_code == 503
    assert response.json["error"]["details"] == {"failed": ["database"]}
