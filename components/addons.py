"""The cluster's add-ons the storefront relies on, each with its own IAM role (IRSA):

- AWS Load Balancer Controller: turns the storefront's Ingress into an ALB;
- metrics-server: the resource metrics the HorizontalPodAutoscaler scales on;
- cluster-autoscaler: adds nodes when pods don't fit, removes idle ones;
- EBS CSI driver (an EKS add-on) and `gp3`, the default, encrypted StorageClass;
- Fluent Bit: every container's log shipped to one CloudWatch log group with a retention;
- Secrets Store CSI driver with its AWS provider: the RDS-managed database password mounted
  into the storefront's pods (components/secret_store.py).

Chart versions are pinned in components/helm_charts.py, the one table of every chart the
program installs: an upgrade is a reviewed change, never a surprise.

cluster-autoscaler discovers the node groups by the Auto Scaling group tags
`k8s.io/cluster-autoscaler/enabled=true` and `k8s.io/cluster-autoscaler/<cluster>=owned`
(EKS managed node groups put both on their groups); it may only resize groups tagged `owned`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.arg_checks import require_tags, with_name
from components.helm_charts import (
    CLUSTER_AUTOSCALER,
    FLUENT_BIT,
    LOAD_BALANCER_CONTROLLER,
    METRICS_SERVER,
    SECRETS_STORE,
    Chart,
)
from components.irsa import IrsaRoleArgs, OidcProvider, irsa_role, role_annotations
from components.k8s import require_dns_label
from components.log_groups import require_retention
from components.secret_store import provider_values
from components.workload_policies import (
    cluster_autoscaler_policy,
    load_balancer_controller_policy,
    log_shipping_policy,
)

SYSTEM_NAMESPACE = "kube-system"
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"


EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"


@dataclass(frozen=True)
class AddonsArgs:
    cluster_name: pulumi.Input[str]
    # "1.33": cluster-autoscaler's image must match the control plane's minor version.
    kubernetes_version: str
    vpc_id: pulumi.Input[str]
    region: str
    oidc: OidcProvider
    tags: Mapping[str, str]
    log_retention_days: int = 30
    ebs_csi_addon_version: str = "v1.48.0-eksbuild.1"
    # Installed only when the stack's roles are Pod Identity's (oidc.mode).
    pod_identity_agent_version: str = "v1.3.8-eksbuild.2"
    # False when Karpenter scales the nodes (components/karpenter.py, shop:nodeAutoscaler).
    cluster_autoscaler: bool = True
    storage_class: str = "gp3"


def validate(args: AddonsArgs) -> None:
    require_tags(args.tags)
    parts = args.kubernetes_version.split(".")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise ValueError(f"kubernetes_version must be a minor version like '1.33', got "
                         f"{args.kubernetes_version!r}")
    require_retention("log_retention_days", args.log_retention_days)
    require_dns_label("storage_class", args.storage_class)
    if not args.ebs_csi_addon_version.startswith("v"):
        raise ValueError("ebs_csi_addon_version must be an EKS add-on version like "
                         f"'v1.48.0-eksbuild.1', got {args.ebs_csi_addon_version!r}")


def autoscaler_image_tag(kubernetes_version: str) -> str:
    return f"v{kubernetes_version}.0"


def service_account_values(chart: Chart, role_arn: pulumi.Input[str], oidc: OidcProvider
                           ) -> dict[str, Any]:
    """IRSA's annotation, or (Pod Identity) none: the association binds the account."""
    return {"create": True, "name": chart.service_account,
            "annotations": role_annotations(oidc, role_arn, regional=False)}


def load_balancer_controller_values(args: AddonsArgs, role_arn: pulumi.Input[str]
                                    ) -> dict[str, Any]:
    return {
        "clusterName": args.cluster_name,
        "region": args.region,
        "vpcId": args.vpc_id,
        "replicaCount": 2,
        "serviceAccount": service_account_values(LOAD_BALANCER_CONTROLLER, role_arn, args.oidc),
        "podDisruptionBudget": {"maxUnavailable": 1},
        # Only Ingresses are ours to reconcile; leave Services of type LoadBalancer alone.
        "enableServiceMutatorWebhook": False,
    }


