"""The cluster add-ons under the mock engine: pinned charts, the values they get, and IAM
roles that trust one service account each and allow no more than its software needs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.addons import (
    CLUSTER_AUTOSCALER,
    FLUENT_BIT,
    LOAD_BALANCER_CONTROLLER,
    METRICS_SERVER,
    SECRETS_STORE,
    AddonsArgs,
    ClusterAddons,
    autoscaler_image_tag,
)
from components.irsa import OidcProvider, issuer_host_path, partition_of, trust_policy
from components.workload_policies import (
    LOAD_BALANCER_CONTROLLER_POLICY,
    cluster_autoscaler_policy,
    log_shipping_policy,
)
from stacks.plan.mocks import ACCOUNT_ID
from stacks.policy import Context, check
from tests.infra.component_support import (
    PROD_TAGS,
    assert_refused,
    assert_well_formed,
    run_component,
)

TOKEN = "shop:addons:ClusterAddons"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER}"
ARGS = AddonsArgs(cluster_name="shop-prod", kubernetes_version="1.33", vpc_id="vpc-0prod",
                  region="eu-west-1", oidc=OidcProvider(arn=OIDC_ARN, issuer_url=ISSUER),
                  tags=PROD_TAGS, log_retention_days=90)
OUTPUTS = ("storage_class", "log_group_name", "load_balancer_controller_role_arn",
           "cluster_autoscaler_role_arn", "ebs_csi_role_arn", "fluent_bit_role_arn")


@pytest.fixture(scope="module")
def addons():
    return run_component(lambda: ClusterAddons("addons", ARGS), *OUTPUTS)


def release(recorded, name):
    return recorded.one(RELEASE, name).inputs


def inline_policy(recorded, role_name):
    return json.loads(recorded.one("aws:iam/rolePolicy:RolePolicy",
                                   role_name.replace("-role", "-policy")).inputs["policy"])


def subject(recorded, role_name):
    statement, = json.loads(recorded.one(ROLE, role_name).inputs["assumeRolePolicy"])[
        "Statement"]
    return statement["Condition"]["StringEquals"]


def test_pure_parts() -> None:
    assert autoscaler_image_tag("1.33") == "v1.33.0"
    assert issuer_host_path(f"https://{ISSUER}/") == ISSUER
    assert partition_of("arn:aws-us-gov:iam::1:oidc-provider/x") == "aws-us-gov"
    with pytest.raises(ValueError, match="ARN"):
        partition_of("oidc-provider/x")
    trust = json.loads(trust_policy(OIDC_ARN, f"https://{ISSUER}", "ns", "sa"))
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {
        f"{ISSUER}:sub": "system:serviceaccount:ns:sa", f"{ISSUER}:aud": "sts.amazonaws.com"}
    assert json.loads(log_shipping_policy("arn:aws:logs:r:1:log-group:g:*"))["Statement"][0][
        "Resource"] == ["arn:aws:logs:r:1:log-group:g", "arn:aws:logs:r:1:log-group:g:log-stream:*"]


def test_component_shape_and_policies(addons):
    assert_well_formed(addons, TOKEN, PROD_TAGS)
    assert check(addons.resources, Context(environment="prod")) == []
    assert addons.outputs["storage_class"] == "gp3"
    assert addons.outputs["log_group_name"] == "/aws/eks/shop-prod/containers"


def test_charts_are_pinned_from_their_repositories(addons):
    expected = {
        "addons-lbc": LOAD_BALANCER_CONTROLLER, "addons-metrics-server": METRICS_SERVER,
        "addons-autoscaler": CLUSTER_AUTOSCALER, "addons-fluent-bit": FLUENT_BIT,
        "addons-secrets-store": SECRETS_STORE}
    assert {r.name for r in addons.of_type(RELEASE)} == set(expected)
    for name, chart in expected.items():
        inputs = release(addons, name)
        assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]) == (
            chart.name, chart.version, {"repo": chart.repository})
        assert inputs["version"][0].isdigit(), "a pinned version, not a range"
        assert (inputs["namespace"], inputs["atomic"], inputs["cleanupOnFail"]) == (
            "kube-system", True, True)


def test_load_balancer_controller(addons):
    values = release(addons, "addons-lbc")["values"]
    assert (values["clusterName"], values["vpcId"], values["region"]) == (
        "shop-prod", "vpc-0prod", "eu-west-1")
    assert values["serviceAccount"] == {
        "create": True, "name": "aws-load-balancer-controller",
        "annotations": {"eks.amazonaws.com/role-arn":
                        addons.outputs["load_balancer_controller_role_arn"]}}
    assert subject(addons, "addons-lbc-role")[f"{ISSUER}:sub"] == (
        "system:serviceaccount:kube-system:aws-load-balancer-controller")
    assert inline_policy(addons, "addons-lbc-role") == json.loads(
        LOAD_BALANCER_CONTROLLER_POLICY.read_text())


def test_published_controller_policy_is_scoped_by_the_cluster_tag():
    statements = json.loads(LOAD_BALANCER_CONTROLLER_POLICY.read_text())["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    deletes = [s for s in statements if "elasticloadbalancing:DeleteLoadBalancer" in s["Action"]]
    assert deletes and all(s["Condition"] == {"Null": {
        "aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}} for s in deletes)


def test_metrics_server_runs_highly_available(addons):
    assert release(addons, "addons-metrics-server")["values"] == {
        "replicas": 2, "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}}


def test_cluster_autoscaler_resizes_only_this_clusters_groups(addons):
    values = release(addons, "addons-autoscaler")["values"]
    assert values["autoDiscovery"] == {"clusterName": "shop-prod"}
    assert values["image"] == {"tag": "v1.33.0"}
    assert (values["cloudProvider"], values["awsRegion"]) == ("aws", "eu-west-1")
    assert values["rbac"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": addons.outputs["cluster_autoscaler_role_arn"]}
    policy = inline_policy(addons, "addons-autoscaler-role")
    assert policy == json.loads(cluster_autoscaler_policy("shop-prod"))
    discover, resize = policy["Statement"]
    assert all(action.split(":")[1].startswith(("Describe", "Get")) for action in
               discover["Action"])
    assert resize["Action"] == ["autoscaling:SetDesiredCapacity",
                                "autoscaling:TerminateInstanceInAutoScalingGroup"]
    assert resize["Condition"] == {"StringEquals": {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/shop-prod": "owned"}}


def test_ebs_csi_driver_and_the_default_encrypted_gp3_class(addons):
    addon = addons.one("aws:eks/addon:Addon").inputs
    assert (addon["addonName"], addon["addonVersion"], addon["clusterName"]) == (
        "aws-ebs-csi-driver", "v1.48.0-eksbuild.1", "shop-prod")
    assert addon["serviceAccountRoleArn"] == addons.outputs["ebs_csi_role_arn"]
    assert subject(addons, "addons-ebs-csi-role")[f"{ISSUER}:sub"] == (
        "system:serviceaccount:kube-system:ebs-csi-controller-sa")
    attachment = addons.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
    storage = addons.one("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage.inputs["metadata"] == {
        "name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage.inputs["parameters"] == {"type": "gp3", "encrypted": "true",
                                            "csi.storage.k8s.io/fstype": "ext4"}
    assert (storage.inputs["volumeBindingMode"], storage.inputs["reclaimPolicy"]) == (
        "WaitForFirstConsumer", "Delete")
    assert addons.one("aws:eks/addon:Addon").urn in storage.options.dependencies


def test_fluent_bit_ships_to_one_retained_log_group(addons):
    group = addons.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert (group["name"], group["retentionInDays"]) == ("/aws/eks/shop-prod/containers", 90)
    values = release(addons, "addons-fluent-bit")["values"]
    assert values["cloudWatchLogs"] == {
        "enabled": True, "region": "eu-west-1", "logGroupName": "/aws/eks/shop-prod/containers",
        "autoCreateGroup": False, "logStreamPrefix": "container-"}
    assert all(values[output] == {"enabled": False} for output in (
        "cloudWatch", "firehose", "kinesis", "kinesis_streams", "elasticsearch", "s3",
        "opensearch"))
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/eks/shop-prod/containers"
    assert inline_policy(addons, "addons-fluent-bit-role")["Statement"] == [{
        "Sid": "WriteContainerLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "Resource": [group_arn, f"{group_arn}:log-stream:*"]}]
    assert values["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": addons.outputs["fluent_bit_role_arn"]}


def test_every_role_trusts_exactly_one_service_account(addons):
    subjects = {role.name: subject(addons, role.name) for role in addons.of_type(ROLE)}
    assert {name: condition[f"{ISSUER}:sub"] for name, condition in subjects.items()} == {
        "addons-lbc-role": "system:serviceaccount:kube-system:aws-load-balancer-controller",
        "addons-autoscaler-role": "system:serviceaccount:kube-system:cluster-autoscaler",
        "addons-ebs-csi-role": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        "addons-fluent-bit-role": "system:serviceaccount:kube-system:aws-for-fluent-bit",
    }
    assert all(c[f"{ISSUER}:aud"] == "sts.amazonaws.com" for c in subjects.values())


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kubernetes_version": "v1.33"}, "kubernetes_version"),
    ({"log_retention_days": 10}, "log_retention_days"),
    ({"storage_class": "GP3"}, "storage_class"),
    ({"ebs_csi_addon_version": "latest"}, "ebs_csi_addon_version"),
    ({"tags": {}}, "tags"),
])
def test_refuses_bad_arguments_before_any_resource(overrides, field):
    assert_refused(lambda: ClusterAddons("addons", dataclasses.replace(ARGS, **overrides)), field)


def test_secrets_store_driver_rotates_and_keeps_no_kubernetes_copy(addons):
    """ASCP with the driver as its subchart: mounted files refresh every two minutes, no
    Kubernetes Secret mirrors them, and the driver requests IRSA and Pod Identity tokens."""
    assert (SECRETS_STORE.name, SECRETS_STORE.version, SECRETS_STORE.repository) == (
        "secrets-store-csi-driver-provider-aws", "2.1.1",
        "https://aws.github.io/secrets-store-csi-driver-provider-aws")
    assert SECRETS_STORE.subcharts["secrets-store-csi-driver"].version == "1.5.3"
    assert release(addons, "addons-secrets-store")["values"] == {
        "secrets-store-csi-driver": {
            "install": True, "enableSecretRotation": True, "rotationPollInterval": "2m",
            "syncSecret": {"enabled": False},
            "tokenRequests": [{"audience": "sts.amazonaws.com"},
                              {"audience": "pods.eks.amazonaws.com"}]}}
