"""The cluster under the mock engine: what pulumi-eks is asked for (its children are created by
the eks plugin, so the component shows only its inputs), and the node group we own."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.cluster import CLUSTER_ADMIN_POLICY, LOG_TYPES, Cluster, ClusterArgs, ami_type_for
from stacks.plan.mocks import SECRET, Recorded, run_under_mocks
from tests.infra.component_support import assert_refused
from tests.infra.conftest import TAGS

SUBNETS = ["subnet-private-a", "subnet-private-b"]
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
DEPLOY = "arn:aws:iam::123456789012:role/platform-deploy"
EKS = "eks:index:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def cluster(**overrides: object) -> ClusterArgs:
    fields = {"cluster_name": "shop-dev", "vpc_id": "vpc-0123", "private_subnet_ids": SUBNETS,
              "kubernetes_version": "1.33", "tags": TAGS, "node_min_size": 2,
              "node_desired_size": 3, "node_max_size": 6, "log_retention_days": 30,
              **overrides}
    return ClusterArgs(**fields)  # type: ignore[arg-type]


def run(args: ClusterArgs) -> Recorded:
    def program() -> None:
        component = Cluster("cluster", args)
        for name in ("kubeconfig", "cluster_name", "node_security_group_id",
                     "oidc_provider_arn", "oidc_provider_url"):
            pulumi.export(name, getattr(component, name))

    return run_under_mocks(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return run(cluster(admin_role_arn=ADMIN, public_access_cidrs=["203.0.113.0/24"]))


def test_control_plane_inputs(recorded: Recorded) -> None:
    eks = recorded.one(EKS).inputs
    assert eks["name"] == "shop-dev"
    assert eks["version"] == "1.33"
    assert eks["vpcId"] == "vpc-0123"
    assert eks["privateSubnetIds"] == SUBNETS
    assert "publicSubnetIds" not in eks and "subnetIds" not in eks
    assert eks["skipDefaultNodeGroup"] is True
    assert eks["nodeAssociatePublicIpAddress"] is False
    assert eks["authenticationMode"] == "API"
    assert eks["createOidcProvider"] is True
    assert eks["enabledClusterLogTypes"] == list(LOG_TYPES)
    assert eks["tags"] == {**TAGS, "Name": "shop-dev"}


def test_network_policies_are_enforced_by_the_vpc_cni(recorded: Recorded) -> None:
    # pulumi-eks installs the vpc-cni add-on with its network policy agent on; without it
    # every NetworkPolicy of the workloads would be accepted and ignored.
    eks = recorded.one(EKS).inputs
    assert eks["useDefaultVpcCni"] is False
    assert eks["vpcCniOptions"] == {"enableNetworkPolicy": True,
                                    "resolveConflictsOnCreate": "OVERWRITE",
                                    "resolveConflictsOnUpdate": "OVERWRITE"}


def test_secrets_are_envelope_encrypted_with_a_rotated_key(recorded: Recorded) -> None:
    key = recorded.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    key_id = recorded.one("aws:kms/alias:Alias").inputs["targetKeyId"]
    assert recorded.one(EKS).inputs["encryptionConfigKeyArn"] == (
        f"arn:aws:kms:us-east-1:123456789012:key/{key_id}")
    assert key.urn in recorded.one(EKS).options.dependencies


def test_endpoint_private_plus_public_only_for_listed_cidrs(recorded: Recorded) -> None:
    eks = recorded.one(EKS).inputs
    assert (eks["endpointPrivateAccess"], eks["endpointPublicAccess"]) == (True, True)
    assert eks["publicAccessCidrs"] == ["203.0.113.0/24"]

    private = run(cluster()).one(EKS).inputs
    assert (private["endpointPrivateAccess"], private["endpointPublicAccess"]) == (True, False)
    assert "publicAccessCidrs" not in private


def test_admin_role_gets_a_cluster_admin_access_entry(recorded: Recorded) -> None:
    entries = recorded.one(EKS).inputs["accessEntries"]
    assert entries == {"admin": {
        "principalArn": ADMIN,
        "type": "STANDARD",
        "accessPolicies": {"cluster-admin": {"policyArn": CLUSTER_ADMIN_POLICY,
                                             "accessScope": {"type": "cluster"}}},
    }}
    assert run(cluster()).one(EKS).inputs["accessEntries"] == {}


def test_admin_and_deploy_roles_each_get_their_own_cluster_admin_entry() -> None:
    entries = run(cluster(admin_role_arn=ADMIN, deploy_role_arn=DEPLOY)).one(EKS).inputs[
        "accessEntries"]
    grant = {"cluster-admin": {"policyArn": CLUSTER_ADMIN_POLICY,
                               "accessScope": {"type": "cluster"}}}
    assert entries == {
        "admin": {"principalArn": ADMIN, "type": "STANDARD", "accessPolicies": grant},
        "deploy": {"principalArn": DEPLOY, "type": "STANDARD", "accessPolicies": grant},
    }
    # EKS allows one entry per principal: a role given twice gets one.
    same = run(cluster(admin_role_arn=ADMIN, deploy_role_arn=ADMIN)).one(EKS).inputs
    assert list(same["accessEntries"]) == ["admin"]


def test_control_plane_logs_are_retained(recorded: Recorded) -> None:
    group = recorded.one("aws:cloudwatch/logGroup:LogGroup")
    assert (group.inputs["name"], group.inputs["retentionInDays"]) == (
        "/aws/eks/shop-dev/cluster", 30)
    assert group.urn in recorded.one(EKS).options.dependencies


def test_node_group_scaling_and_autoscaler_ownership(recorded: Recorded) -> None:
    group = recorded.one(NODE_GROUP)
    assert group.inputs["scalingConfig"] == {"minSize": 2, "desiredSize": 3, "maxSize": 6}
    assert group.options.ignore_changes == ("scalingConfig.desiredSize",)
    assert group.inputs["clusterName"] == "shop-dev"
    assert group.inputs["subnetIds"] == SUBNETS
    assert group.inputs["instanceTypes"] == ["t3.medium"]
    assert group.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert group.inputs["version"] == "1.33"
    assert group.inputs["tags"]["k8s.io/cluster-autoscaler/shop-dev"] == "owned"
    assert recorded.one(EKS).urn in group.options.dependencies


def test_nodes_require_imdsv2_and_encrypt_their_volumes(recorded: Recorded) -> None:
    template = recorded.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    (disk,) = template.inputs["blockDeviceMappings"]
    assert disk["ebs"] == {"volumeSize": 50, "volumeType": "gp3", "encrypted": "true",
                           "deleteOnTermination": "true"}
    assert template.inputs["vpcSecurityGroupIds"] == [recorded.outputs["node_security_group_id"]]
    group = recorded.one(NODE_GROUP).inputs
    assert group["launchTemplate"] == {"id": template.id, "version": "1"}


def test_node_role_has_exactly_the_worker_policies(recorded: Recorded) -> None:
    role = recorded.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    attached = sorted(a.inputs["policyArn"].rsplit("/", 1)[1] for a in
                      recorded.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
    assert attached == ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy",
                        "AmazonEKS_CNI_Policy"]
    assert recorded.one(NODE_GROUP).inputs["nodeRoleArn"].endswith(f":role/{role.id}")


def test_workloads_get_a_provider_that_waits_for_nodes_and_dns(recorded: Recorded) -> None:
    provider = recorded.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == SECRET
    coredns = recorded.one("aws:eks/addon:Addon")
    assert coredns.inputs["addonName"] == "coredns"
    assert recorded.one(NODE_GROUP).urn in coredns.options.dependencies
    assert {recorded.one(NODE_GROUP).urn, coredns.urn} <= set(provider.options.dependencies)


def test_outputs_for_irsa_and_the_data_tier(recorded: Recorded) -> None:
    outputs = recorded.outputs
    assert outputs["kubeconfig"] == SECRET
    assert outputs["cluster_name"] == "shop-dev"
    assert outputs["node_security_group_id"].startswith("sg-")
    assert outputs["oidc_provider_arn"].startswith("arn:aws:iam::123456789012:oidc-provider/")
    assert outputs["oidc_provider_url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")


def test_deletion_protection_reaches_the_control_plane() -> None:
    assert run(cluster(deletion_protection=True)).one(EKS).inputs["deletionProtection"] is True


@pytest.mark.parametrize(("instance_type", "ami_type"), [
    ("t3.medium", "AL2023_x86_64_STANDARD"),
    ("m6i.large", "AL2023_x86_64_STANDARD"),
    ("g5.xlarge", "AL2023_x86_64_STANDARD"),
    ("t4g.large", "AL2023_ARM_64_STANDARD"),
    ("m7gd.xlarge", "AL2023_ARM_64_STANDARD"),
    ("c6gn.2xlarge", "AL2023_ARM_64_STANDARD"),
])
def test_ami_type_follows_the_cpu_architecture(instance_type: str, ami_type: str) -> None:
    assert ami_type_for(instance_type) == ami_type


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kubernetes_version": "latest"}, "kubernetes_version"),
    ({"cluster_name": "shop dev"}, "cluster_name"),
    ({"private_subnet_ids": ["subnet-a"]}, "private_subnet_ids"),
    ({"node_min_size": 0}, "node_min_size"),
    ({"node_max_size": 1}, "node_max_size"),
    ({"node_desired_size": 9}, "node_desired_size"),
    ({"node_instance_type": "large"}, "node_instance_type"),
    ({"public_access_cidrs": ["203.0.113.1/24"]}, "public_access_cidrs"),
    ({"admin_role_arn": "arn:aws:iam::123456789012:user/bob"}, "admin_role_arn"),
    ({"deploy_role_arn": "arn:aws:iam::123456789012:user/ci"}, "deploy_role_arn"),
    ({"node_instance_type": "mac2.metal"}, "node_instance_type"),
    ({"log_types": ["api", "everything"]}, "log_types"),
    ({"log_retention_days": 2}, "log_retention_days"),
    ({"tags": {}}, "tags"),
])
def test_invalid_arguments_are_refused_before_any_resource(overrides: dict, field: str) -> None:
    assert_refused(lambda: Cluster("cluster", cluster(**overrides)), field)
