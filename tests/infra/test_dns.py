"""The edge (certificate + web ACL) and alias records, alone and wired to the CDN the way
compose wires them: Edge -> Cdn -> AliasRecords."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from components.cdn import Cdn, CdnArgs
from components.dns import (
    AliasRecords,
    AliasRecordsArgs,
    Edge,
    EdgeArgs,
    record_key,
    validation_names,
    viewer_names,
)
from components.waf import MANAGED_RULE_GROUPS, web_acl_rules
from stacks.plan.mocks import CLOUDFRONT_ZONE_ID, run_under_mocks
from tests.infra.component_support import (
    DEV_TAGS,
    PROD_TAGS,
    assert_refused,
    assert_well_formed,
    run_component,
)

ZONE = "Z0123456789SHOP"
CERTIFICATE = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
PROD = EdgeArgs(tags=PROD_TAGS, domain_name="shop.example.com",
                alternative_names=["www.shop.example.com"], hosted_zone_id=ZONE,
                waf_enabled=True, rate_limit_per_5_minutes=1500)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Edge("edge", PROD), "certificate_arn", "web_acl_arn", "aliases")


def test_pure_parts() -> None:
    assert viewer_names(PROD) == ["shop.example.com", "www.shop.example.com"]
    assert viewer_names(EdgeArgs(tags=DEV_TAGS, domain_name="")) == []
    assert validation_names(["example.com", "*.example.com", "*.other.com"]) == [
        "example.com", "*.other.com"]
    assert record_key("*.shop.example.com") == "wildcard-shop-example-com"


def test_web_acl_rules() -> None:
    rules = web_acl_rules("edge", 1500)
    assert [rule.name for rule in rules] == ["rate-limit-per-ip", *MANAGED_RULE_GROUPS]
    assert [rule.priority for rule in rules] == [0, 10, 20, 30]
    assert rules[0].statement.rate_based_statement.limit == 1500
    assert all(rule.visibility_config.cloudwatch_metrics_enabled for rule in rules)
    with pytest.raises(ValueError, match="rate_limit_per_5_minutes"):
        web_acl_rules("edge", 5)


def test_certificate_in_us_east_1_validated_through_route53(prod) -> None:
    certificate = prod.one(CERTIFICATE, "edge-certificate").inputs
    assert certificate["region"] == "us-east-1"
    assert certificate["domainName"] == "shop.example.com"
    assert certificate["subjectAlternativeNames"] == ["www.shop.example.com"]
    assert certificate["validationMethod"] == "DNS"
    records = {r.name: r.inputs for r in prod.of_type(RECORD)}
    assert set(records) == {"edge-validation-shop-example-com",
                            "edge-validation-www-shop-example-com"}
    for host in ("shop.example.com", "www.shop.example.com"):
        record = records[f"edge-validation-{record_key(host)}"]
        assert record["zoneId"] == ZONE and record["type"] == "CNAME"
        assert record["name"].endswith(f".{host}.")
        assert record["records"][0].endswith(".acm-validations.aws.")
    validation = prod.one("aws:acm/certificateValidation:CertificateValidation").inputs
    assert validation["region"] == "us-east-1"
    assert sorted(validation["validationRecordFqdns"]) == sorted(
        r["name"].rstrip(".") for r in records.values())
    assert prod.outputs["certificate_arn"] == validation["certificateArn"]
    assert prod.outputs["aliases"] == ["shop.example.com", "www.shop.example.com"]


def test_web_acl_on_cloudfront_with_managed_rules_and_rate_limit(prod) -> None:
    acl = prod.one(WEB_ACL, "edge-waf").inputs
    assert (acl["scope"], acl["region"]) == ("CLOUDFRONT", "us-east-1")
    assert acl["defaultAction"] == {"allow": {}}
    assert acl["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
    rules = {rule["name"]: rule for rule in acl["rules"]}
    for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                  "AWSManagedRulesSQLiRuleSet"):
        assert rules[group]["statement"] == {
            "managedRuleGroupStatement": {"vendorName": "AWS", "name": group}}
        assert rules[group]["overrideAction"] == {"none": {}}
    rate = rules["rate-limit-per-ip"]
    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 1500, "aggregateKeyType": "IP", "evaluationWindowSec": 300}
    assert rate["action"] == {"block": {}}
    assert all(rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
               and rule["visibilityConfig"]["sampledRequestsEnabled"] is True
               for rule in acl["rules"])
    assert prod.outputs["web_acl_arn"].startswith("arn:aws:wafv2:us-east-1:")
    assert_well_formed(prod, "shop:dns:Edge", PROD_TAGS)


def test_nothing_without_domain_or_waf() -> None:
    recorded = run_component(lambda: Edge("edge", EdgeArgs(tags=DEV_TAGS, domain_name="")),
                             "certificate_arn", "web_acl_arn", "aliases")
    assert [r.type for r in recorded.resources] == ["shop:dns:Edge"]
    assert recorded.outputs == {"certificate_arn": None, "web_acl_arn": None, "aliases": []}


def test_certificate_without_waf_and_one_record_for_a_wildcard_pair() -> None:
    args = EdgeArgs(tags=DEV_TAGS, domain_name="example.com",
                    alternative_names=["*.example.com"], hosted_zone_id=ZONE)
    recorded = run_component(lambda: Edge("edge", args))
    assert recorded.of_type(WEB_ACL) == []
    assert [r.name for r in recorded.of_type(RECORD)] == ["edge-validation-example-com"]


def test_alias_records_point_every_name_at_the_distribution() -> None:
    args = AliasRecordsArgs(hosted_zone_id=ZONE, names=["shop.example.com", "www.shop.example.com"],
                            target_domain_name="d111.cloudfront.net",
                            target_hosted_zone_id=CLOUDFRONT_ZONE_ID)
    recorded = run_component(lambda: AliasRecords("dns", args), "fqdns")
    records = {r.name: r.inputs for r in recorded.of_type(RECORD)}
    assert sorted(records) == ["dns-shop-example-com-a", "dns-shop-example-com-aaaa",
                               "dns-www-shop-example-com-a", "dns-www-shop-example-com-aaaa"]
    for record in records.values():
        assert record["zoneId"] == ZONE and record["type"] in ("A", "AAAA")
        assert record["aliases"] == [{"name": "d111.cloudfront.net",
                                      "zoneId": CLOUDFRONT_ZONE_ID,
                                      "evaluateTargetHealth": False}]
    assert recorded.outputs["fqdns"] == ["shop.example.com", "www.shop.example.com"]
    assert_well_formed(recorded, "shop:dns:AliasRecords", PROD_TAGS)


def test_edge_then_cdn_then_records_without_a_cycle() -> None:
    def program() -> None:
        edge = Edge("edge", PROD)
        cdn = Cdn("cdn", CdnArgs(
            origin_domain_name="origin.shop.example.com", tags=PROD_TAGS, aliases=edge.aliases,
            certificate_arn=edge.certificate_arn, web_acl_arn=edge.web_acl_arn))
        AliasRecords("dns", AliasRecordsArgs(
            hosted_zone_id=ZONE, names=edge.aliases, target_domain_name=cdn.domain_name,
            target_hosted_zone_id=cdn.hosted_zone_id))
        pulumi.export("certificate_arn", edge.certificate_arn)
        pulumi.export("web_acl_arn", edge.web_acl_arn)
        pulumi.export("cdn_domain", cdn.domain_name)

    recorded = run_under_mocks(program)
    distribution = recorded.one("aws:cloudfront/distribution:Distribution").inputs
    assert distribution["viewerCertificate"]["acmCertificateArn"] == (
        recorded.outputs["certificate_arn"])
    assert distribution["webAclId"] == recorded.outputs["web_acl_arn"]
    assert distribution["aliases"] == ["shop.example.com", "www.shop.example.com"]
    alias = recorded.one(RECORD, "dns-shop-example-com-a").inputs
    assert alias["aliases"][0]["name"] == recorded.outputs["cdn_domain"]
    assert alias["aliases"][0]["zoneId"] == CLOUDFRONT_ZONE_ID


@pytest.mark.parametrize(("change", "field"), [
    ({"hosted_zone_id": None}, "hosted_zone_id"),
    ({"domain_name": None}, "domain_name"),
    ({"domain_name": "Shop.Example.com"}, "domain_name"),
    ({"alternative_names": ["shop.example.com"]}, "alternative_names"),
    ({"rate_limit_per_5_minutes": 5}, "rate_limit_per_5_minutes"),
    ({"tags": {}}, "tags"),
])
def test_invalid_edge_args_name_the_field_and_create_nothing(change, field) -> None:
    args = dataclasses.replace(PROD, **change)
    assert field in assert_refused(lambda: Edge("edge", args), field)


def test_alias_records_need_names() -> None:
    args = AliasRecordsArgs(hosted_zone_id=ZONE, names=[], target_domain_name="d.cloudfront.net",
                            target_hosted_zone_id=CLOUDFRONT_ZONE_ID)
    assert_refused(lambda: AliasRecords("dns", args), "names")
