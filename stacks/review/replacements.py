"""Which property changes make the engine delete a resource and create it again.

The AWS provider marks such properties ForceNew (AWS cannot change them in place: a subnet's
CIDR, an RDS identifier, a bucket's name); the Kubernetes provider replaces an object whose
name, namespace or immutable fields change, and by default a ConfigMap or Secret whose data
changes. The table covers the types this program creates; a resource's own
`replaceOnChanges` option counts too. Paths are property paths as the diff prints them
(`metadata.name`, `spec.selector`): a rule matches the path itself and everything below it.

Two sources make the table: what the installed provider SDKs say (provider_sdk.py derives it,
provider_sdk.json records it with the SDK versions, a test re-derives it), and the hand entries
below for what the SDKs leave unsaid (most AWS ForceNew inputs are not in pulumi-aws's docs;
pulumi-kubernetes and pulumi-eks say nothing). A hand entry the SDK states as well is redundant:
a test fails on one, so the hand table only keeps what no SDK says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

ANY = "*"

_S3_BUCKET = ("bucket", "bucketPrefix", "expectedBucketOwner", "objectLockEnabled")

HAND: Mapping[str, tuple[str, ...]] = {
    "aws:acm/certificate:Certificate": (
        "domainName", "subjectAlternativeNames", "keyAlgorithm", "certificateAuthorityArn"),
    "aws:acm/certificateValidation:CertificateValidation": (
        "certificateArn", "validationRecordFqdns"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("vpcId",),
    "aws:ec2/eip:Eip": ("domain", "networkBorderGroup", "publicIpv4Pool"),
    "aws:ec2/flowLog:FlowLog": (
        "vpcId", "subnetId", "eniId", "transitGatewayId", "logDestination",
        "logDestinationType", "logGroupName", "iamRoleArn", "trafficType",
        "maxAggregationInterval", "logFormat", "destinationOptions",
        "deliverCrossAccountRole"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "aws:ec2/natGateway:NatGateway": (
        "allocationId", "subnetId", "connectivityType", "privateIp"),
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId", "gatewayId"),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "vpcId"),
    "aws:ec2/subnet:Subnet": (
        "vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"),
    "aws:ec2/vpc:Vpc": ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("repository",),
    "aws:ecr/repository:Repository": ("name", "encryptionConfigurations"),
    "aws:eks/addon:Addon": ("clusterName", "addonName"),
    "aws:eks/nodeGroup:NodeGroup": (
        "clusterName", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "subnetIds",
        "amiType", "capacityType", "diskSize", "instanceTypes", "remoteAccess"),
    "aws:elasticache/parameterGroup:ParameterGroup": ("name", "family", "description"),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "replicationGroupId", "atRestEncryptionEnabled", "subnetGroupName", "kmsKeyId", "port",
        "snapshotArns"),
    "aws:elasticache/subnetGroup:SubnetGroup": ("name",),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    "aws:kms/key:Key": (
        "customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
    "aws:rds/instance:Instance": (
        "identifier", "identifierPrefix", "engine", "kmsKeyId", "dbSubnetGroupName",
        "storageEncrypted", "availabilityZone", "username", "dbName", "characterSetName",
        "ncharCharacterSetName", "timezone", "snapshotIdentifier", "restoreToPointInTime",
        "s3Import"),
    "aws:rds/parameterGroup:ParameterGroup": ("name", "namePrefix", "family", "description"),
    "aws:rds/subnetGroup:SubnetGroup": ("name", "namePrefix"),
    "aws:route53/record:Record": ("zoneId", "name", "setIdentifier"),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    "aws:secretsmanager/secretVersion:SecretVersion": (
        "secretId", "secretString", "secretBinary"),
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("securityGroupId",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("securityGroupId",),
    "aws:wafv2/webAcl:WebAcl": ("name", "namePrefix", "scope"),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ("resourceArn", "webAclArn"),
    # pulumi-eks's Cluster: a new name is a new EKS cluster; so is another VPC or other subnets
    # (its security group's vpcId and the EKS cluster's vpcConfig force replacement).
    "eks:index:Cluster": ("name", "vpcId", "subnetIds", "privateSubnetIds", "publicSubnetIds"),
    "kubernetes:apps/v1:DaemonSet": ("spec.selector",),
    "kubernetes:apps/v1:Deployment": ("spec.selector",),
    "kubernetes:apps/v1:StatefulSet": (
        "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates",
        "spec.podManagementPolicy"),
    "kubernetes:batch/v1:Job": (
        "spec.selector", "spec.template", "spec.completions", "spec.completionMode"),
    "kubernetes:core/v1:ConfigMap": ("data", "binaryData"),
    "kubernetes:core/v1:PersistentVolumeClaim": (
        "spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName",
        "spec.volumeMode"),
    "kubernetes:core/v1:Secret": ("data", "stringData", "type"),
    "kubernetes:core/v1:Service": ("spec.clusterIP", "spec.clusterIPs"),
    "kubernetes:helm.sh/v3:Release": ("name", "namespace"),
    "kubernetes:storage.k8s.io/v1:StorageClass": (
        "provisioner", "parameters", "reclaimPolicy", "volumeBindingMode", "mountOptions"),
}

SDK_TABLE = Path(__file__).with_name("provider_sdk.json")


def _recorded_sdk_table() -> dict[str, tuple[str, ...]]:
    recorded = json.loads(SDK_TABLE.read_text(encoding="utf-8"))
    return {token: tuple(entry["forces"]) for token, entry in recorded["types"].items()}


SDK: Mapping[str, tuple[str, ...]] = _recorded_sdk_table()
FORCE_NEW: Mapping[str, tuple[str, ...]] = {
    token: tuple(dict.fromkeys((*SDK.get(token, ()), *HAND.get(token, ()))))
    for token in sorted(HAND.keys() | SDK.keys())
}


def covered_types() -> list[str]:
    """Every type the hand table covers: the ones whose SDK entries are derived."""
    return sorted(HAND)


# Rules for whole families of types, by type prefix.
FORCE_NEW_BY_PREFIX: tuple[tuple[str, tuple[str, ...]], ...] = (
    # The bucket and every per-bucket resource (policy, encryption, versioning, ...).
    ("aws:s3/bucket", _S3_BUCKET),
    ("kubernetes:", ("metadata.name", "metadata.namespace")),
    # Random values are generated once: any change to their inputs is a new value.
    ("random:", (ANY,)),
)


def replacement_paths(type_: str) -> tuple[str, ...]:
    """Every property path whose change replaces a resource of this type."""
    paths = list(FORCE_NEW.get(type_, ()))
    for prefix, prefixed in FORCE_NEW_BY_PREFIX:
        if type_.startswith(prefix):
            paths.extend(prefixed)
    return tuple(paths)


def forces_replacement(type_: str, path: str, replace_on_changes: Iterable[str] = ()) -> bool:
    """Whether a change at `path` (e.g. `cidrBlock`, `spec.selector.matchLabels.app`) makes
    the engine replace the resource."""
    return any(_covers(rule, path)
               for rule in (*replacement_paths(type_), *replace_on_changes))


def _covers(rule: str, path: str) -> bool:
    if rule == ANY:
        return True
    return path == rule or path.startswith((f"{rule}.", f"{rule}["))
