"""Karpenter under the mock engine: its IAM, interruption queue and rules, chart, NodePool and
EC2NodeClass, with the exact inputs each receives; and prod choosing it over the Cluster
Autoscaler (shop:nodeAutoscaler)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.karpenter import Karpenter, KarpenterArgs
from components.karpenter_policies import controller_policy
from stacks.policy import Context, check
from tests.infra.component_support import (
    NODE_SG,
    PROD_TAGS,
    assert_refused,
    assert_well_formed,
    run_component,
)
from tests.infra.test_addons import ARGS as ADDONS_ARGS

RELEASE = "kubernetes:helm.sh/v3:Release"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TAG = "aws:ec2/tag:Tag"
CR_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
CR_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
ARGS = KarpenterArgs(
    cluster_name="shop-prod", region="eu-west-1", oidc=ADDONS_ARGS.oidc,
    # A plain list: an Output made at import would belong to whichever event loop ran then.
    private_subnet_ids=["subnet-a", "subnet-b", "subnet-c"],
    private_subnet_count=3, node_security_group_id=NODE_SG, tags=PROD_TAGS)


@pytest.fixture(scope="module")
def karpenter():
    return run_component(lambda: Karpenter("karpenter", ARGS),
                         "controller_role_arn", "queue_name", "node_role_name")


def test_shape_and_policies(karpenter):
    assert_well_formed(karpenter, "shop:karpenter:Karpenter", PROD_TAGS)
    assert check(karpenter.resources, Context(environment="prod")) == []


def test_discovery_tags_on_private_subnets_and_node_group(karpenter):
    tags = sorted((t.inputs["resourceId"], t.inputs["key"], t.inputs["value"])
                  for t in karpenter.of_type(TAG))
    assert tags == sorted((resource, "karpenter.sh/discovery", "shop-prod")
                          for resource in ("subnet-a", "subnet-b", "subnet-c", NODE_SG))


def test_interruption_queue_and_its_four_rules(karpenter):
    queue = karpenter.one("aws:sqs/queue:Queue").inputs
    assert (queue["messageRetentionSeconds"], queue["sqsManagedSseEnabled"]) == (300, True)
    statements = json.loads(karpenter.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])[
        "Statement"]
    assert statements[0]["Principal"] == {"Service": ["events.amazonaws.com",
                                                      "sqs.amazonaws.com"]}
    assert statements[1]["Effect"] == "Deny" and statements[1]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}
    patterns = {r.name: json.loads(r.inputs["eventPattern"]) for r in karpenter.of_type(RULE)}
    assert patterns == {
        "karpenter-scheduled-change": {"source": ["aws.health"],
                                       "detail-type": ["AWS Health Event"]},
        "karpenter-spot-interruption": {
            "source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
        "karpenter-rebalance": {
            "source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
        "karpenter-instance-state-change": {
            "source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    }
    arns = {t.inputs["arn"] for t in karpenter.of_type(TARGET)}
    assert len(arns) == 1 and next(iter(arns)).startswith("arn:aws:sqs:us-east-1:")
    assert len(karpenter.of_type(TARGET)) == 4


def test_node_role_and_access_entry(karpenter):
    trust = json.loads(karpenter.one("aws:iam/role:Role", "karpenter-node-role").inputs[
        "assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = sorted(a.inputs["policyArn"] for a in karpenter.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
    assert attached == sorted(f"arn:aws:iam::aws:policy/{p}" for p in (
        "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"))
    entry = karpenter.one("aws:eks/accessEntry:AccessEntry").inputs
    assert (entry["clusterName"], entry["type"]) == ("shop-prod", "EC2_LINUX")
    assert entry["principalArn"].startswith("arn:aws:iam::123456789012:role/karpenter-node-role")


def test_controller_policy_is_scoped_to_this_cluster():
    policy = json.loads(controller_policy("aws", "eu-west-1", "123456789012", "shop-prod",
                                          "arn:aws:iam::123456789012:role/n", "arn:q"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["EndOwnNodes"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/shop-prod": "owned"}
    assert by_sid["PassNodeRole"]["Resource"] == "arn:aws:iam::123456789012:role/n"
    assert by_sid["ReadInterruptionQueue"]["Resource"] == "arn:q"
    assert by_sid["DiscoverClusterEndpoint"]["Resource"] == (
        "arn:aws:eks:eu-west-1:123456789012:cluster/shop-prod")
    # Only read-only actions are unscoped.
    unscoped = [a for s in policy["Statement"] if s["Resource"] == "*" and "Condition" not in s
                for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert unscoped == ["pricing:GetProducts", "iam:ListInstanceProfiles"]


def test_chart_then_node_class_and_pool(karpenter):
    chart = karpenter.one(RELEASE, "karpenter-chart")
    assert (chart.inputs["chart"], chart.inputs["version"], chart.inputs["namespace"]) == (
        "oci://public.ecr.aws/karpenter/karpenter", "1.14.1", "kube-system")
    values = chart.inputs["values"]
    assert values["settings"] == {"clusterName": "shop-prod",
                                  "interruptionQueue": karpenter.outputs["queue_name"]}
    assert values["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": karpenter.outputs["controller_role_arn"]}
    node_class = karpenter.one(CR_NODE_CLASS)
    assert chart.urn in node_class.options.dependencies
    spec = node_class.inputs["spec"]
    assert spec["role"] == karpenter.outputs["node_role_name"]
    assert spec["subnetSelectorTerms"] == spec["securityGroupSelectorTerms"] == [
        {"tags": {"karpenter.sh/discovery": "shop-prod"}}]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["blockDeviceMappings"][0]["ebs"]["encrypted"] is True
    pool = karpenter.one(CR_NODE_POOL)
    assert {chart.urn, node_class.urn} <= set(pool.options.dependencies)
    pool_spec = pool.inputs["spec"]
    assert pool_spec["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    requirements = {r["key"]: r["values"] for r in pool_spec["template"]["spec"]["requirements"]}
    assert requirements["kubernetes.io/arch"] == ["amd64"]
    assert requirements["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert pool_spec["limits"] == {"cpu": "64"}
    assert pool_spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized",
                                       "consolidateAfter": "1m"}


@pytest.mark.parametrize(("change", "field"), [
    ({"architectures": ("x86",)}, "architectures"),
    ({"capacity_types": ()}, "capacity_types"),
    ({"cpu_limit": 1}, "cpu_limit"),
    ({"private_subnet_count": 0}, "private_subnet_count"),
])
def test_invalid_args_name_the_field(change, field):
    assert_refused(lambda: Karpenter("karpenter", dataclasses.replace(ARGS, **change)), field)


def test_prod_runs_karpenter_instead_of_the_cluster_autoscaler(prod_plan):
    releases = {r.name for r in prod_plan.of_type(RELEASE)}
    assert "karpenter-chart" in releases and "addons-autoscaler" not in releases
    assert prod_plan.one(CR_NODE_POOL) and prod_plan.one(CR_NODE_CLASS)
    # Its discovery tags reach each private subnet of prod's three AZs and the node group.
    assert len(prod_plan.of_type(TAG)) == 4


def test_dev_keeps_the_cluster_autoscaler(dev_plan):
    releases = {r.name for r in dev_plan.of_type(RELEASE)}
    assert "addons-autoscaler" in releases and "karpenter-chart" not in releases
