"""The storefront's origin: the ALB's regional certificate, its CloudFront-only security group
and its DNS name, alone and as compose wires them around the Storefront."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws
import pytest

from components.origin import (
    CLOUDFRONT_ORIGIN_FACING,
    Origin,
    OriginArgs,
    OriginRecord,
    OriginRecordArgs,
    certificate_region,
)
from stacks import compose
from stacks.plan.mocks import Recorded, run_under_mocks
from stacks.policy import check
from stacks.settings import Settings, load_from_mapping
from tests.infra.component_support import (
    PROD_TAGS,
    assert_refused,
    assert_well_formed,
    run_component,
)

ZONE = "Z0123456789SHOP"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ALB = "alb.ingress.kubernetes.io/"
# AWS's ids in eu-west-1: CloudFront's origin-facing prefix list and the ALBs' alias zone.
EU_WEST_1_CLOUDFRONT = "pl-4fa04526"
EU_WEST_1_ALB_ZONE = "Z32O12XQLNTSW2"
OWN_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a"
ISSUED = OriginArgs(domain_name="origin.shop.example.com", vpc_id="vpc-0shop",
                    vpc_cidr="10.20.0.0/16", target_port=8000, region="eu-west-1",
                    tags=PROD_TAGS, hosted_zone_id=ZONE)
OUTPUTS = ("certificate_arn", "security_group_id", "domain_name")


def run_origin(args: OriginArgs) -> Recorded:
    return run_under_mocks(lambda: _export(Origin("origin", args)), region="eu-west-1")


def _export(origin: Origin) -> None:
    for name in OUTPUTS:
        pulumi.export(name, getattr(origin, name))


@pytest.fixture(scope="module")
def issued() -> Recorded:
    return run_origin(ISSUED)


def test_certificate_region_reads_an_acm_arn() -> None:
    assert certificate_region(OWN_CERTIFICATE) == "eu-west-1"
    assert certificate_region("arn:aws:iam::123456789012:server-certificate/x") is None


def test_certificate_in_the_load_balancers_region_validated_through_the_zone(issued) -> None:
    certificate = issued.one(CERTIFICATE, "origin-certificate").inputs
    assert (certificate["domainName"], certificate["region"]) == (
        "origin.shop.example.com", "eu-west-1")
    assert (certificate["validationMethod"], certificate["subjectAlternativeNames"]) == ("DNS", [])
    record = issued.one(RECORD, "origin-validation-origin-shop-example-com").inputs
    assert (record["zoneId"], record["type"], record["ttl"]) == (ZONE, "CNAME", 60)
    assert record["name"].startswith("_")
    assert record["name"].endswith(".origin.shop.example.com.")
    assert record["records"][0].endswith(".acm-validations.aws.")
    validation = issued.one(VALIDATION, "origin-certificate-validation").inputs
    assert validation["region"] == "eu-west-1"
    assert validation["validationRecordFqdns"] == [record["name"].rstrip(".")]
    # The Ingress gets the ARN only once ACM issued the certificate.
    assert issued.outputs["certificate_arn"] == validation["certificateArn"]
    assert_well_formed(issued, "shop:origin:Origin", PROD_TAGS)


def test_security_group_admits_https_from_cloudfront_only(issued) -> None:
    group = issued.one(GROUP, "origin-sg")
    assert group.inputs["vpcId"] == "vpc-0shop"
    (rule,) = group.inputs["ingress"]
    assert rule == {"description": "CloudFront origin-facing addresses", "protocol": "tcp",
                    "fromPort": 443, "toPort": 443, "prefixListIds": [EU_WEST_1_CLOUDFRONT]}
    # Out only to the pods' port inside the VPC: the ALB starts no other connection.
    assert group.inputs["egress"] == [{
        "description": "Storefront pods and their health checks", "protocol": "tcp",
        "fromPort": 8000, "toPort": 8000, "cidrBlocks": ["10.20.0.0/16"]}]
    assert issued.outputs["security_group_id"] == group.id
    assert issued.outputs["domain_name"] == "origin.shop.example.com"
    assert check(issued.resources) == []


def test_a_brought_certificate_is_used_as_is() -> None:
    recorded = run_origin(dataclasses.replace(
        ISSUED, domain_name="lb.example.org", hosted_zone_id=None,
        certificate_arn=OWN_CERTIFICATE))
    assert recorded.of_type(CERTIFICATE) == recorded.of_type(RECORD) == []
    assert recorded.outputs["certificate_arn"] == OWN_CERTIFICATE
    assert recorded.one(GROUP).inputs["ingress"][0]["prefixListIds"] == [EU_WEST_1_CLOUDFRONT]


@pytest.mark.parametrize(("change", "field"), [
    ({"hosted_zone_id": None}, "hosted_zone_id"),
    ({"certificate_arn": OWN_CERTIFICATE}, "certificate_arn"),
    ({"hosted_zone_id": None,
      "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e"}, "certificate_arn"),
    ({"domain_name": "*.shop.example.com"}, "domain_name"),
    ({"domain_name": "Origin.Shop.example.com"}, "domain_name"),
    ({"vpc_cidr": "10.20.0.0/33"}, "vpc_cidr"),
    ({"target_port": 0}, "target_port"),
    ({"tags": {"Project": "shop"}}, "tags"),
])
def test_invalid_origin_args_name_the_field_and_create_nothing(change, field) -> None:
    args = dataclasses.replace(ISSUED, **change)
    assert field in assert_refused(lambda: Origin("origin", args), field)


def test_origin_record_aliases_the_name_to_the_load_balancer() -> None:
    hostname = "k8s-shop-storefro-0123456789.eu-west-1.elb.amazonaws.com"
    args = OriginRecordArgs(hosted_zone_id=ZONE, domain_name="origin.shop.example.com",
                            load_balancer_hostname=hostname, region="eu-west-1")
    recorded = run_component(lambda: OriginRecord("origin-dns", args), "fqdn")
    record = recorded.one(RECORD, "origin-dns-a").inputs
    assert record == {"zoneId": ZONE, "name": "origin.shop.example.com", "type": "A",
                      "aliases": [{"name": hostname, "zoneId": EU_WEST_1_ALB_ZONE,
                                   "evaluateTargetHealth": True}]}
    assert recorded.outputs["fqdn"] == "origin.shop.example.com"
    assert_refused(lambda: OriginRecord("origin-dns", dataclasses.replace(
        args, domain_name="origin..example.com")), "domain_name")


def test_the_mocks_fake_only_cloudfronts_prefix_list() -> None:
    def program() -> None:
        aws.ec2.get_managed_prefix_list(name="com.amazonaws.us-east-1.s3")

    with pytest.raises(Exception, match=f"fakes only {CLOUDFRONT_ORIGIN_FACING}"):
        run_under_mocks(program)


def annotations(plan: Recorded) -> dict[str, str]:
    notes = plan.one(INGRESS).inputs["metadata"]["annotations"]
    return {key.removeprefix(ALB): value for key, value in notes.items() if key.startswith(ALB)}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_compose_gives_the_ingress_the_origins_certificate_and_group(
        stack: str, request: pytest.FixtureRequest) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    settings: Settings = request.getfixturevalue(f"{stack}_settings")
    origin = f"origin.{settings.edge.domain}"
    certificate = plan.one(CERTIFICATE, "origin-certificate").inputs
    assert (certificate["domainName"], certificate["region"]) == (origin, settings.region)
    assert plan.one(RECORD, f"origin-validation-{origin.replace('.', '-')}").inputs[
        "zoneId"] == settings.edge.hosted_zone_id
    notes = annotations(plan)
    assert notes["certificate-arn"] == plan.one(VALIDATION, "origin-certificate-validation"
                                                ).inputs["certificateArn"]
    assert notes["security-groups"] == plan.one(GROUP, "origin-sg").id
    assert notes["manage-backend-security-group-rules"] == "true"
    assert json.loads(notes["listen-ports"]) == [{"HTTPS": 443}]
    assert "ssl-redirect" not in notes
    distribution = plan.one("aws:cloudfront/distribution:Distribution").inputs
    storefront = next(o for o in distribution["origins"] if o["originId"] == "storefront")
    assert storefront["domainName"] == origin
    assert storefront["customOriginConfig"]["originProtocolPolicy"] == "https-only"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_compose_points_the_origin_name_at_the_load_balancer(
        stack: str, request: pytest.FixtureRequest) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    settings: Settings = request.getfixturevalue(f"{stack}_settings")
    record = plan.one(RECORD, "origin-dns-a").inputs
    assert (record["name"], record["type"], record["zoneId"]) == (
        f"origin.{settings.edge.domain}", "A", settings.edge.hosted_zone_id)
    (alias,) = record["aliases"]
    assert alias["name"] == plan.outputs["loadBalancerHostname"]
    assert alias["name"].endswith(f".{settings.region}.elb.amazonaws.com")
    assert alias["zoneId"] == "Z35SXDOTRQ7X7K"  # us-east-1's application load balancers


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_security_group_in_the_stack_admits_an_address_range(
        stack: str, request: pytest.FixtureRequest) -> None:
    """The ALB's group admits CloudFront's prefix list; every other group admits groups."""
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    settings: Settings = request.getfixturevalue(f"{stack}_settings")
    groups = plan.of_type(GROUP)
    assert "origin-sg" in {group.name for group in groups}
    for group in groups:
        for rule in group.inputs.get("ingress", []):
            assert not {"cidrBlocks", "ipv6CidrBlocks"} & set(rule), group.name
    # The pods still admit the ALB's nodes: the public subnets it lives in.
    web = next(policy.inputs["spec"] for policy in plan.of_type(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if policy.name == "storefront-web-ingress")
    admitted = {peer["ipBlock"]["cidr"] for peer in web["ingress"][0]["from"]}
    assert len(admitted) == settings.network.az_count
    assert admitted == {subnet.inputs["cidrBlock"] for subnet in plan.of_type(
        "aws:ec2/subnet:Subnet") if "-public-" in subnet.name}


def test_compose_with_an_origin_outside_the_zone_uses_the_operators_certificate() -> None:
    settings = load_from_mapping("dev", {
        "aws:region": "us-east-1", "shop:domain": "shop.example.com",
        "shop:hostedZoneId": "Z0123456789ABC", "shop:originDomain": "lb.example.org",
        "shop:originCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e",
        "shop:runbookBaseUrl": "https://github.com/acme/shop/blob/main/"})
    plan = run_under_mocks(lambda: compose.build(settings), stack="dev")
    assert [r.inputs["domainName"] for r in plan.of_type(CERTIFICATE)] == ["shop.example.com"]
    assert annotations(plan)["certificate-arn"] == (
        "arn:aws:acm:us-east-1:123456789012:certificate/0f1e")
    assert plan.of_type("shop:origin:OriginRecord") == []
    assert not any(r.inputs.get("name") == "lb.example.org" for r in plan.of_type(RECORD))
    assert plan.outputs["loadBalancerHostname"].endswith(".elb.amazonaws.com")
