"""The storefront's origin: the load balancer CloudFront reaches over HTTPS at a name of its own
(`origin.<domain>`), in two steps around the Storefront, whose Ingress makes the ALB:

    Origin (certificate + security group)  ->  Storefront (Ingress)  ->  OriginRecord (name -> ALB)

Only CloudFront may connect. The security group admits HTTPS from AWS's managed prefix list of
CloudFront's origin-facing addresses and nothing else, so no client reaches the ALB around the
CDN and its web ACL. That list weighs 55 rules against a group's default quota of 60, so it is
referenced once, for 443: CloudFront speaks only HTTPS to this origin (components/cdn.py), and
the ALB has no HTTP listener to admit.

The certificate lives in the ALB's region. It is issued and DNS-validated here when the name lies
in the stack's Route53 zone; otherwise the operator brings an issued one, by ARN.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import require_hostnames, require_range, require_tags, with_name
from components.dns import CertificateRequest, validated_certificate

CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
HTTPS_PORT = 443
_CERTIFICATE_ARN = re.compile(r"arn:aws[a-z-]*:acm:([a-z]{2}-[a-z]+-\d):\d{12}:certificate/[\w-]+")


@dataclass(frozen=True)
class OriginArgs:
    # The name CloudFront connects to (Cdn's origin_domain_name).
    domain_name: str
    vpc_id: pulumi.Input[str]
    # The ALB sends to pod IPs inside the VPC, on the pods' port.
    vpc_cidr: str
    target_port: int
    # The ALB's region, where its certificate must be.
    region: str
    tags: Mapping[str, str]
    # Exactly one: the zone holding domain_name (a certificate is issued and validated there),
    # or an issued ACM certificate in `region` covering domain_name.
    hosted_zone_id: pulumi.Input[str] | None = None
    certificate_arn: str | None = None


def certificate_region(arn: str) -> str | None:
    """The region of an ACM certificate's ARN; None for anything else."""
    match = _CERTIFICATE_ARN.fullmatch(arn)
    return match.group(1) if match else None


def validate(args: OriginArgs) -> None:
    require_tags(args.tags)
    require_hostnames("domain_name", [args.domain_name])
    if args.domain_name.startswith("*."):
        raise ValueError(f"domain_name must be one host, not a wildcard, got {args.domain_name!r}")
    require_range("target_port", args.target_port, 1, 65535)
    try:
        ipaddress.IPv4Network(args.vpc_cidr)
    except ValueError:
        raise ValueError(f"vpc_cidr must be an IPv4 network like '10.10.0.0/16', "
                         f"got {args.vpc_cidr!r}") from None
    if (args.hosted_zone_id is None) == (args.certificate_arn is None):
        raise ValueError("exactly one of hosted_zone_id (a certificate is issued in that zone) "
                         "and certificate_arn (an issued one) must be given, got "
                         f"hosted_zone_id {args.hosted_zone_id!r} and certificate_arn "
                         f"{args.certificate_arn!r}")
    if args.certificate_arn is not None and (
            certificate_region(args.certificate_arn) != args.region):
        raise ValueError(f"certificate_arn must be an ACM certificate in {args.region}, the load "
                         f"balancer's region, got {args.certificate_arn!r}")


class Origin(pulumi.ComponentResource):
    """Outputs: `certificate_arn` (for the Ingress), `security_group_id` (the ALB's only
    security group besides the controller's backend one), `domain_name`."""

    certificate_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    domain_name: str

    def __init__(self, name: str, args: OriginArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:origin:Origin", name, None, opts)
        self.domain_name = args.domain_name
        self.certificate_arn = self._certificate(name, args)
        self.security_group_id = self._security_group(name, args).id
        self.register_outputs({
            "certificate_arn": self.certificate_arn,
            "security_group_id": self.security_group_id,
            "domain_name": self.domain_name,
        })

    def _certificate(self, name: str, args: OriginArgs) -> pulumi.Output[str]:
        if args.certificate_arn is not None:
            return pulumi.Output.from_input(args.certificate_arn)
        zone = args.hosted_zone_id
        assert zone is not None  # validate(): exactly one of the two
        return validated_certificate(name, CertificateRequest(
            domain_name=args.domain_name, hosted_zone_id=zone, region=args.region,
            tags=args.tags), parent=self)

    def _security_group(self, name: str, args: OriginArgs) -> aws.ec2.SecurityGroup:
        cloudfront = aws.ec2.get_managed_prefix_list_output(
            name=CLOUDFRONT_ORIGIN_FACING, region=args.region,
            opts=pulumi.InvokeOutputOptions(parent=self))
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Storefront load balancer: HTTPS from CloudFront only",
            vpc_id=args.vpc_id,
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                description="CloudFront origin-facing addresses",
                protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
                prefix_list_ids=[cloudfront.id])],
            egress=[aws.ec2.SecurityGroupEgressArgs(
                description="Storefront pods and their health checks",
                protocol="tcp", from_port=args.target_port, to_port=args.target_port,
                cidr_blocks=[args.vpc_cidr])],
            tags=with_name(args.tags, f"{name}-sg"),
            opts=pulumi.ResourceOptions(parent=self))


@dataclass(frozen=True)
class OriginRecordArgs:
    hosted_zone_id: pulumi.Input[str]
    # Origin.domain_name
    domain_name: str
    # Storefront.alb_hostname, as the load balancer controller reported it.
    load_balancer_hostname: pulumi.Input[str]
    region: str


class OriginRecord(pulumi.ComponentResource):
    """An alias A record from the origin's name to the ALB: it follows the ALB's addresses as
    they change, and costs no query charge."""

    fqdn: pulumi.Output[str]

    def __init__(self, name: str, args: OriginRecordArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        require_hostnames("domain_name", [args.domain_name])
        super().__init__("shop:origin:OriginRecord", name, None, opts)
        zone = aws.lb.get_hosted_zone_id_output(
            load_balancer_type="application", region=args.region,
            opts=pulumi.InvokeOutputOptions(parent=self))
        record = aws.route53.Record(
            f"{name}-a",
            zone_id=args.hosted_zone_id,
            name=args.domain_name,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(
                name=args.load_balancer_hostname, zone_id=zone.id,
                evaluate_target_health=True)],
            opts=pulumi.ResourceOptions(parent=self))
        self.fqdn = record.fqdn
        self.register_outputs({"fqdn": self.fqdn})
