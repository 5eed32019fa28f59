"""The EKS cluster: pulumi-eks for the control plane, a managed node group we own, and a
Kubernetes provider for the workloads.

pulumi-eks's `Cluster` is a multi-language component: its children (the aws.eks.Cluster, its
IAM role, security groups, OIDC provider, access entries) are created by the eks plugin, so
under the mock engine and in `python -m stacks plan` it shows as one resource with its inputs.
The node group, its launch template and role are plain pulumi-aws resources here, so every
input that matters (scaling, IMDSv2, encrypted volumes, ignored desired size) is visible.

Nodes block pods from the instance metadata service (hop limit 1): pods get AWS credentials
through IRSA only, so add-ons must be told their region and VPC instead of discovering them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components import cluster_access
from components.architecture import ami_type_for, image_platforms
from components.arg_checks import (
    require_items,
    require_pattern,
    require_range,
    require_tags,
    with_name,
)
from components.irsa import OidcProvider
from components.log_groups import require_retention, retained_log_group
from components.policies_json import service_assume_role_policy

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly",
                 "AmazonEKS_CNI_Policy")
CLUSTER_ADMIN_POLICY = cluster_access.CLUSTER_ADMIN_POLICY
# The autoscaler owns the desired size once the group exists; Pulumi must not reset it.
IGNORED_NODE_GROUP_CHANGES = ("scalingConfig.desiredSize",)
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_VERSION = re.compile(r"1\.\d{2}")
_INSTANCE_TYPE = re.compile(r"(?P<family>[a-z]+)(?P<generation>\d+)(?P<options>[a-z-]*)\.[a-z0-9]+")
_ROLE_ARN = re.compile(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+")


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str  # known up front: the subnets carry it in their discovery tags
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    kubernetes_version: str
    tags: Mapping[str, str]
    node_instance_type: str = "t3.medium"
    node_min_size: int = 1
    node_desired_size: int = 2
    node_max_size: int = 3
    node_disk_size_gb: int = 50
    # Empty: the API endpoint is reachable from inside the VPC only.
    public_access_cidrs: Sequence[str] = ()
    # Empty: only the identity that created the cluster administers it. Prod requires both
    # (stacks/settings): its endpoint is private, so nobody else could ever reach the API.
    admin_role_arn: str = ""
    # The role CI runs `pulumi up` with, when it differs from the cluster's creator.
    deploy_role_arn: str = ""
    log_types: Sequence[str] = LOG_TYPES
    log_retention_days: int = 90
    deletion_protection: bool = False


def validate(args: ClusterArgs) -> None:
    require_tags(args.tags)
    require_pattern("cluster_name", args.cluster_name, _CLUSTER_NAME,
                    "letters, digits, _ and -, at most 100")
    require_pattern("kubernetes_version", args.kubernetes_version, _VERSION,
                    "a pinned minor version like '1.33'")
    require_items("private_subnet_ids", args.private_subnet_ids, minimum=2)
    require_pattern("node_instance_type", args.node_instance_type, _INSTANCE_TYPE,
                    "an EC2 instance type like 't3.medium'")
    image_platforms([args.node_instance_type])  # refuses a type no EKS node can be
    require_range("node_min_size", args.node_min_size, 1, 100)
    require_range("node_max_size", args.node_max_size, args.node_min_size, 100)
    require_range("node_desired_size", args.node_desired_size, args.node_min_size,
                  args.node_max_size)
    require_range("node_disk_size_gb", args.node_disk_size_gb, 20, 1000)
    for cidr in args.public_access_cidrs:
        try:
            ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"public_access_cidrs must hold IPv4 CIDRs like '203.0.113.0/24', "
                             f"got {cidr!r}") from None
    for field_name in ("admin_role_arn", "deploy_role_arn"):
        if getattr(args, field_name):
            require_pattern(field_name, getattr(args, field_name), _ROLE_ARN,
                            "an IAM role ARN like 'arn:aws:iam::123456789012:role/admin'")
    unknown = sorted(set(args.log_types) - set(LOG_TYPES))
    if unknown:
        raise ValueError(f"log_types must be among {', '.join(LOG_TYPES)}, got {unknown}")
    require_retention("log_retention_days", args.log_retention_days)


def access_entries(admin_role_arn: str, deploy_role_arn: str = ""
                   ) -> dict[str, eks.AccessEntryArgs]:
    """The EKS access entries of the admin and deploy roles (components/cluster_access.py says
    why each gets the policy it gets)."""
    return {key: eks.AccessEntryArgs(
        principal_arn=grant.principal_arn,
        type=eks.AccessEntryType.STANDARD,
        access_policies={grant.association_key: eks.AccessPolicyAssociationArgs(
            policy_arn=grant.policy_arn,
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type=grant.scope),
        )},
    ) for key, grant in cluster_access.grants(admin_role_arn, deploy_role_arn).items()}


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    node_security_group_id: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    oidc: OidcProvider
    secrets_key_arn: pulumi.Output[str]
    # "linux/amd64", "linux/arm64" or both: what the images must be built for to run on the nodes.
    image_platforms: tuple[str, ...]

    def __init__(self, name: str, args: ClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:cluster:Cluster", name, None, opts)
        self._name, self._args = name, args

        key = self._secrets_key()
        log_group = retained_log_group(
            f"{name}-control-plane-logs", f"/aws/eks/{args.cluster_name}/cluster",
            args.log_retention_days, args.tags, self)
        control_plane = self._control_plane(key, log_group)
        node_role = self._node_role()
        node_group = self._node_group(control_plane, node_role)
        coredns = aws.eks.Addon(
            f"{name}-coredns", cluster_name=node_group.cluster_name, addon_name="coredns",
            resolve_conflicts_on_create="OVERWRITE",
            tags=with_name(args.tags, f"{name}-coredns"),
            # CoreDNS can only become healthy once nodes exist to run it.
            opts=self._child(depends_on=[node_group]))

        self.cluster_name = node_group.cluster_name
        self.kubeconfig = pulumi.Output.secret(control_plane.kubeconfig_json)
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig,
            # Workloads wait for nodes and DNS, not just for the API.
            opts=self._child(depends_on=[node_group, coredns]))
        self.node_security_group_id = control_plane.node_security_group_id
        self.cluster_security_group_id = control_plane.cluster_security_group_id
        self.node_role_arn = node_role.arn
        self.oidc_provider_arn = control_plane.oidc_provider_arn
        self.oidc_provider_url = control_plane.oidc_provider_url
        self.oidc = OidcProvider(arn=self.oidc_provider_arn, issuer_url=self.oidc_provider_url)
        self.secrets_key_arn = key.arn
        self.image_platforms = image_platforms([args.node_instance_type])
        self.register_outputs({
            "image_platforms": list(self.image_platforms),
            "cluster_name": self.cluster_name,
            "kubeconfig": self.kubeconfig,
            "node_security_group_id": self.node_security_group_id,
            "cluster_security_group_id": self.cluster_security_group_id,
            "node_role_arn": self.node_role_arn,
            "oidc_provider_arn": self.oidc_provider_arn,
            "oidc_provider_url": self.oidc_provider_url,
            "secrets_key_arn": self.secrets_key_arn,
        })

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _secrets_key(self) -> aws.kms.Key:
        """Envelope encryption of Kubernetes secrets in etcd."""
        name, args = self._name, self._args
        key = aws.kms.Key(
            f"{name}-secrets", description=f"Encrypts Kubernetes secrets of {args.cluster_name}",
            enable_key_rotation=True, deletion_window_in_days=30,
            tags=with_name(args.tags, f"{name}-secrets"), opts=self._child())
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{args.cluster_name}-secrets",
                      target_key_id=key.key_id, opts=self._child())
        return key

    def _control_plane(self, key: aws.kms.Key, log_group: aws.cloudwatch.LogGroup) -> eks.Cluster:
        name, args = self._name, self._args
        public = bool(args.public_access_cidrs)
        return eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=public,
            public_access_cidrs=list(args.public_access_cidrs) if public else None,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries(args.admin_role_arn, args.deploy_role_arn),
            create_oidc_provider=True,
            encryption_config_key_arn=key.arn,
            enabled_cluster_log_types=list(args.log_types),
            skip_default_node_group=True,
            node_associate_public_ip_address=False,
            # The VPC CNI ships with its network policy agent off: NetworkPolicy objects would
            # be accepted and enforce nothing. pulumi-eks installs vpc-cni as an EKS add-on
            # with these options (CoreDNS, which it skips without a default node group, is
            # ours below, once the nodes exist).
            use_default_vpc_cni=False,
            vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=True),
            deletion_protection=args.deletion_protection,
            tags=with_name(args.tags, args.cluster_name),
            # EKS would create the log group itself, keeping logs forever.
            opts=self._child(depends_on=[log_group]))

    def _node_role(self) -> aws.iam.Role:
        name, args = self._name, self._args
        role = aws.iam.Role(
            f"{name}-nodes", description=f"The nodes of {args.cluster_name}",
            assume_role_policy=service_assume_role_policy("ec2.amazonaws.com"),
            tags=with_name(args.tags, f"{name}-nodes"), opts=self._child())
        self._node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{policy}", role=role.name,
                policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=self._child())
            for policy in NODE_POLICIES
        ]
        return role

    def _launch_template(self, control_plane: eks.Cluster) -> aws.ec2.LaunchTemplate:
        name, args = self._name, self._args
        node_tags = with_name(args.tags, f"{args.cluster_name}-node")
        return aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"Nodes of {args.cluster_name}: IMDSv2 only, encrypted gp3 root volume",
            update_default_version=True,
            vpc_security_group_ids=[control_plane.node_security_group_id],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required",
                http_put_response_hop_limit=1),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=args.node_disk_size_gb, volume_type="gp3", encrypted="true",
                    delete_on_termination="true"))],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=node_tags)
                for kind in ("instance", "volume")],
            tags=with_name(args.tags, f"{name}-nodes"), opts=self._child())

    def _node_group(self, control_plane: eks.Cluster, role: aws.iam.Role) -> aws.eks.NodeGroup:
        name, args = self._name, self._args
        template = self._launch_template(control_plane)
        return aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=args.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=args.private_subnet_ids,
            version=args.kubernetes_version,
            ami_type=ami_type_for(args.node_instance_type),
            capacity_type="ON_DEMAND",
            instance_types=[args.node_instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.node_min_size, desired_size=args.node_desired_size,
                max_size=args.node_max_size),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)),
            tags={**with_name(args.tags, f"{name}-nodes"),
                  # What the cluster autoscaler discovers its groups by.
                  "k8s.io/cluster-autoscaler/enabled": "true",
                  f"k8s.io/cluster-autoscaler/{args.cluster_name}": "owned"},
            opts=self._child(depends_on=[control_plane, *self._node_policies],
                             ignore_changes=list(IGNORED_NODE_GROUP_CHANGES)))
