"""The storefront's name and shield, in two steps so compose wires them without a cycle:

    Edge (certificate + web ACL)  ->  Cdn (uses both)  ->  AliasRecords (point at the Cdn)

CloudFront only takes certificates and CLOUDFRONT-scope web ACLs from us-east-1. They are
placed there with pulumi-aws 7's per-resource `region`, not a second `aws.Provider`: an
explicit provider would not inherit the stack's `aws:*` settings (profile, assumed role,
default tags), so these resources would deploy under different credentials than the rest.
`validated_certificate` also issues the load balancer's own, regional one (components/origin.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import require_hostnames, require_items, require_tags, with_name
from components.waf import web_acl_rules

EDGE_REGION = "us-east-1"


@dataclass(frozen=True)
class EdgeArgs:
    tags: Mapping[str, str]
    # The storefront's host name; empty or None: no certificate, CloudFront's own name serves.
    domain_name: str | None = None
    alternative_names: Sequence[str] = ()
    # The public Route53 zone holding domain_name, where validation records are written.
    hosted_zone_id: pulumi.Input[str] | None = None
    waf_enabled: bool = False
    rate_limit_per_5_minutes: int = 2000


def validate(args: EdgeArgs) -> list[aws.wafv2.WebAclRuleArgs]:
    """Checks the arguments; returns the web ACL's rules (built, so checked, up front)."""
    require_tags(args.tags)
    if not args.domain_name:
        if args.alternative_names or args.hosted_zone_id:
            raise ValueError(f"alternative_names and hosted_zone_id need domain_name, got "
                             f"domain_name {args.domain_name!r}")
    else:
        require_hostnames("domain_name", [args.domain_name])
        require_hostnames("alternative_names", [args.domain_name, *args.alternative_names])
        if not args.hosted_zone_id:
            raise ValueError(f"hosted_zone_id is required with domain_name "
                             f"{args.domain_name!r}: the certificate is validated through it")
    return web_acl_rules("edge", args.rate_limit_per_5_minutes)


def viewer_names(args: EdgeArgs) -> list[str]:
    """The names the distribution answers to (its aliases)."""
    return [args.domain_name, *args.alternative_names] if args.domain_name else []


def validation_names(names: Sequence[str]) -> list[str]:
    """One validation record per distinct name: `*.x` and `x` share ACM's record."""
    return [name for name in names
            if not (name.startswith("*.") and name[2:] in names)]


def record_key(host: str) -> str:
    """A host name as a stable resource-name suffix."""
    return host.replace("*", "wildcard").replace(".", "-")


@dataclass(frozen=True)
class CertificateRequest:
    domain_name: str
    hosted_zone_id: pulumi.Input[str]
    # Where the certificate's user lives: us-east-1 for CloudFront, the ALB's own region.
    region: str
    tags: Mapping[str, str]
    alternative_names: Sequence[str] = ()


def validated_certificate(name: str, request: CertificateRequest, parent: pulumi.Resource,
                          ) -> pulumi.Output[str]:
    """A DNS-validated certificate; its ARN resolves only once ACM has issued it, so nothing
    ever references a pending certificate."""
    child = pulumi.ResourceOptions(parent=parent)
    certificate = aws.acm.Certificate(
        f"{name}-certificate",
        region=request.region,
        domain_name=request.domain_name,
        subject_alternative_names=list(request.alternative_names),
        validation_method="DNS",
        tags=with_name(request.tags, f"{name}-certificate"),
        opts=child)
    names = [request.domain_name, *request.alternative_names]
    records = [_validation_record(f"{name}-validation-{record_key(host)}", certificate, host,
                                  request.hosted_zone_id, parent)
               for host in validation_names(names)]
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-validation",
        region=request.region,
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn for record in records],
        opts=child)
    return validation.certificate_arn


def _validation_record(name: str, certificate: aws.acm.Certificate, host: str,
                       hosted_zone_id: pulumi.Input[str], parent: pulumi.Resource,
                       ) -> aws.route53.Record:
    option = certificate.domain_validation_options.apply(
        lambda options: next(o for o in options if o.domain_name == host))
    return aws.route53.Record(
        name,
        zone_id=hosted_zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=60,
        # ACM reuses one record across renewals and certificates of the same name.
        allow_overwrite=True,
        opts=pulumi.ResourceOptions(parent=parent))


class Edge(pulumi.ComponentResource):
    certificate_arn: pulumi.Output[str] | None
    web_acl_arn: pulumi.Output[str] | None
    aliases: list[str]

    def __init__(self, name: str, args: EdgeArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        rules = validate(args)
        super().__init__("shop:dns:Edge", name, None, opts)
        self._name, self._args = name, args
        self.aliases = viewer_names(args)
        self.certificate_arn = self._certificate() if args.domain_name else None
        self.web_acl_arn = self._web_acl(rules) if args.waf_enabled else None
        self.register_outputs({
            "certificate_arn": self.certificate_arn,
            "web_acl_arn": self.web_acl_arn,
            "aliases": self.aliases,
        })

    def _certificate(self) -> pulumi.Output[str]:
        args = self._args
        assert args.domain_name and args.hosted_zone_id  # validate() saw to it
        return validated_certificate(
            self._name, CertificateRequest(
                domain_name=args.domain_name, alternative_names=args.alternative_names,
                hosted_zone_id=args.hosted_zone_id, region=EDGE_REGION, tags=args.tags),
            parent=self)

    def _web_acl(self, rules: list[aws.wafv2.WebAclRuleArgs]) -> pulumi.Output[str]:
        name, args = self._name, self._args
        acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            region=EDGE_REGION,
            scope="CLOUDFRONT",
            description="Storefront: rate limit and AWS managed rules",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=f"{name}-waf",
                sampled_requests_enabled=True),
            tags=with_name(args.tags, f"{name}-waf"),
            opts=pulumi.ResourceOptions(parent=self))
        return acl.arn


@dataclass(frozen=True)
class AliasRecordsArgs:
    hosted_zone_id: pulumi.Input[str]
    # Edge.aliases
    names: Sequence[str]
    # Cdn.domain_name and Cdn.hosted_zone_id
    target_domain_name: pulumi.Input[str]
    target_hosted_zone_id: pulumi.Input[str]


class AliasRecords(pulumi.ComponentResource):
    """IPv4 and IPv6 alias records pointing each name at the distribution."""

    fqdns: pulumi.Output[list[str]]

    def __init__(self, name: str, args: AliasRecordsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        require_items("names", args.names)
        require_hostnames("names", args.names)
        super().__init__("shop:dns:AliasRecords", name, None, opts)
        records = [
            aws.route53.Record(
                f"{name}-{record_key(host)}-{record_type.lower()}",
                zone_id=args.hosted_zone_id,
                name=host,
                type=record_type,
                aliases=[aws.route53.RecordAliasArgs(
                    name=args.target_domain_name, zone_id=args.target_hosted_zone_id,
                    # CloudFront alias targets take no health evaluation.
                    evaluate_target_health=False)],
                opts=pulumi.ResourceOptions(parent=self))
            for host in args.names for record_type in ("A", "AAAA")
        ]
        self.fqdns = pulumi.Output.all(*(r.fqdn for r in records[::2]))
        self.register_outputs({"fqdns": self.fqdns})
