"""Karpenter, the node autoscaler prod may choose instead of the Cluster Autoscaler
(shop:nodeAutoscaler), as EKS Blueprints set it up:

- the controller's IAM role (IRSA or Pod Identity, as the stack's roles are) with
  karpenter_policies.controller_policy, and the nodes' role with an EC2_LINUX access entry so
  the nodes it launches may join;
- the interruption queue (SQS, encrypted, TLS only) fed by EventBridge rules for spot
  interruptions, rebalance recommendations, instance state changes and scheduled changes;
- the chart (from its OCI registry, pinned), then its NodePool and EC2NodeClass (their CRDs
  come with the chart); the node class finds the private subnets and the node security group
  by the `karpenter.sh/discovery` tag this component puts on them.

Karpenter's controller runs on the managed node group, which stays as the system capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import karpenter_policies as policies
from components.arg_checks import require_range, require_tags, with_name
from components.helm_charts import KARPENTER
from components.irsa import IrsaRoleArgs, OidcProvider, irsa_role, partition_of, role_annotations
from components.policies_json import service_assume_role_policy

# The chart is pinned in components/helm_charts.py (KARPENTER); at that version the CRDs are
# NodePool karpenter.sh/v1 and EC2NodeClass karpenter.k8s.aws/v1.
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
DISCOVERY_TAG = "karpenter.sh/discovery"
NODE_CLASS = "default"
NODE_POOL = "default"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                 "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore")
ARCHITECTURES = ("amd64", "arm64")
CAPACITY_TYPES = ("spot", "on-demand")


@dataclass(frozen=True)
class KarpenterArgs:
    cluster_name: pulumi.Input[str]
    region: str
    oidc: OidcProvider
    private_subnet_ids: pulumi.Input[Sequence[str]]
    # How many private subnets (one per AZ): each gets the discovery tag.
    private_subnet_count: int
    node_security_group_id: pulumi.Input[str]
    tags: Mapping[str, str]
    architectures: tuple[str, ...] = ("amd64",)
    capacity_types: tuple[str, ...] = CAPACITY_TYPES
    instance_categories: tuple[str, ...] = ("c", "m", "r")
    # The most vCPUs the NodePool may hold at once: a bound on cost.
    cpu_limit: int = 64
    consolidate_after: str = "1m"
    # Nodes are replaced at least this often, so they pick up new AMIs.
    expire_after: str = "720h"


def validate(args: KarpenterArgs) -> None:
    require_tags(args.tags)
    require_range("private_subnet_count", args.private_subnet_count, 1, 6)
    require_range("cpu_limit", args.cpu_limit, 2, 10000)
    for field, values, allowed in (("architectures", args.architectures, ARCHITECTURES),
                                   ("capacity_types", args.capacity_types, CAPACITY_TYPES)):
        if not values or not set(values) <= set(allowed):
            raise ValueError(f"{field} must be a non-empty subset of {', '.join(allowed)}, "
                             f"got {list(values)!r}")


def chart_values(cluster_name: pulumi.Input[str], queue_name: pulumi.Input[str],
                 role_arn: pulumi.Input[str], oidc: OidcProvider) -> dict[str, Any]:
    """Keys of the chart's values.yaml at the version components/helm_charts.py pins."""
    return {
        "settings": {"clusterName": cluster_name, "interruptionQueue": queue_name},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT,
                           "annotations": role_annotations(oidc, role_arn, regional=False)},
        "replicas": 2,
        "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
        "controller": {"resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                                     "limits": {"cpu": "1", "memory": "1Gi"}}},
    }


def node_class_spec(node_role: str, cluster_name: str, tags: Mapping[str, str]
                    ) -> dict[str, Any]:
    discovery = [{"tags": {DISCOVERY_TAG: cluster_name}}]
    return {
        "role": node_role,
        "amiSelectorTerms": [{"alias": "al2023@latest"}],
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        # As the managed nodes: IMDSv2 only, pods cannot reach the node's credentials.
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                            "httpPutResponseHopLimit": 1, "httpProtocolIPv6": "disabled"},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
            "volumeSize": "50Gi", "volumeType": "gp3", "encrypted": True,
            "deleteOnTermination": True}}],
        "tags": dict(tags),
    }


def node_pool_spec(args: KarpenterArgs) -> dict[str, Any]:
    def requirement(key: str, values: Sequence[str]) -> dict[str, Any]:
        return {"key": key, "operator": "In", "values": list(values)}

    return {
        "template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                             "name": NODE_CLASS},
            "requirements": [
                requirement("kubernetes.io/arch", args.architectures),
                requirement("karpenter.sh/capacity-type", args.capacity_types),
                requirement("karpenter.k8s.aws/instance-category", args.instance_categories),
                {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt",
                 "values": ["4"]},
            ],
            "expireAfter": args.expire_after,
        }},
        "limits": {"cpu": str(args.cpu_limit)},
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized",
                       "consolidateAfter": args.consolidate_after},
    }



def _nth(index: int) -> Callable[[Sequence[str]], str]:
    """The `index`th of a list, for an apply (a lambda in a loop would see the last index)."""
    return lambda values: values[index]


