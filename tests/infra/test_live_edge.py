"""What the live channel (app/live) needs from the edge, as the resources receive it: the
ALB and CloudFront must not call a stream idle between two heartbeats, and CloudFront must
neither cache nor compress (buffer) it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import settings_from_env
from components.cdn import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED, Cdn
from components.storefront import Storefront
from tests.infra.component_support import run_component
from tests.infra.test_cdn import DISTRIBUTION, OUTPUTS, PROD, behaviours
from tests.infra.test_storefront import OUTPUTS as STOREFRONT_OUTPUTS
from tests.infra.test_storefront import storefront_args

HEARTBEAT = settings_from_env({}, "/nonexistent")["LIVE_HEARTBEAT_SECONDS"]
# Read from the file, not imported: importing it configures gunicorn's metrics directory.
GUNICORN_KEEPALIVE = int(re.search(
    r"^keepalive = (\d+)", (Path(__file__).parents[2] / "app" / "gunicorn_conf.py").read_text(),
    re.MULTILINE).group(1))


@pytest.fixture(scope="module")
def cdn():
    return run_component(lambda: Cdn("cdn", PROD), *OUTPUTS)


@pytest.fixture(scope="module")
def storefront():
    return run_component(lambda: Storefront("storefront", storefront_args()),
                         *STOREFRONT_OUTPUTS)


def test_the_stream_path_is_uncached_uncompressed_and_forwards_the_session(cdn):
    default, *ordered = behaviours(cdn)
    live = next(behaviour for behaviour in ordered if behaviour["pathPattern"] == "/live/*")
    assert live == {
        "pathPattern": "/live/*", "targetOriginId": "storefront",
        "viewerProtocolPolicy": "redirect-to-https", "allowedMethods": ["GET", "HEAD"],
        "cachedMethods": ["GET", "HEAD"], "cachePolicyId": CACHING_DISABLED,
        "originRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
        "responseHeadersPolicyId": default["responseHeadersPolicyId"], "compress": False}


def test_cloudfront_waits_longer_than_a_heartbeat_for_the_origin(cdn):
    origins = {o["originId"]: o for o in cdn.one(DISTRIBUTION).inputs["origins"]}
    config = origins["storefront"]["customOriginConfig"]
    assert config["originReadTimeout"] == 60
    assert config["originReadTimeout"] >= 2 * HEARTBEAT


def test_the_alb_idle_timeout_is_above_the_heartbeat_and_below_gunicorns_keepalive(storefront):
    ingress = storefront.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    attributes = ingress["metadata"]["annotations"][
        "alb.ingress.kubernetes.io/load-balancer-attributes"]
    assert attributes == ("routing.http.drop_invalid_header_fields.enabled=true,"
                          "idle_timeout.timeout_seconds=60")
    idle = int(attributes.rsplit("=", 1)[1])
    assert 2 * HEARTBEAT <= idle < GUNICORN_KEEPALIVE
