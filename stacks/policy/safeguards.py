"""Stack rules for the architecture document's safeguards: network ACLs on every subnet, the
security logs (CloudTrail, GuardDuty) in prod, and prod's cross-region recovery copy.

A rule about something missing has no resource of its own to blame; it names the stack's root
resource when the caller has one (CrossGuard does), else the VPC. Such rules judge a whole
platform stack only (one with a VPC, or the root CrossGuard passes): a component checked on
its own, or a preview environment, lacks the trail by design.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from stacks.policy.facts import Context, dig, is_true, items, text

SUBNET = "aws:ec2/subnet:Subnet"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
DETECTOR_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
RDS_INSTANCE = "aws:rds/instance:Instance"
BACKUP_REPLICATION = ("aws:rds/instanceAutomatedBackupsReplication:"
                      "InstanceAutomatedBackupsReplication")
STACK = "pulumi:pulumi:Stack"
VPC = "aws:ec2/vpc:Vpc"
EKS_FEATURES = ("EKS_AUDIT_LOGS", "RUNTIME_MONITORING")
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})

Hit = tuple[Any, str]


def _is_prod_platform(resources: Sequence[Any], ctx: Context) -> bool:
    """A whole prod stack with a platform of its own (a preview has no VPC)."""
    if not any(r.type == VPC for r in resources):
        return False
    if ctx.environment is not None:
        return ctx.environment == "prod"
    return any(text(dig(r.inputs, "tags", "Environment")) == "prod" for r in resources)


def _anchor(resources: Sequence[Any]) -> Any:
    roots = [r for r in resources if r.type == STACK] or [r for r in resources if r.type == VPC]
    return roots[0]


def network_acls(resources: Sequence[Any], ctx: Context) -> Iterator[Hit]:
    """Every subnet in one of the stack's network ACLs, and no ACL allowing every protocol
    from anywhere (that is the default ACL's behaviour, the one the tiers replace)."""
    acls = [r for r in resources if r.type == NETWORK_ACL]
    covered = set().union(*(acl.points_at("subnetIds") for acl in acls))
    for subnet in (r for r in resources if r.type == SUBNET):
        if not subnet.identities() & covered:
            yield subnet, "subnet is in no network ACL of the stack: add it to its tier's ACL"
    for acl in acls:
        for rule in items(acl.inputs.get("ingress")):
            if (text(rule.get("protocol")) in ("-1", "all") and text(rule.get("action")) ==
                    "allow" and {rule.get("cidrBlock"), rule.get("ipv6CidrBlock")} & ANYWHERE):
                yield acl, (f"ingress rule {rule.get('ruleNo')} allows every protocol from "
                            "anywhere: name the ports the tier needs")


def prod_cloudtrail(resources: Sequence[Any], ctx: Context) -> Iterator[Hit]:
    if not _is_prod_platform(resources, ctx):
        return
    trails = [r for r in resources if r.type == TRAIL]
    if not trails:
        yield _anchor(resources), ("prod has no CloudTrail trail: set shop:cloudTrailEnabled "
                                   "true (a multi-region trail with log file validation, "
                                   "KMS-encrypted, to a locked bucket)")
    for trail in trails:
        inputs = trail.inputs
        wanted = [("isMultiRegionTrail", "record every region"),
                  ("enableLogFileValidation", "validate its log files")]
        for key, why in wanted:
            if not is_true(inputs.get(key)):
                yield trail, f"trail must {why}: set {key}: true"
        if not inputs.get("kmsKeyId"):
            yield trail, "trail must encrypt its log files with a KMS key: set kmsKeyId"
        if inputs.get("enableLogging") is not None and not is_true(inputs.get("enableLogging")):
            yield trail, "trail is not logging: set enableLogging: true"


def prod_guardduty(resources: Sequence[Any], ctx: Context) -> Iterator[Hit]:
    if not _is_prod_platform(resources, ctx):
        return
    detectors = [r for r in resources if r.type == DETECTOR]
    if not any(is_true(d.inputs.get("enable", True)) for d in detectors):
        yield _anchor(resources), ("prod has no enabled GuardDuty detector: set "
                                   "shop:guardDutyEnabled true")
        return
    enabled = {text(f.inputs.get("name")) for f in resources if f.type == DETECTOR_FEATURE
               and text(f.inputs.get("status")) == "ENABLED"}
    for feature in EKS_FEATURES:
        if feature not in enabled:
            yield detectors[0], (f"GuardDuty's EKS protection lacks {feature}: add a "
                                 f"DetectorFeature {feature} with status ENABLED")


def prod_cross_region_recovery(resources: Sequence[Any], ctx: Context) -> Iterator[Hit]:
    if not _is_prod_platform(resources, ctx):
        return
    replicated = set().union(*(r.points_at("sourceDbInstanceArn") for r in resources
                               if r.type == BACKUP_REPLICATION))
    for instance in (r for r in resources if r.type == RDS_INSTANCE):
        if instance.inputs.get("replicateSourceDb"):
            continue  # a read replica's backups are its source's
        if not instance.identities("identifier") & replicated:
            yield instance, ("prod database's automated backups stay in its region: set "
                             "shop:recoveryRegion to replicate them")
