"""The stack's settings: read once from Pulumi config, validated, typed and frozen.

Every setting lives under `shop:` (plus `aws:region`). The environment's preset
(presets.py) gives each a default; Pulumi.<stack>.yaml overrides it. A wrong value or an
unknown `shop:` key stops the program before any resource exists, with every problem named at
once: `shop:azCount must be 2 or 3, got 5`.

`load()` reads the running program's config; `load_from_mapping()` takes the `config:` mapping
of a Pulumi.<stack>.yaml (a `{"secure": ...}` value is a secret), which is how the offline plan
and the tests use the same code without the Pulumi CLI.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from stacks.settings import cluster_checks, safeguards
from stacks.settings.fields import FIELDS, REGION, Invalid, Secret, show
from stacks.settings.presets import ENVIRONMENTS, PRESETS
from stacks.settings.safeguards import RecoverySettings, SecurityLogSettings

__all__ = ["Secret", "Settings", "SettingsError", "load", "load_from_mapping", "missing_secrets"]

NAMESPACE = "shop"
# The relay alert e-mail goes out through: all four with shop:alertEmail, none without.
SMTP_KEYS = ("alertSmtpSmarthost", "alertSmtpFrom", "alertSmtpUsername", "alertSmtpPassword")


class SettingsError(pulumi.RunError, ValueError):
    """Every problem with the stack's settings; Pulumi prints it without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str
    az_count: int
    nat_mode: str  # "single" | "perAz"


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    kubernetes_version: str
    node_instance_type: str
    node_min_size: int
    node_desired_size: int
    node_max_size: int
    public_access_cidrs: tuple[str, ...]  # empty: the API endpoint is private only
    admin_role_arn: str  # empty: only the creator administers the cluster
    deploy_role_arn: str  # the role CI deploys with; prod requires both
    identity_mode: str = "irsa"  # shop:podIdentity: irsa or podIdentity
    node_autoscaler: str = "clusterAutoscaler"  # shop:nodeAutoscaler: or karpenter


@dataclass(frozen=True)
class DatabaseSettings:
    engine_version: str
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    backup_retention_days: int
    multi_az: bool
    replica_count: int
    password_rotation_days: int = 7


@dataclass(frozen=True)
class CacheSettings:
    node_type: str
    node_count: int
    snapshot_retention_days: int


@dataclass(frozen=True)
class EdgeSettings:
    domain: str  # empty: no custom domain, certificate or DNS records
    hosted_zone_id: str
    origin_domain: str  # the storefront's HTTPS origin behind CloudFront
    # Empty: the origin lies in shop:domain's zone, and the stack issues its certificate.
    origin_certificate_arn: str
    waf_enabled: bool
    waf_rate_limit: int
    cdn_price_class: str


@dataclass(frozen=True)
class SmtpSettings:
    smarthost: str  # host:port; Alertmanager insists on TLS
    sender: str
    username: str
    password: Secret


@dataclass(frozen=True)
class MonitoringSettings:
    runbook_base_url: str  # empty only in a preview, which dev's monitoring watches
    metrics_retention_days: int
    prometheus_volume_gb: int
    replicas: int  # of Prometheus, and of Alertmanager
    grafana_enabled: bool
    slack_webhook_url: Secret | None
    slack_channel: str
    alert_email: str  # comma-separated; empty: no e-mail
    smtp: SmtpSettings | None  # exactly when alert_email is set


@dataclass(frozen=True)
class StorefrontSettings:
    min_replicas: int
    max_replicas: int
    image_version: str


@dataclass(frozen=True)
class PreviewSettings:
    base_stack: str  # the stack whose cluster a preview environment runs on
    domain: str
    created_at: str  # ISO 8601 UTC; a preview expires ttl_days later
    ttl_days: int


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    environment: str  # "dev" | "prod" | "preview"
    region: str
    tags: Mapping[str, str]
    # Deletion protection, final snapshots and retained data: whatever holds state.
    deletion_protection: bool
    # prod's stateful resources carry Pulumi's `protect` unless set (shop:unprotectStateful).
    unprotect_stateful: bool
    log_retention_days: int  # VPC flow logs and the cluster's control-plane logs
    in_cluster_data: bool
    network: NetworkSettings
    cluster: ClusterSettings
    database: DatabaseSettings
    cache: CacheSettings
    edge: EdgeSettings
    monitoring: MonitoringSettings
    storefront: StorefrontSettings
    preview: PreviewSettings
    recovery: RecoverySettings
    security_logs: SecurityLogSettings

    @property
    def name_prefix(self) -> str:
        return f"{self.project}-{self.stack}"