def metrics_server_values() -> dict[str, Any]:
    return {"replicas": 2, "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}}


def cluster_autoscaler_values(args: AddonsArgs, role_arn: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": args.region,
        "autoDiscovery": {"clusterName": args.cluster_name},
        "image": {"tag": autoscaler_image_tag(args.kubernetes_version)},
        "rbac": {"serviceAccount": service_account_values(CLUSTER_AUTOSCALER, role_arn, args.oidc)},
        "extraArgs": {
            "balance-similar-node-groups": True,
            "skip-nodes-with-system-pods": False,
            "expander": "least-waste",
        },
    }


def fluent_bit_values(region: str, log_group: pulumi.Input[str], role_arn: pulumi.Input[str],
                      oidc: OidcProvider) -> dict[str, Any]:
    disabled = {"enabled": False}
    return {
        "serviceAccount": service_account_values(FLUENT_BIT, role_arn, oidc),
        "cloudWatchLogs": {
            "enabled": True,
            "region": region,
            "logGroupName": log_group,
            # The group exists, with its retention: the role may not create or alter groups.
            "autoCreateGroup": False,
            "logStreamPrefix": "container-",
        },
        "cloudWatch": disabled, "firehose": disabled, "kinesis": disabled,
        "kinesis_streams": disabled, "elasticsearch": disabled, "s3": disabled,
        "opensearch": disabled,
        # Logs of every node, tainted or not, and never the first pod evicted.
        "tolerations": [{"operator": "Exists"}],
        "priorityClassName": "system-node-critical",
    }


class ClusterAddons(pulumi.ComponentResource):
    """Outputs: `storage_class`, `log_group_name`, and the four IRSA role ARNs."""

    storage_class: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    load_balancer_controller_role_arn: pulumi.Output[str]
    cluster_autoscaler_role_arn: pulumi.Output[str]
    ebs_csi_role_arn: pulumi.Output[str]
    fluent_bit_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AddonsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:addons:ClusterAddons", name, None, opts)
        # Pod Identity's agent first: the charts' pods fetch their credentials from it.
        self._agent = self._pod_identity_agent(name, args)

        lbc_role = self._role(f"{name}-lbc", args, LOAD_BALANCER_CONTROLLER.service_account,
                              pulumi.Output.from_input(load_balancer_controller_policy()))
        self._release(f"{name}-lbc", LOAD_BALANCER_CONTROLLER,
                      load_balancer_controller_values(args, lbc_role.arn))
        self._release(f"{name}-metrics-server", METRICS_SERVER, metrics_server_values())

        autoscaler_role_arn = self._cluster_autoscaler(name, args)

        ebs_role, storage_class = self._ebs(name, args)
        self._release(f"{name}-secrets-store", SECRETS_STORE, provider_values())
        log_group, fluent_role = self._fluent_bit(name, args)

        self.storage_class = storage_class.metadata.name
        self.log_group_name = log_group.name
        self.load_balancer_controller_role_arn = lbc_role.arn
        self.cluster_autoscaler_role_arn = autoscaler_role_arn
        self.ebs_csi_role_arn = ebs_role.arn
        self.fluent_bit_role_arn = fluent_role.arn
        self.register_outputs({
            "storage_class": self.storage_class,
            "log_group_name": self.log_group_name,
            "load_balancer_controller_role_arn": self.load_balancer_controller_role_arn,
            "cluster_autoscaler_role_arn": self.cluster_autoscaler_role_arn,
            "ebs_csi_role_arn": self.ebs_csi_role_arn,
            "fluent_bit_role_arn": self.fluent_bit_role_arn,
        })

    def _cluster_autoscaler(self, name: str, args: AddonsArgs) -> pulumi.Output[str]:
        """Its role ARN, or empty when Karpenter scales the nodes instead."""
        if not args.cluster_autoscaler:
            return pulumi.Output.from_input("")
        role = self._role(f"{name}-autoscaler", args, CLUSTER_AUTOSCALER.service_account,
                          pulumi.Output.from_input(args.cluster_name).apply(
                              cluster_autoscaler_policy))
        self._release(f"{name}-autoscaler", CLUSTER_AUTOSCALER,
                      cluster_autoscaler_values(args, role.arn))
        return role.arn

    def _pod_identity_agent(self, name: str, args: AddonsArgs) -> list[aws.eks.Addon]:
        if not args.oidc.pod_identity:
            return []
        return [aws.eks.Addon(
            f"{name}-pod-identity-agent",
            cluster_name=args.cluster_name,
            addon_name="eks-pod-identity-agent",
            addon_version=args.pod_identity_agent_version,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=with_name(args.tags, f"{name}-pod-identity-agent"),
            opts=pulumi.ResourceOptions(parent=self))]

    def _role(self, name: str, args: AddonsArgs, service_account: str,
              policy: pulumi.Input[str] | None = None, managed: tuple[str, ...] = (),
              associate: bool = True) -> aws.iam.Role:
        return irsa_role(name, IrsaRoleArgs(
            oidc=args.oidc, namespace=SYSTEM_NAMESPACE, service_account=service_account,
            tags=args.tags, inline_policy=policy, managed_policies=managed,
            associate=associate), self)

    def _release(self, name: str, chart: Chart, values: Mapping[str, Any]
                 ) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            name,
            k8s.helm.v3.ReleaseArgs(
                name=chart.name,
                chart=chart.name,
                version=chart.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
                namespace=SYSTEM_NAMESPACE,
                values=dict(values),
                # A failed upgrade rolls back instead of leaving a half-applied release.
                atomic=True,
                cleanup_on_fail=True,
                max_history=5,
                timeout=600,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._agent),
        )

    def _ebs(self, name: str, args: AddonsArgs
             ) -> tuple[aws.iam.Role, k8s.storage.v1.StorageClass]:
        # With Pod Identity the add-on makes its association itself.
        pod_identity = args.oidc.pod_identity
        role = self._role(f"{name}-ebs-csi", args, EBS_CSI_SERVICE_ACCOUNT,
                          managed=(EBS_CSI_POLICY,), associate=False)
        addon = aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=args.cluster_name,
            addon_name="aws-ebs-csi-driver",
            addon_version=args.ebs_csi_addon_version,
            service_account_role_arn=None if pod_identity else role.arn,
            pod_identity_associations=[aws.eks.AddonPodIdentityAssociationArgs(
                role_arn=role.arn, service_account=EBS_CSI_SERVICE_ACCOUNT)]
            if pod_identity else None,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=with_name(args.tags, f"{name}-ebs-csi"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._agent))
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.storage_class,
                annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
            reclaim_policy="Delete",
            # Bind where the pod lands: an EBS volume can only attach in its own zone.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[addon]))
        return role, storage_class

    def _fluent_bit(self, name: str, args: AddonsArgs
                    ) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role]:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-container-logs",
            name=pulumi.Output.from_input(args.cluster_name).apply(
                lambda cluster: f"/aws/eks/{cluster}/containers"),
            retention_in_days=args.log_retention_days,
            tags=with_name(args.tags, f"{name}-container-logs"),
            opts=pulumi.ResourceOptions(parent=self))
        role = self._role(f"{name}-fluent-bit", args, FLUENT_BIT.service_account,
                          log_group.arn.apply(log_shipping_policy))
        self._release(f"{name}-fluent-bit", FLUENT_BIT,
                      fluent_bit_values(args.region, log_group.name, role.arn, args.oidc))
        return log_group, role
