"""The live channel under each gunicorn worker class the storefront may run with, on the
real PostgreSQL and Redis: gthread gives streams at most half its threads and keeps
serving pages; gevent holds many more streams than any thread pool; a sync worker refuses
streams at once (503) instead of being held by one, and its pages do not ask."""

from __future__ import annotations

import pytest

from app.catalog.service import adjust_stock
from bench.live_server import environment, gunicorn
from tests.app.factories import make_product
from tests.app.live_support import EventStream, http_get, status_of
from tests.conftest import DATABASE_URL, REDIS_URL

pytestmark = pytest.mark.timeout(120)
FAST = {"LIVE_HEARTBEAT_SECONDS": "1", "LIVE_STREAMS_PER_ADDRESS": "200"}


@pytest.fixture
def env(app, tmp_path):
    return environment(DATABASE_URL, REDIS_URL, tmp_path, FAST)


def test_gthread_gives_streams_half_its_threads_and_keeps_serving_pages(app, env, tmp_path):
    product = make_product(stock=5)
    with gunicorn("gthread", env, tmp_path, threads=4) as served:
        held = [EventStream(served.port, f"product={product.id}") for _ in range(2)]
        refused = EventStream(served.port, f"product={product.id}")
        assert [s.status for s in held] + [refused.status] == [200, 200, 503]
        assert refused.headers["retry-after"] == "30"
        assert status_of(http_get(served.port, f"/products/{product.id}")) == 200

        adjust_stock(product.id, delta=-1)
        assert [s.next_event().json["stock"] for s in held] == [4, 4]


def test_gevent_holds_more_streams_than_a_thread_pool_would(app, env, tmp_path):
    product = make_product(stock=50)
    with gunicorn("gevent", env, tmp_path, threads=4) as served:
        streams = [EventStream(served.port, f"product={product.id}") for _ in range(60)]
        assert {s.status for s in streams} == {200}
        assert status_of(http_get(served.port, f"/products/{product.id}")) == 200

        adjust_stock(product.id, delta=-7)
        assert {s.next_event(timeout=10).json["stock"] for s in streams} == {43}


def test_a_sync_worker_refuses_streams_and_its_pages_do_not_ask(app, env, tmp_path):
    product = make_product()
    with gunicorn("sync", env, tmp_path, threads=1) as served:
        refused = EventStream(served.port, f"product={product.id}")
        assert (refused.status, refused.headers["retry-after"]) == (503, "300")
        page = http_get(served.port, f"/products/{product.id}")
        assert status_of(page) == 200 and "live.js" not in page