def load() -> Settings:
    """The settings of the running Pulumi program."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= runtime_config._SECRET_KEYS.get()
    mapping = {k: {"secure": v} if k in secret_keys else v for k, v in values.items()}
    return load_from_mapping(pulumi.get_stack(), mapping, project=pulumi.get_project())


def load_from_mapping(stack: str, config: Mapping[str, Any], project: str = NAMESPACE) -> Settings:
    """Settings from a `config:` mapping as Pulumi.<stack>.yaml holds it."""
    problems: list[str] = []
    given = _shop_keys(config, project, problems)
    environment = _environment(stack, given, problems)
    if environment is None:
        raise SettingsError(problems)
    values = _parse_all(given, PRESETS[environment], problems)
    region = _region(config, problems)
    if problems:
        raise SettingsError(problems)
    problems.extend(_cross_checks(environment, values))
    problems.extend(cluster_checks.access_checks(environment, values))
    problems.extend(_origin_checks(environment, region, values))
    problems.extend(_alerting_checks(environment, values))
    problems.extend(safeguards.checks(environment, region, values))
    if problems:
        raise SettingsError(problems)
    return _assemble(project, stack, environment, region, values)


def _shop_keys(config: Mapping[str, Any], project: str, problems: list[str]) -> dict[str, Any]:
    """The `shop:` entries by bare name; an unknown one is a problem, with a likely meant name."""
    given: dict[str, Any] = {}
    for full_key, value in config.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace not in ("", project):
            continue
        if key not in FIELDS and key != "environment":
            problems.append(f"{project}:{key} is not a setting{_did_you_mean(project, key)}")
            continue
        given[key] = value
    return given


def _did_you_mean(project: str, key: str) -> str:
    names = {name.lower(): name for name in [*FIELDS, "environment"]}
    close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.6)
    return f"; did you mean {project}:{names[close[0]]}?" if close else ""


def _environment(stack: str, given: dict[str, Any], problems: list[str]) -> str | None:
    if "environment" in given:
        value = given["environment"]
        if value in ENVIRONMENTS:
            return str(value)
        problems.append(f"shop:environment must be one of dev, prod, preview, got {show(value)}")
        return None
    inferred = "preview" if stack.startswith("preview-") else stack
    if inferred in ENVIRONMENTS:
        return inferred
    problems.append(f"shop:environment must be set for stack {stack!r}: dev, prod or preview")
    return None


def _parse_all(given: dict[str, Any], preset: Mapping[str, Any], problems: list[str],
               ) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, parse in FIELDS.items():
        raw = given.get(key, preset[key])
        try:
            values[key] = parse(f"shop:{key}", raw)
        except Invalid as problem:
            problems.append(str(problem))
    return values


_REGION = re.compile(REGION)


def _region(config: Mapping[str, Any], problems: list[str]) -> str:
    """Required, not defaulted: the AWS provider deploys to it and endpoints are named after it,
    so a guess here could name endpoints of a region the stack is not in."""
    region = config.get("aws:region")
    if region is None:
        problems.append("aws:region must be set, like 'eu-west-1'")
        return ""
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        problems.append(f"aws:region must be an AWS region like 'eu-west-1', got {show(region)}")
        return ""
    return region


def _cross_checks(environment: str, v: Mapping[str, Any]) -> list[str]:
    """Rules that relate two settings, or a setting to the environment."""
    problems = []
    if not v["nodeMinSize"] <= v["nodeDesiredSize"] <= v["nodeMaxSize"]:
        problems.append(
            "shop:nodeMinSize <= shop:nodeDesiredSize <= shop:nodeMaxSize must hold, got "
            f"{v['nodeMinSize']}, {v['nodeDesiredSize']}, {v['nodeMaxSize']}")
    if v["dbMaxAllocatedStorageGb"] <= v["dbAllocatedStorageGb"]:
        problems.append(
            "shop:dbMaxAllocatedStorageGb must be above shop:dbAllocatedStorageGb "
            f"({v['dbAllocatedStorageGb']}), got {v['dbMaxAllocatedStorageGb']}")
    if v["storefrontMinReplicas"] > v["storefrontMaxReplicas"]:
        problems.append(
            "shop:storefrontMinReplicas must not exceed shop:storefrontMaxReplicas "
            f"({v['storefrontMaxReplicas']}), got {v['storefrontMinReplicas']}")
    if bool(v["domain"]) != bool(v["hostedZoneId"]):
        problems.append("shop:domain and shop:hostedZoneId must be set together, got "
                        f"{show(v['domain'])} and {show(v['hostedZoneId'])}")
    if environment == "prod" and v["inClusterData"]:
        problems.append("shop:inClusterData must be false in prod: its data lives in RDS and "
                        "ElastiCache, got true")
    if environment == "prod" and "0.0.0.0/0" in v["clusterPublicAccessCidrs"]:
        problems.append("shop:clusterPublicAccessCidrs must not contain 0.0.0.0/0 in prod: "
                        "list the deployers' egress CIDRs, or none for a private endpoint")
    if environment != "preview" and not (v["originDomain"] or v["domain"]):
        problems.append("shop:domain (or shop:originDomain) must be set: CloudFront reaches the "
                        "storefront over HTTPS, at a host name its load balancer has a "
                        "certificate for")
    if environment == "preview" and not v["baseStack"]:
        problems.append("shop:baseStack must name the stack whose cluster a preview runs on, "
                        "like 'acme/shop/dev', got ''")
    return problems


def _origin_checks(environment: str, region: str, v: Mapping[str, Any]) -> list[str]:
    """The load balancer needs a certificate for the origin's name in the stack's region, and the
    name a DNS record. The stack makes both for a name inside shop:domain (its zone is
    shop:hostedZoneId); for any other name the operator brings them."""
    origin, domain, arn = _origin_domain(v), v["domain"], v["originCertificateArn"]
    if environment == "preview" or not origin:
        return []  # a preview has no CDN; a missing name is _cross_checks' problem
    if origin == domain:
        return [f"shop:originDomain must differ from shop:domain ({domain!r}), the viewers' "
                "name that points at CloudFront"]
    if domain and origin.endswith(f".{domain}"):
        return [] if not arn else [
            f"shop:originCertificateArn must be empty for an origin inside shop:domain: the "
            f"stack issues the certificate for {origin!r} through shop:hostedZoneId, got {arn!r}"]
    where = f"outside shop:domain {domain!r}" if domain else "in no zone of this stack"
    if not arn:
        return [f"shop:originDomain {origin!r} lies {where}, so the stack can issue neither its "
                f"certificate nor its DNS record: set shop:originCertificateArn to an issued ACM "
                f"certificate for it in {region} (the load balancer's region), and point its DNS "
                "at the stack output loadBalancerHostname"]
    arn_region = arn.split(":")[3]
    if arn_region != region:
        return [f"shop:originCertificateArn must be a certificate in aws:region {region}, where "
                f"the load balancer is, got one in {arn_region}"]
    return []


def _alerting_checks(environment: str, v: Mapping[str, Any]) -> list[str]:
    """What alerts link to and where they go. A preview has no monitoring of its own (dev's
    Prometheus scrapes it), so it needs no runbook link."""
    problems = []
    if environment != "preview" and not v["runbookBaseUrl"]:
        problems.append("shop:runbookBaseUrl must be set: every alert links to its runbook at "
                        "<runbookBaseUrl>README.md#<alert>, like "
                        "'https://github.com/acme/shop/blob/main/'")
    given = [key for key in SMTP_KEYS if v[key]]
    if v["alertEmail"] and len(given) < len(SMTP_KEYS):
        problems.append(_smtp_missing([key for key in SMTP_KEYS if key not in given]))
    elif given and not v["alertEmail"]:
        problems.append(f"{_keys(given)} set without shop:alertEmail: set it to the addresses "
                        "alerts go to, or remove the SMTP settings")
    if environment == "prod" and not (v["alertEmail"] or v["slackWebhookUrl"]):
        problems.append("shop:alertEmail or shop:slackWebhookUrl must be set in prod: its alerts "
                        "must reach someone, not only Alertmanager's UI")
    return problems


def _smtp_missing(missing: list[str]) -> str:
    message = (f"shop:alertEmail needs the SMTP relay Alertmanager sends through: set "
               f"{_keys(missing)}")
    if "alertSmtpPassword" in missing:
        message += (" (the password as a secret: pulumi config set --secret "
                    "shop:alertSmtpPassword ...)")
    return message


def _keys(names: list[str]) -> str:
    return ", ".join(f"shop:{name}" for name in names)


def missing_secrets(config: Mapping[str, Any], project: str = NAMESPACE) -> list[str]:
    """The secret settings `config` needs but lacks: the SMTP password once alerts go by
    e-mail. Operators keep secrets out of the repository's stack files (`pulumi config set
    --secret`), so the offline plan stands a placeholder in for each."""
    key = f"{project}:alertSmtpPassword"
    return [key] if config.get(f"{project}:alertEmail") and key not in config else []


def _assemble(project: str, stack: str, environment: str, region: str,
              v: Mapping[str, Any]) -> Settings:
    return Settings(
        project=project,
        stack=stack,
        environment=environment,
        region=region,
        tags={"Project": project, "Environment": environment, "Owner": v["owner"],
              "CostCenter": v["costCenter"]},
        deletion_protection=v["deletionProtection"],
        unprotect_stateful=v["unprotectStateful"],
        log_retention_days=v["logRetentionDays"],
        in_cluster_data=v["inClusterData"],
        network=NetworkSettings(v["vpcCidr"], v["azCount"], v["natMode"]),
        cluster=ClusterSettings(
            f"{project}-{stack}", v["kubernetesVersion"], v["nodeInstanceType"],
            v["nodeMinSize"], v["nodeDesiredSize"], v["nodeMaxSize"],
            tuple(v["clusterPublicAccessCidrs"]), v["clusterAdminRoleArn"],
            v["clusterDeployRoleArn"], v["podIdentity"], v["nodeAutoscaler"]),
        database=DatabaseSettings(
            v["dbEngineVersion"], v["dbInstanceClass"], v["dbAllocatedStorageGb"],
            v["dbMaxAllocatedStorageGb"], v["dbBackupRetentionDays"], v["dbMultiAz"],
            v["dbReplicaCount"], v["dbPasswordRotationDays"]),
        cache=CacheSettings(v["cacheNodeType"], v["cacheNodeCount"],
                            v["cacheSnapshotRetentionDays"]),
        edge=EdgeSettings(v["domain"], v["hostedZoneId"], _origin_domain(v),
                          v["originCertificateArn"], v["wafEnabled"], v["wafRateLimit"],
                          v["cdnPriceClass"]),
        monitoring=_monitoring(v),
        storefront=StorefrontSettings(v["storefrontMinReplicas"], v["storefrontMaxReplicas"],
                                      v["imageVersion"]),
        preview=PreviewSettings(v["baseStack"], v["previewDomain"], v["previewCreatedAt"],
                                v["previewTtlDays"]),
        recovery=safeguards.recovery(v),
        security_logs=safeguards.security_logs(v),
    )


def _monitoring(v: Mapping[str, Any]) -> MonitoringSettings:
    smtp = (SmtpSettings(*(v[key] for key in SMTP_KEYS)) if v["alertEmail"] else None)
    return MonitoringSettings(
        v["runbookBaseUrl"], v["metricsRetentionDays"], v["prometheusVolumeGb"],
        v["monitoringReplicas"], v["grafanaEnabled"], v["slackWebhookUrl"], v["slackChannel"],
        v["alertEmail"], smtp)


def _origin_domain(v: Mapping[str, Any]) -> str:
    """CloudFront reaches the storefront over HTTPS, so the origin needs a name the load
    balancer holds a certificate for: by default `origin.<domain>`."""
    if v["originDomain"]:
        return str(v["originDomain"])
    return f"origin.{v['domain']}" if v["domain"] else ""
