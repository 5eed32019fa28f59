"""The CDN component under the mock engine: private buckets, an HTTPS-only distribution."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.cdn import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    Cdn,
    CdnArgs,
)
from components.policies_json import cloudfront_assets_bucket_policy, tls_only_bucket_policy
from stacks.plan.mocks import SECRET
from tests.infra.component_support import (
    DEV_TAGS,
    PROD_TAGS,
    assert_no_secret_values,
    assert_refused,
    assert_well_formed,
    run_component,
)

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d"
WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge-waf/0a1b2c3d"
OUTPUTS = ("distribution_id", "distribution_arn", "domain_name", "hosted_zone_id",
           "assets_bucket_name", "assets_bucket_arn", "log_bucket_name", "origin_verify_secret")

PROD = CdnArgs(origin_domain_name="origin.shop.example.com", tags=PROD_TAGS,
               aliases=["shop.example.com", "www.shop.example.com"],
               certificate_arn=CERTIFICATE, web_acl_arn=WEB_ACL, price_class="PriceClass_All")
DEV = CdnArgs(origin_domain_name="origin.dev.shop.example.com", tags=DEV_TAGS,
              force_destroy=True)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Cdn("cdn", PROD), *OUTPUTS)


@pytest.fixture(scope="module")
def dev():
    return run_component(lambda: Cdn("cdn", DEV), *OUTPUTS)


def behaviours(recorded) -> list[dict]:
    inputs = recorded.one(DISTRIBUTION).inputs
    return [inputs["defaultCacheBehavior"], *inputs["orderedCacheBehaviors"]]


def test_every_behaviour_is_https_only_with_security_headers(prod, dev) -> None:
    for recorded in (prod, dev):
        headers_policy = recorded.one(
            "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
        distribution = recorded.one(DISTRIBUTION)
        assert headers_policy.urn in distribution.options.dependencies
        for behaviour in behaviours(recorded):
            assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
            assert behaviour["responseHeadersPolicyId"].startswith("cdn-security-headers-")
        storefront = next(o for o in distribution.inputs["origins"] if o["originId"] ==
                          "storefront")
        assert storefront["customOriginConfig"]["originProtocolPolicy"] == "https-only"
        assert storefront["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]


def test_security_headers(prod) -> None:
    config = prod.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs[
        "securityHeadersConfig"]
    hsts = config["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31_536_000
    assert hsts["includeSubdomains"] is True and hsts["override"] is True
    assert config["contentTypeOptions"] == {"override": True}
    assert config["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert config["referrerPolicy"] == {"referrerPolicy": "strict-origin-when-cross-origin",
                                        "override": True}


def test_static_from_s3_cached_the_rest_to_the_storefront_uncached(prod) -> None:
    default, *ordered = behaviours(prod)
    assert default["targetOriginId"] == "storefront"
    assert default["cachePolicyId"] == CACHING_DISABLED
    assert default["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(default["allowedMethods"]) >= {"GET", "POST", "PUT", "DELETE"}
    assert [behaviour["pathPattern"] for behaviour in ordered] == ["/static/*", "/live/*"]
    assert ordered[0] == {
        "pathPattern": "/static/*", "targetOriginId": "assets",
        "viewerProtocolPolicy": "redirect-to-https", "allowedMethods": ["GET", "HEAD"],
        "cachedMethods": ["GET", "HEAD"], "cachePolicyId": CACHING_OPTIMIZED,
        "responseHeadersPolicyId": default["responseHeadersPolicyId"], "compress": True}
    origins = {o["originId"]: o for o in prod.one(DISTRIBUTION).inputs["origins"]}
    assert origins["assets"]["domainName"].startswith("cdn-assets-")
    assert origins["assets"]["domainName"].endswith(".s3.us-east-1.amazonaws.com")
    assert origins["assets"]["originAccessControlId"].startswith("cdn-oac-")
    assert origins["storefront"]["domainName"] == "origin.shop.example.com"
    oac = prod.one("aws:cloudfront/originAccessControl:OriginAccessControl").inputs
    assert (oac["originAccessControlOriginType"], oac["signingBehavior"],
            oac["signingProtocol"]) == ("s3", "always", "sigv4")


def test_custom_certificate_tls12_aliases_and_waf(prod) -> None:
    inputs = prod.one(DISTRIBUTION).inputs
    assert inputs["viewerCertificate"] == {"acmCertificateArn": CERTIFICATE,
                                           "sslSupportMethod": "sni-only",
                                           "minimumProtocolVersion": "TLSv1.2_2021"}
    assert inputs["aliases"] == ["shop.example.com", "www.shop.example.com"]
    assert inputs["webAclId"] == WEB_ACL
    assert inputs["priceClass"] == "PriceClass_All"


def test_without_domain_or_waf(dev) -> None:
    inputs = dev.one(DISTRIBUTION).inputs
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert inputs.get("aliases", []) == []
    assert "webAclId" not in inputs
    assert dev.outputs["domain_name"].endswith(".cloudfront.net")
    assert dev.outputs["hosted_zone_id"] == "Z2FDTNDATAQYW2"


def test_both_buckets_private_encrypted_and_tls_only(prod) -> None:
    for role in ("assets", "logs"):
        bucket = prod.one("aws:s3/bucket:Bucket", f"cdn-{role}")
        block = prod.one(BLOCK, f"cdn-{role}-public-access")
        assert bucket.urn in block.options.dependencies
        assert {k: v for k, v in block.inputs.items() if k != "bucket"} == {
            "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True}
        encryption = prod.named(f"cdn-{role}-encryption").inputs
        assert encryption["rules"] == [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
        statements = json.loads(prod.named(f"cdn-{role}-policy").inputs["policy"])["Statement"]
        deny = statements[0]
        assert deny["Effect"] == "Deny" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert not any(s["Effect"] == "Allow" and s["Principal"] == "*" for s in statements)
        assert bucket.inputs["forceDestroy"] is False
    versioning = prod.named("cdn-assets-versioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    assert prod.named("cdn-assets-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"}


def test_only_this_distribution_reads_the_assets(prod) -> None:
    policy = json.loads(prod.named("cdn-assets-policy").inputs["policy"])
    bucket_arn = prod.outputs["assets_bucket_arn"]
    assert policy == json.loads(
        cloudfront_assets_bucket_policy(bucket_arn, prod.outputs["distribution_arn"]))
    read = policy["Statement"][1]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject" and read["Resource"] == f"{bucket_arn}/*"
    assert read["Condition"] == {
        "StringEquals": {"AWS:SourceArn": prod.outputs["distribution_arn"]}}


def test_access_logs_go_to_the_log_bucket(prod) -> None:
    logging = prod.one(DISTRIBUTION).inputs["loggingConfig"]
    assert logging == {"bucket": f"{prod.outputs['log_bucket_name']}.s3.amazonaws.com",
                       "prefix": "cloudfront/", "includeCookies": False}
    assert prod.named("cdn-logs-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerPreferred"}
    lifecycle = prod.named("cdn-logs-lifecycle").inputs["rules"][0]
    assert lifecycle["expiration"] == {"days": 90}
    ownership = prod.named("cdn-logs-ownership")
    assert ownership.urn in prod.one(DISTRIBUTION).options.dependencies


def test_requests_to_the_storefront_carry_a_generated_secret_header(prod, dev) -> None:
    for recorded in (prod, dev):
        origins = {o["originId"]: o for o in recorded.one(DISTRIBUTION).inputs["origins"]}
        assert origins["storefront"]["customHeaders"] == [
            {"name": "X-Origin-Verify", "value": SECRET}]
        # Not to S3, which OAC signs for.
        assert "customHeaders" not in origins["assets"]
        generated = recorded.one("random:index/randomPassword:RandomPassword")
        assert generated.name == "cdn-origin-verify"
        assert {key: generated.inputs[key] for key in ("length", "special", "upper")} == {
            "length": 64, "special": False, "upper": False}
        assert recorded.outputs["origin_verify_secret"] == SECRET
        assert_no_secret_values(recorded)


def test_pure_bucket_policies() -> None:
    arn = "arn:aws:s3:::b"
    assert json.loads(tls_only_bucket_policy(arn))["Statement"] == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    both = json.loads(cloudfront_assets_bucket_policy(arn, "arn:d"))["Statement"]
    assert [s["Sid"] for s in both] == ["DenyInsecureTransport",
                                         "AllowCloudFrontOriginAccessControlRead"]


def test_dev_buckets_can_be_destroyed(dev) -> None:
    for bucket in dev.of_type("aws:s3/bucket:Bucket"):
        assert bucket.inputs["forceDestroy"] is True


def test_children_parented_and_tagged(prod, dev) -> None:
    assert_well_formed(prod, "shop:cdn:Cdn", PROD_TAGS)
    assert_well_formed(dev, "shop:cdn:Cdn", DEV_TAGS)


@pytest.mark.parametrize(("change", "field"), [
    ({"certificate_arn": None}, "aliases"),
    ({"aliases": ["Shop.Example.com"]}, "aliases"),
    ({"aliases": ["shop.example.com", "shop.example.com"]}, "aliases"),
    ({"price_class": "PriceClass_50"}, "price_class"),
    ({"log_retention_days": 0}, "log_retention_days"),
    ({"origin_domain_name": ""}, "origin_domain_name"),
    ({"tags": {**PROD_TAGS, "CostCenter": ""}}, "tags"),
])
def test_invalid_args_name_the_field_and_create_nothing(change, field) -> None:
    args = dataclasses.replace(PROD, **change)
    assert field in assert_refused(lambda: Cdn("cdn", args), field)