def _aws_managed_policy_arn(policy: str) -> Callable[[str], str]:
    """The ARN of the AWS managed `policy` in a partition, for an apply."""
    return lambda partition: f"arn:{partition}:iam::aws:policy/{policy}"


class Karpenter(pulumi.ComponentResource):
    """Outputs: `controller_role_arn`, `node_role_name`, `queue_name`."""

    controller_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    queue_name: pulumi.Output[str]

    def __init__(self, name: str, args: KarpenterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:karpenter:Karpenter", name, None, opts)
        self._name, self._args = name, args
        self._discovery_tags()
        node_role = self._node_role()
        queue = self._interruption_queue()
        role = self._controller_role(node_role, queue)
        release = k8s.helm.v3.Release(
            f"{name}-chart",
            k8s.helm.v3.ReleaseArgs(
                name="karpenter", chart=KARPENTER.reference, version=KARPENTER.version,
                namespace=NAMESPACE,
                values=chart_values(args.cluster_name, queue.name, role.arn, args.oidc),
                atomic=True, cleanup_on_fail=True, max_history=5, timeout=600),
            opts=self._child())
        self._node_pool(node_role, release)

        self.controller_role_arn = role.arn
        self.node_role_name = node_role.name
        self.queue_name = queue.name
        self.register_outputs({"controller_role_arn": self.controller_role_arn,
                               "node_role_name": self.node_role_name,
                               "queue_name": self.queue_name})

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    def _discovery_tags(self) -> None:
        args = self._args
        ids = pulumi.Output.from_input(args.private_subnet_ids)
        for index in range(args.private_subnet_count):
            aws.ec2.Tag(f"{self._name}-subnet-{index}-discovery",
                        resource_id=ids.apply(_nth(index)),
                        key=DISCOVERY_TAG, value=args.cluster_name, opts=self._child())
        aws.ec2.Tag(f"{self._name}-nodes-sg-discovery", resource_id=args.node_security_group_id,
                    key=DISCOVERY_TAG, value=args.cluster_name, opts=self._child())

    def _node_role(self) -> aws.iam.Role:
        name, args = self._name, self._args
        role = aws.iam.Role(
            f"{name}-node-role", description="Nodes Karpenter launches",
            assume_role_policy=service_assume_role_policy("ec2.amazonaws.com"),
            tags=with_name(args.tags, f"{name}-node-role"), opts=self._child())
        partition = pulumi.Output.from_input(args.oidc.arn).apply(partition_of)
        for policy in NODE_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=role.name,
                policy_arn=partition.apply(_aws_managed_policy_arn(policy)),
                opts=self._child())
        # Lets the nodes join: EKS maps the role to system:nodes itself for EC2_LINUX.
        aws.eks.AccessEntry(
            f"{name}-node-access", cluster_name=args.cluster_name, principal_arn=role.arn,
            type="EC2_LINUX", tags=with_name(args.tags, f"{name}-node-access"),
            opts=self._child())
        return role

    def _interruption_queue(self) -> aws.sqs.Queue:
        name, args = self._name, self._args
        queue = aws.sqs.Queue(
            f"{name}-interruptions", message_retention_seconds=300,
            sqs_managed_sse_enabled=True,
            tags=with_name(args.tags, f"{name}-interruptions"), opts=self._child())
        aws.sqs.QueuePolicy(f"{name}-interruptions-policy", queue_url=queue.id,
                            policy=queue.arn.apply(policies.queue_policy), opts=self._child())
        for event, (source, detail_type) in policies.INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{event}", description=f"{detail_type} -> Karpenter",
                event_pattern=policies.event_pattern(source, detail_type),
                tags=with_name(args.tags, f"{name}-{event}"), opts=self._child())
            aws.cloudwatch.EventTarget(f"{name}-{event}-target", rule=rule.name,
                                       arn=queue.arn, opts=self._child())
        return queue

    def _controller_role(self, node_role: aws.iam.Role, queue: aws.sqs.Queue
                         ) -> aws.iam.Role:
        args = self._args
        policy = pulumi.Output.all(args.oidc.arn, args.cluster_name, node_role.arn,
                                   queue.arn).apply(
            lambda v: policies.controller_policy(partition_of(v[0]), args.region,
                                                 v[0].split(":")[4], v[1], v[2], v[3]))
        return irsa_role(f"{self._name}-controller", IrsaRoleArgs(
            oidc=args.oidc, namespace=NAMESPACE, service_account=SERVICE_ACCOUNT,
            tags=args.tags, inline_policy=policy), self)

    def _node_pool(self, node_role: aws.iam.Role, release: k8s.helm.v3.Release) -> None:
        args = self._args
        after_chart = self._child(depends_on=[release])
        node_class = k8s.apiextensions.CustomResource(
            f"{self._name}-node-class", api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass", metadata=k8s.meta.v1.ObjectMetaArgs(name=NODE_CLASS),
            spec=pulumi.Output.all(node_role.name, args.cluster_name).apply(
                lambda v: node_class_spec(v[0], v[1], args.tags)),
            opts=after_chart)
        k8s.apiextensions.CustomResource(
            f"{self._name}-node-pool", api_version="karpenter.sh/v1", kind="NodePool",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NODE_POOL), spec=node_pool_spec(args),
            opts=self._child(depends_on=[release, node_class]))
