"""shop:nodeAutoscaler: the Cluster Autoscaler (an add-on, components/addons.py) or Karpenter
(components/karpenter.py), composed here so stacks/compose.py stays one line about it."""

from __future__ import annotations

import pulumi

from components.addons import ClusterAddons
from components.architecture import ami_type_for
from components.cluster import Cluster
from components.irsa import OidcProvider
from components.karpenter import Karpenter, KarpenterArgs
from components.network import Network
from stacks.settings import Settings

# Karpenter's vCPU limit per node the managed group may hold at most: it scales within the
# same order of cost as the Cluster Autoscaler would.
VCPUS_PER_MAX_NODE = 8


def karpenter(settings: Settings, network: Network, cluster: Cluster, oidc: OidcProvider,
              addons: ClusterAddons) -> Karpenter:
    """After the add-ons (the load balancer controller's webhooks, Pod Identity's agent)."""
    arm = ami_type_for(settings.cluster.node_instance_type).startswith("AL2023_ARM")
    return Karpenter("karpenter", KarpenterArgs(
        cluster_name=cluster.cluster_name,
        region=settings.region,
        oidc=oidc,
        private_subnet_ids=network.private_subnet_ids,
        private_subnet_count=settings.network.az_count,
        node_security_group_id=cluster.node_security_group_id,
        tags=settings.tags,
        # The image is built for the managed nodes' architecture; Karpenter's nodes match it.
        architectures=("arm64",) if arm else ("amd64",),
        cpu_limit=settings.cluster.node_max_size * VCPUS_PER_MAX_NODE,
    ), opts=pulumi.ResourceOptions(providers=[cluster.provider], depends_on=[addons]))
