"""What each `shop:` setting accepts: one parser per key, each naming the key, what is allowed
and what it got when the value is wrong.

Values arrive either as YAML gives them (ints, bools, lists) or as the Pulumi runtime gives
them (strings, with lists JSON-encoded); parsers accept both. A `{"secure": ...}` value is a
secret: only secret settings accept one, and they accept nothing else, so a webhook URL can
never sit in a stack file in clear.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.architecture import UnknownArchitecture, architecture_of
from components.log_groups import RETENTION_DAYS
from stacks.settings import cluster_checks

Parser = Callable[[str, Any], Any]

# Commercial regions only: ARNs are built with the `aws` partition.
REGION = r"[a-z]{2}-[a-z]+-\d"
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_HOSTNAME = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_TAG_VALUE = r"[\w .:/=+@-]{1,256}"
_EMAIL = r"[^@\s,]+@([a-z0-9-]+\.)+[a-z]{2,63}"


class Invalid(Exception):
    """One setting's problem, worded for the operator."""


@dataclass(frozen=True)
class Secret:
    """A secret setting's value: never shown by repr, handed to Pulumi as a secret Output."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret([secret])"

    def as_output(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self.value)


def show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict) and "secure" in value:
        return "a secret"
    return repr(value) if isinstance(value, str) else str(value)


def _either(values: Sequence[Any]) -> str:
    shown = [str(v) for v in values]
    return " or ".join(shown) if len(shown) <= 2 else f"one of {', '.join(shown)}"


def _clear(key: str, raw: Any) -> Any:
    if isinstance(raw, dict) and "secure" in raw:
        raise Invalid(f"{key} is not a secret setting; set it in clear")
    return raw


def integer(low: int, high: int) -> Parser:
    def parse(key: str, raw: Any) -> int:
        value = _int(key, raw, f"a whole number from {low} to {high}")
        if not low <= value <= high:
            raise Invalid(f"{key} must be a whole number from {low} to {high}, got {show(raw)}")
        return value
    return parse


def one_of(*allowed: Any) -> Parser:
    def parse(key: str, raw: Any) -> Any:
        numeric = isinstance(allowed[0], int)
        value = _int(key, raw, _either(allowed)) if numeric else _clear(key, raw)
        if value not in allowed:
            raise Invalid(f"{key} must be {_either(allowed)}, got {show(raw)}")
        return value
    return parse


def _int(key: str, raw: Any, expected: str) -> int:
    raw = _clear(key, raw)
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid(f"{key} must be {expected}, got {show(raw)}")
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"{key} must be {expected}, got {show(raw)}") from None


def boolean(key: str, raw: Any) -> bool:
    raw = _clear(key, raw)
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return bool(raw == "true")
    raise Invalid(f"{key} must be true or false, got {show(raw)}")


def text(pattern: str, expected: str, optional: bool = False) -> Parser:
    compiled = re.compile(pattern)

    def parse(key: str, raw: Any) -> str:
        raw = _clear(key, raw)
        if optional and raw in ("", None):
            return ""
        if not isinstance(raw, str) or not compiled.fullmatch(raw):
            raise Invalid(f"{key} must be {expected}, got {show(raw)}")
        return raw
    return parse


def timestamp(key: str, raw: Any) -> str:
    """A UTC instant as ISO 8601 (`2026-05-01T12:00:00Z`), or empty. YAML reads an unquoted
    timestamp as a datetime, so both forms are accepted."""
    raw = _clear(key, raw)
    if raw in ("", None):
        return ""
    if isinstance(raw, datetime.datetime):
        moment = raw.astimezone(datetime.UTC) if raw.tzinfo else raw.replace(tzinfo=datetime.UTC)
        return moment.strftime(TIMESTAMP_FORMAT)
    try:
        datetime.datetime.strptime(raw, TIMESTAMP_FORMAT)
    except (TypeError, ValueError):
        raise Invalid(f"{key} must be a UTC time like '2026-05-01T12:00:00Z', "
                      f"got {show(raw)}") from None
    return str(raw)


def secret(key: str, raw: Any) -> Secret | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and isinstance(raw.get("secure"), str) and raw["secure"]:
        return Secret(raw["secure"])
    raise Invalid(f"{key} must be set as a secret (pulumi config set --secret {key} ...), "
                  "never in clear")


def vpc_cidr(key: str, raw: Any) -> str:
    expected = "a private IPv4 network from /16 to /20, like '10.10.0.0/16'"
    network = _network(key, _clear(key, raw), expected)
    if not (network.is_private and 16 <= network.prefixlen <= 20):
        raise Invalid(f"{key} must be {expected}, got {show(raw)}")
    return str(network)


def cidr_list(key: str, raw: Any) -> tuple[str, ...]:
    raw = _clear(key, raw)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, list):
        raise Invalid(f"{key} must be a list of IPv4 CIDRs like ['203.0.113.0/24'], "
                      f"got {show(raw)}")
    expected = "a list of IPv4 CIDRs like ['203.0.113.0/24']"
    return tuple(str(_network(key, item, expected)) for item in raw)


def node_instance_type(key: str, raw: Any) -> str:
    """An instance type whose architecture the node image and the images' platforms follow:
    x86_64 (`t3.medium`) or Graviton arm64 (`t4g.medium`, `m7g.large`)."""
    value: str = text(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type like 't3.medium'")(
        key, raw)
    try:
        architecture_of(value)
    except UnknownArchitecture:
        raise Invalid(f"{key} must be an x86_64 or Graviton (arm64) EC2 instance type an EKS "
                      f"node can be, like 't3.medium' or 'm7g.large', got {show(raw)}") from None
    return value


def _network(key: str, raw: Any, expected: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(raw, strict=True)
    except (ValueError, TypeError):
        raise Invalid(f"{key} must be {expected}, got {show(raw)}") from None


FIELDS: dict[str, Parser] = {
    "owner": text(_TAG_VALUE, "a tag value (letters, digits, spaces and _ .:/=+@-)"),
    "costCenter": text(_TAG_VALUE, "a tag value (letters, digits, spaces and _ .:/=+@-)"),
    "vpcCidr": vpc_cidr,
    "azCount": one_of(2, 3),
    "natMode": one_of("single", "perAz"),
    "logRetentionDays": one_of(*RETENTION_DAYS),
    "kubernetesVersion": one_of(*KUBERNETES_VERSIONS),
    # x86_64 or Graviton: the node image and the storefront's image platforms follow it.
    "nodeInstanceType": node_instance_type,
    "nodeMinSize": integer(1, 100),
    "nodeDesiredSize": integer(1, 100),
    "nodeMaxSize": integer(1, 100),
    "clusterPublicAccessCidrs": cidr_list,
    # How every pod of the stack gets its IAM role (components/irsa.py).
    "podIdentity": one_of("irsa", "podIdentity"),
    # What adds and removes nodes (components/karpenter.py or the Cluster Autoscaler).
    "nodeAutoscaler": one_of("clusterAutoscaler", "karpenter"),
    "clusterAdminRoleArn": text(cluster_checks.ROLE_ARN, cluster_checks.ROLE_EXAMPLE,
                                optional=True),
    # The role CI deploys with; prod requires both (settings/cluster_checks.py).
    "clusterDeployRoleArn": text(cluster_checks.ROLE_ARN, cluster_checks.ROLE_EXAMPLE,
                                 optional=True),
    "dbEngineVersion": text(r"1[4-8](\.\d+)?", "a PostgreSQL major 14-18, like '16' or '16.4'"),
    "dbInstanceClass": text(r"db\.[a-z0-9]+\.[a-z0-9]+", "an RDS class like 'db.t4g.micro'"),
    "dbAllocatedStorageGb": integer(20, 65536),
    "dbMaxAllocatedStorageGb": integer(21, 65536),
    "dbBackupRetentionDays": integer(1, 35),
    "dbMultiAz": boolean,
    "dbReplicaCount": integer(0, 5),
    # Days between rotations of the RDS-managed master password (components/database.py).
    "dbPasswordRotationDays": integer(1, 365),
    "deletionProtection": boolean,
    # Lifts Pulumi's `protect` from prod's stateful resources, for one deliberate replacement.
    "unprotectStateful": boolean,
    "cacheNodeType": text(r"cache\.[a-z0-9]+\.[a-z0-9]+",
                          "an ElastiCache node type like 'cache.t4g.micro'"),
    "cacheNodeCount": integer(1, 6),
    "cacheSnapshotRetentionDays": integer(0, 35),
    "domain": text(_HOSTNAME, "a lowercase DNS name like 'shop.example.com'", optional=True),
    "hostedZoneId": text(r"Z[A-Z0-9]{1,31}", "a Route53 zone id like 'Z0123456789ABC'",
                         optional=True),
    "originDomain": text(_HOSTNAME, "a lowercase DNS name like 'origin.shop.example.com'",
                         optional=True),
    # Only for an originDomain outside shop:domain, whose certificate the stack cannot issue.
    "originCertificateArn": text(rf"arn:aws:acm:{REGION}:\d{{12}}:certificate/[\w-]+",
                                 "an ACM certificate ARN like 'arn:aws:acm:us-east-1:"
                                 "123456789012:certificate/0f1e2d3c-...'", optional=True),
    "wafEnabled": boolean,
    "wafRateLimit": integer(100, 2_000_000_000),
    "cdnPriceClass": one_of("PriceClass_100", "PriceClass_200", "PriceClass_All"),
    # Monitoring (kube-prometheus-stack); stacks/settings/loader.py says which of these go together.
    "metricsRetentionDays": integer(1, 365),
    "prometheusVolumeGb": integer(10, 16384),
    # Prometheus and Alertmanager each: two keep alerting up through a node's loss.
    "monitoringReplicas": integer(1, 3),
    "grafanaEnabled": boolean,
    # Each alert links to its runbook: <runbookBaseUrl>README.md#<alert>.
    "runbookBaseUrl": text(r"https://[^\s#?]+/", "an https:// URL ending in '/' where "
                           "README.md lives, like 'https://github.com/acme/shop/blob/main/'",
                           optional=True),
    "alertEmail": text(rf"{_EMAIL}(,{_EMAIL})*",
                       "an e-mail address, or several separated by commas", optional=True),
    "alertSmtpSmarthost": text(rf"{_HOSTNAME}:\d{{2,5}}", "an SMTP relay's host:port, like "
                               "'email-smtp.us-east-1.amazonaws.com:587'", optional=True),
    "alertSmtpFrom": text(_EMAIL, "an e-mail address", optional=True),
    "alertSmtpUsername": text(r"\S{1,256}", "the relay's user name, without spaces",
                              optional=True),
    "alertSmtpPassword": secret,
    "slackWebhookUrl": secret,
    "slackChannel": text(r"#[a-z0-9_-]{1,80}", "a Slack channel like '#shop-alerts'"),
    "storefrontMinReplicas": integer(1, 50),
    "storefrontMaxReplicas": integer(1, 50),
    # The storefront image's tag; the registry's tags are immutable, so one per build.
    "imageVersion": text(r"(?!latest$|mirror-)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                         "a Docker tag naming one build, like 'git-3f2c1ab' or 'v1.4.0'"),
    "inClusterData": boolean,
    "baseStack": text(r"([\w.-]+/){0,2}[\w.-]+", "a stack name like 'acme/shop/dev'",
                      optional=True),
    "previewDomain": text(_HOSTNAME, "a lowercase DNS name like 'preview.shop.example.com'",
                          optional=True),
    # When a preview environment was created; it expires previewTtlDays later.
    "previewCreatedAt": timestamp,
    "previewTtlDays": integer(1, 30),
    # Cross-region recovery (settings/safeguards.py): where RDS automated backups and the media
    # bucket are replicated to; empty: nothing leaves the stack's region.
    "recoveryRegion": text(REGION, "an AWS region like 'us-west-2', or '' for no cross-region "
                           "copy", optional=True),
    # Security logs: CloudTrail to a locked bucket, GuardDuty with EKS protection.
    "cloudTrailEnabled": boolean,
    "guardDutyEnabled": boolean,
    "securityLogRetentionDays": integer(90, 3650),
}
