"""The platform's rules, as plain functions over a resource's type and inputs.

One set of rules serves three callers: the CrossGuard pack in ``platform/policy`` (during
``pulumi preview``/``up``), ``python -m stacks plan`` (offline, over the mock engine's plan) and
the tests. Inputs are read as Pulumi sends them: camelCase keys (``storageEncrypted``) and
Kubernetes objects as ``metadata``/``spec``. A rule yields one message per violation; ``check``
turns messages into findings naming the resource.

Resource rules look at one resource. Stack rules look at the whole stack, for facts spread over
several resources (a bucket and its public access block, a load balancer and its security
group). A resource points at another by a name or id in an input, or by the URNs that input
was computed from (the plan's dependencies, CrossGuard's property dependencies);
``Resource.points_at`` gathers both, since an offline plan knows no real ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stacks.policy import access, facts, queues, safeguards, secrets, stateful, workloads
from stacks.policy.facts import Context, dig, is_true, items, text

__all__ = ["RULES", "Context", "Finding", "Resource", "ResourceRule", "StackRule", "blocking",
           "check", "report"]

Enforcement = Literal["mandatory", "advisory"]


@dataclass(frozen=True)
class Finding:
    policy: str
    urn: str
    name: str
    message: str
    enforcement: Enforcement


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str | None = None
    id: str | None = None
    # URNs of the resources this one's inputs came from. An offline plan knows them for the
    # resource as a whole; CrossGuard knows them per property, as `references`.
    dependencies: tuple[str, ...] = ()
    references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Pulumi's `protect` option; None where the caller cannot tell.
    protect: bool | None = None

    @classmethod
    def of(cls, record: Any) -> Resource:
        """A plan JSON resource, or a `stacks.plan.recorded.RecordedResource`."""
        if isinstance(record, Resource):
            return record
        if isinstance(record, Mapping):
            options = record.get("options") or {}
            return cls(urn=record["urn"], type=record["type"], name=record["name"],
                       inputs=record.get("inputs") or {}, parent=record.get("parent") or None,
                       id=record.get("id"), dependencies=tuple(options.get("dependencies", ())),
                       protect=bool(options.get("protect", False)))
        return cls(urn=record.urn, type=record.type, name=record.name, inputs=record.inputs,
                   parent=record.parent or None,
                   dependencies=tuple(record.options.dependencies),
                   protect=record.options.protect)

    def identities(self, *name_inputs: str) -> set[str]:
        """What another resource may use to point at this one."""
        names = {text(self.inputs.get(key)) for key in name_inputs}
        return {value for value in {self.urn, self.id, *names} if value}

    def points_at(self, prop: str) -> set[str]:
        """The ids or names in a property, and the URNs it was computed from."""
        values = {text(value) for value in items(self.inputs.get(prop))}
        urns = self.references.get(prop, self.dependencies)
        return {value for value in values if value} | set(urns)


ResourceCheck = Callable[[str, Mapping[str, Any], Context], Iterable[str]]
StackCheck = Callable[[Sequence[Resource], Context], Iterable[tuple[Resource, str]]]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    enforcement: Enforcement
    validate: ResourceCheck


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    enforcement: Enforcement
    validate: StackCheck


RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
BUCKET_ENCRYPTIONS = frozenset({
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
})
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                       "restrictPublicBuckets")
SSE_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOAD_BALANCERS = frozenset({"aws:lb/loadBalancer:LoadBalancer",
                            "aws:alb/loadBalancer:LoadBalancer"})
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ALB_SECURITY_GROUPS_ANNOTATION = "alb.ingress.kubernetes.io/security-groups"
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
PUBLIC_WEB_PORTS = frozenset({80, 443})
MIN_PROD_BACKUP_DAYS = 7
IMAGE_PATH = r"[a-z0-9]+(?:[._/-][a-z0-9]+)*"
IMAGE_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
EKS_SELF_MANAGED_NODES = frozenset({"eks:index:NodeGroup", "eks:index:NodeGroupV2"})


def _is_replica(inputs: Mapping[str, Any]) -> bool:
    return bool(inputs.get("replicateSourceDb"))


def rds_encrypted(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    # A read replica inherits its source's encryption; the source is checked on its own.
    if (type_ in (RDS_INSTANCE, RDS_CLUSTER) and not _is_replica(inputs)
            and not is_true(inputs.get("storageEncrypted"))):
        yield "storage is not encrypted at rest: set storageEncrypted: true"


def cache_encrypted(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if type_ == CACHE_REPLICATION_GROUP and not is_true(inputs.get("atRestEncryptionEnabled")):
        yield "data is not encrypted at rest: set atRestEncryptionEnabled: true"


def ebs_encrypted(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if type_ == "kubernetes:storage.k8s.io/v1:StorageClass":
        yield from workloads.storage_class_unencrypted(inputs)
    elif type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        for mapping in items(inputs.get("blockDeviceMappings")):
            if mapping.get("ebs") and not is_true(dig(mapping, "ebs", "encrypted")):
                yield f"volume {mapping.get('deviceName')} is not encrypted: set ebs.encrypted"
    elif type_ == "aws:ebs/volume:Volume" and not is_true(inputs.get("encrypted")):
        yield "volume is not encrypted: set encrypted: true"
    elif type_ == "aws:ec2/instance:Instance":
        devices = [inputs.get("rootBlockDevice") or {}, *items(inputs.get("ebsBlockDevices"))]
        if not all(is_true(device.get("encrypted")) for device in devices):
            yield "an instance volume is not encrypted: set encrypted on every block device"
    elif _runs_own_nodes(type_, inputs) and not is_true(inputs.get("nodeRootVolumeEncrypted")):
        yield "node root volumes are not encrypted: set nodeRootVolumeEncrypted: true"


def _runs_own_nodes(type_: str, inputs: Mapping[str, Any]) -> bool:
    """pulumi-eks node groups, and clusters with their default node group (pulumi-eks skips
    it for Fargate and Auto Mode)."""
    if type_ == "eks:index:Cluster":
        return not (is_true(inputs.get("skipDefaultNodeGroup")) or inputs.get("fargate")
                    or is_true(dig(inputs, "autoMode", "enabled")))
    return type_ in EKS_SELF_MANAGED_NODES


def no_public_database(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if type_ in (RDS_INSTANCE, RDS_CLUSTER_INSTANCE) and is_true(inputs.get("publiclyAccessible")):
        yield "database is publicly accessible: set publiclyAccessible: false"


def _environment(inputs: Mapping[str, Any], ctx: Context) -> str | None:
    return ctx.environment or text(dig(inputs, "tags", "Environment"))


def prod_database_resilience(type_: str, inputs: Mapping[str, Any],
                             ctx: Context) -> Iterator[str]:
    if type_ not in (RDS_INSTANCE, RDS_CLUSTER) or _environment(inputs, ctx) != "prod":
        return
    if not is_true(inputs.get("deletionProtection")):
        yield "prod database lacks deletion protection: set deletionProtection: true"
    if _is_replica(inputs):
        return  # a replica's backups and standby are its source's
    if type_ == RDS_INSTANCE and not is_true(inputs.get("multiAz")):
        yield "prod database is single-AZ: set multiAz: true"
    days = inputs.get("backupRetentionPeriod")
    if not isinstance(days, int | float) or days < MIN_PROD_BACKUP_DAYS:
        yield (f"prod database keeps backups {days if days is not None else 'the AWS default 1'}"
               f" day(s): set backupRetentionPeriod >= {MIN_PROD_BACKUP_DAYS}")


def s3_encrypted(resources: Sequence[Resource], ctx: Context) -> Iterator[tuple[Resource, str]]:
    configs = [r for r in resources if r.type in BUCKET_ENCRYPTIONS]
    for config in configs:
        algorithms = {text(dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm"))
                      for rule in items(config.inputs.get("rules"))}
        if not algorithms or not algorithms <= SSE_ALGORITHMS:
            yield config, f"encryption rules must use {' or '.join(sorted(SSE_ALGORITHMS))}"
    covered = set().union(*(config.points_at("bucket") for config in configs))
    for bucket in (r for r in resources if r.type in BUCKETS):
        inline = bucket.inputs.get("serverSideEncryptionConfiguration")
        if not inline and not bucket.identities("bucket") & covered:
            yield bucket, ("bucket declares no server-side encryption: add a "
                           "BucketServerSideEncryptionConfiguration for it")


def _blocks_everything(resource: Resource) -> bool:
    return all(is_true(resource.inputs.get(flag)) for flag in PUBLIC_ACCESS_FLAGS)


def s3_public_access_blocked(resources: Sequence[Resource],
                             ctx: Context) -> Iterator[tuple[Resource, str]]:
    account_wide = any(r.type == ACCOUNT_PUBLIC_ACCESS_BLOCK and _blocks_everything(r)
                       for r in resources)
    blocks = [r for r in resources if r.type == BUCKET_PUBLIC_ACCESS_BLOCK]
    for block in blocks:
        if not _blocks_everything(block):
            yield block, f"public access block must set all of {', '.join(PUBLIC_ACCESS_FLAGS)}"
    blocked = set().union(*(b.points_at("bucket") for b in blocks if _blocks_everything(b)))
    for bucket in (r for r in resources if r.type in BUCKETS):
        if not account_wide and not bucket.identities("bucket") & blocked:
            yield bucket, "bucket has no BucketPublicAccessBlock with all four flags true"


def _load_balancer_groups(resources: Sequence[Resource]) -> set[str]:
    """Every id, name and URN of the security groups the load balancers use."""
    referenced = _load_balancer_references(resources)
    groups = [_group_identities(r) for r in resources if r.type == SECURITY_GROUP]
    return referenced.union(*(group for group in groups if group & referenced))


def _load_balancer_references(resources: Sequence[Resource]) -> set[str]:
    """How load balancers (or ALB Ingresses) point at their groups: ids, names or URNs."""
    groups: set[str] = set()
    for resource in resources:
        if resource.type in LOAD_BALANCERS:
            groups |= resource.points_at("securityGroups")
        elif resource.type == INGRESS:
            listed = text(dig(resource.inputs, "metadata", "annotations",
                              ALB_SECURITY_GROUPS_ANNOTATION)) or ""
            named = {group.strip() for group in listed.split(",") if group.strip()}
            # The annotation's ids are outputs of the groups the Ingress depends on.
            groups |= named | (set(resource.dependencies) if named else set())
    return groups


def _group_identities(group: Resource) -> set[str]:
    # The ALB controller's annotation may name a group by its Name tag instead of its id.
    name_tag = text(dig(group.inputs, "tags", "Name"))
    return group.identities("name") | ({name_tag} if name_tag else set())


def _open_ingress(resource: Resource) -> Iterator[Mapping[str, Any]]:
    """Ingress permissions of a group or rule resource that admit the whole internet, as
    {protocol, fromPort, toPort}."""
    inputs = resource.inputs
    if resource.type == SECURITY_GROUP:
        for rule in items(inputs.get("ingress")):
            if ANYWHERE & {*items(rule.get("cidrBlocks")), *items(rule.get("ipv6CidrBlocks"))}:
                yield rule
    elif resource.type == SECURITY_GROUP_RULE and inputs.get("type") == "ingress":
        if ANYWHERE & {*items(inputs.get("cidrBlocks")), *items(inputs.get("ipv6CidrBlocks"))}:
            yield inputs
    elif (resource.type == SECURITY_GROUP_INGRESS_RULE
          and ANYWHERE & {inputs.get("cidrIpv4"), inputs.get("cidrIpv6")}):
        yield {**inputs, "protocol": inputs.get("ipProtocol")}


def _is_public_web(permission: Mapping[str, Any]) -> bool:
    port = permission.get("fromPort")
    return (text(permission.get("protocol")) in ("tcp", "6") and port == permission.get("toPort")
            and port in PUBLIC_WEB_PORTS)


def no_open_ingress(resources: Sequence[Resource],
                    ctx: Context) -> Iterator[tuple[Resource, str]]:
    lb_groups = _load_balancer_groups(resources)
    for resource in resources:
        group_ids = (_group_identities(resource) if resource.type == SECURITY_GROUP
                     else resource.points_at("securityGroupId"))
        for permission in _open_ingress(resource):
            if _is_public_web(permission) and group_ids & lb_groups:
                continue
            ports = f"{permission.get('fromPort')}-{permission.get('toPort')}"
            yield resource, (f"ingress {permission.get('protocol')} {ports} is open to the "
                             "internet; only 80/443 on the load balancer's group may be")


def required_tags(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if facts.is_taggable(type_):
        missing = facts.missing_tags(inputs.get("tags"))
        if missing:
            yield f"missing required tags: {', '.join(missing)}"


def allowed_instance_types(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for instance_type in facts.instance_types(type_, inputs):
        if instance_type not in ctx.allowed_instance_types:
            yield f"instance type {instance_type} is not in the allowed list"


def images_from_stack_registry(type_: str, inputs: Mapping[str, Any],
                               ctx: Context) -> Iterator[str]:
    host = re.escape(ctx.registry_host) if ctx.registry_host else facts.ECR_HOST
    pinned = re.compile(rf"{host}/{IMAGE_PATH}(?::{IMAGE_TAG})?@sha256:[0-9a-f]{{64}}")
    for container in workloads.containers(type_, inputs):
        image = text(container.get("image")) or ""
        if not pinned.fullmatch(image):
            yield (f"container {container.get('name')} image {image!r} is not from the stack's"
                   " ECR by digest (<registry>/<repository>@sha256:<digest>)")


RULES: tuple[ResourceRule | StackRule, ...] = (
    ResourceRule("rds-encrypted", "RDS instances and clusters encrypt storage at rest.",
                 "mandatory", rds_encrypted),
    ResourceRule("elasticache-encrypted", "ElastiCache replication groups encrypt data at rest.",
                 "mandatory", cache_encrypted),
    StackRule("s3-encrypted", "Every S3 bucket declares server-side encryption.",
              "mandatory", s3_encrypted),
    ResourceRule("ebs-encrypted", "EBS volumes, launch templates, node groups and EBS "
                 "StorageClasses encrypt at rest.", "mandatory", ebs_encrypted),
    ResourceRule("no-public-database", "No database is publicly accessible (ElastiCache has no "
                 "public endpoint; its reachability is no-open-ingress's concern).",
                 "mandatory", no_public_database),
    StackRule("s3-public-access-blocked", "Every S3 bucket has a public access block with all "
              "four flags true.", "mandatory", s3_public_access_blocked),
    StackRule("no-open-ingress", "No security group admits 0.0.0.0/0 or ::/0, except TCP 80 "
              "and 443 on the load balancer's group.", "mandatory", no_open_ingress),
    ResourceRule("prod-database-resilience", "Prod databases are multi-AZ, deletion-protected "
                 f"and keep at least {MIN_PROD_BACKUP_DAYS} days of backups.",
                 "mandatory", prod_database_resilience),
    ResourceRule("rds-password-managed", "RDS manages database master passwords in Secrets "
                 "Manager under a customer KMS key; no password is an input (state, plan).",
                 "mandatory", secrets.rds_password_managed),
    ResourceRule("sqs-encrypted", "SQS queues encrypt messages at rest.", "mandatory",
                 queues.sqs_encrypted),
    ResourceRule("containers-non-root", "Containers run as non-root (runAsNonRoot).",
                 "mandatory", workloads.non_root),
    ResourceRule("containers-resource-limits", "Containers declare CPU and memory limits.",
                 "mandatory", workloads.resource_limits),
    ResourceRule("containers-unprivileged", "No container runs privileged.",
                 "mandatory", workloads.unprivileged),
    ResourceRule("images-from-stack-ecr", "Images come from the stack's ECR, pinned by digest.",
                 "mandatory", images_from_stack_registry),
    ResourceRule("required-tags", "Taggable AWS resources carry Project, Environment, Owner "
                 "and CostCenter.", "mandatory", required_tags),
    ResourceRule("prod-cluster-access", "A prod cluster grants EKS access entries to an admin "
                 "role and a distinct deploy role.", "mandatory", access.prod_cluster_access),
    StackRule("prod-stateful-protected", "In prod every stateful resource (databases, cache, "
              "buckets, KMS keys, the cluster) carries Pulumi's protect option, unless "
              f"{stateful.SETTING} lifts it.", "mandatory", stateful.unprotected_in_prod),
    ResourceRule("allowed-instance-types", "Instance types come from the allowed list.",
                 "advisory", allowed_instance_types),
    # The architecture document's safeguards (stacks/policy/safeguards.py).
    StackRule("network-acls", "Every subnet is in a network ACL of the stack, and none admits "
              "every protocol from anywhere.", "mandatory", safeguards.network_acls),
    StackRule("prod-cloudtrail", "Prod has a multi-region CloudTrail trail with log file "
              "validation, encrypted with KMS.", "mandatory", safeguards.prod_cloudtrail),
    StackRule("prod-guardduty", "Prod has GuardDuty with EKS audit logs and runtime "
              "monitoring.", "mandatory", safeguards.prod_guardduty),
    StackRule("prod-cross-region-recovery", "Prod replicates its database's automated "
              "backups to a second region.", "advisory", safeguards.prod_cross_region_recovery),
)


def check(resources: Iterable[Any], context: Context | None = None) -> list[Finding]:
    """Every rule over a stack's resources: plan JSON dicts, recorded resources or Resource."""
    ctx = context or Context()
    stack = [Resource.of(record) for record in resources]
    findings: list[Finding] = []
    for rule in RULES:
        if isinstance(rule, StackRule):
            hits = list(rule.validate(stack, ctx))
        else:
            hits = [(r, message) for r in stack for message in rule.validate(r.type, r.inputs, ctx)]
        findings += [Finding(rule.name, r.urn, r.name, message, rule.enforcement)
                     for r, message in hits]
    return findings


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.enforcement == "mandatory"]


def report(findings: Sequence[Finding]) -> str:
    """Findings for a terminal, mandatory first, ending with a count line."""
    ordered = sorted(findings, key=lambda f: (f.enforcement != "mandatory", f.policy, f.name))
    lines = [f"[{f.enforcement}] {f.policy}: {f.name}: {f.message}" for f in ordered]
    mandatory = len(blocking(findings))
    lines.append(f"policy: {mandatory} mandatory, {len(findings) - mandatory} advisory finding(s)")
    return "\n".join(lines)
