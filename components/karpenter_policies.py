"""Karpenter's IAM documents as pure functions of resolved values: what its controller may
do (launch and end only nodes tagged for this cluster and a NodePool, manage only the
instance profiles it tags, read the interruption queue) and the queue's own policy.
Written after the controller's documented permissions for v1 (its getting-started
CloudFormation template), scoped to one cluster, region and account."""

from __future__ import annotations

import json
from typing import Any


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _ec2(partition: str, region: str, *kinds: str, account: str = "*") -> list[str]:
    return [f"arn:{partition}:ec2:{region}:{account}:{kind}/*" for kind in kinds]


def controller_policy(partition: str, region: str, account: str, cluster: str,
                      node_role_arn: str, queue_arn: str) -> str:
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    requested = {f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
                 "aws:RequestTag/eks:eks-cluster-name": cluster}
    nodepool_tagged = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    nodepool_requested = {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    launched = _ec2(partition, region, "fleet", "instance", "volume", "network-interface",
                    "launch-template", "spot-instances-request")
    profiles = f"arn:{partition}:iam::{account}:instance-profile/*"
    profile_tags = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": region}
    statements = [
        {"Sid": "RegionalReads", "Effect": "Allow", "Resource": "*",
         "Action": sorted(f"ec2:Describe{what}" for what in (
             "CapacityReservations", "Images", "Instances", "InstanceStatus",
             "InstanceTypeOfferings", "InstanceTypes", "LaunchTemplates", "PlacementGroups",
             "SecurityGroups", "SpotPriceHistory", "Subnets")),
         "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        {"Sid": "AmiParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*"},
        {"Sid": "Pricing", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
        {"Sid": "LaunchFromSharedResources", "Effect": "Allow",
         "Action": ["ec2:CreateFleet", "ec2:RunInstances"],
         "Resource": [f"arn:{partition}:ec2:{region}::image/*",
                      f"arn:{partition}:ec2:{region}::snapshot/*",
                      *_ec2(partition, region, "security-group", "subnet",
                            "capacity-reservation", "placement-group")]},
        {"Sid": "LaunchFromOwnTemplates", "Effect": "Allow",
         "Action": ["ec2:CreateFleet", "ec2:RunInstances"],
         "Resource": _ec2(partition, region, "launch-template"),
         "Condition": {"StringEquals": owned, "StringLike": nodepool_tagged}},
        {"Sid": "CreateTaggedForThisCluster", "Effect": "Allow",
         "Action": ["ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:RunInstances"],
         "Resource": launched,
         "Condition": {"StringEquals": requested, "StringLike": nodepool_requested}},
        {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": launched,
         "Condition": {"StringEquals": {**requested, "ec2:CreateAction": [
             "CreateFleet", "CreateLaunchTemplate", "RunInstances"]},
             "StringLike": nodepool_requested}},
        {"Sid": "TagOwnInstances", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": _ec2(partition, region, "instance"),
         "Condition": {"StringEquals": owned, "StringLike": nodepool_tagged,
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                       "ForAllValues:StringEquals": {"aws:TagKeys": [
                           "Name", "eks:eks-cluster-name", "karpenter.sh/nodeclaim"]}}},
        {"Sid": "EndOwnNodes", "Effect": "Allow",
         "Action": ["ec2:DeleteLaunchTemplate", "ec2:TerminateInstances"],
         "Resource": _ec2(partition, region, "instance", "launch-template"),
         "Condition": {"StringEquals": owned, "StringLike": nodepool_tagged}},
        {"Sid": "PassNodeRole", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": node_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
        {"Sid": "CreateInstanceProfiles", "Effect": "Allow",
         "Action": "iam:CreateInstanceProfile", "Resource": profiles,
         "Condition": {"StringEquals": {
             **requested, "aws:RequestTag/topology.kubernetes.io/region": region},
             "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "TagInstanceProfiles", "Effect": "Allow", "Action": "iam:TagInstanceProfile",
         "Resource": profiles,
         "Condition": {"StringEquals": {
             **profile_tags, **requested,
             "aws:RequestTag/topology.kubernetes.io/region": region},
             "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                            "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "ManageOwnInstanceProfiles", "Effect": "Allow",
         "Action": ["iam:AddRoleToInstanceProfile", "iam:DeleteInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile"],
         "Resource": profiles,
         "Condition": {"StringEquals": profile_tags,
                       "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "ReadInstanceProfiles", "Effect": "Allow",
         "Action": "iam:GetInstanceProfile", "Resource": profiles},
        {"Sid": "ListInstanceProfiles", "Effect": "Allow",
         "Action": "iam:ListInstanceProfiles", "Resource": "*"},
        {"Sid": "DiscoverClusterEndpoint", "Effect": "Allow", "Action": "eks:DescribeCluster",
         "Resource": f"arn:{partition}:eks:{region}:{account}:cluster/{cluster}"},
        {"Sid": "ReadInterruptionQueue", "Effect": "Allow",
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
         "Resource": queue_arn},
    ]
    return _dumps({"Version": "2012-10-17", "Statement": statements})


def queue_policy(queue_arn: str) -> str:
    """EventBridge (and SQS itself) may send; nobody may use the queue without TLS."""
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "EventsSend", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
         "Resource": queue_arn},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Action": "sqs:*", "Principal": "*",
         "Resource": queue_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})


# What reaches the queue: the events Karpenter acts on before EC2 takes a node away.
INTERRUPTION_EVENTS = {
    "scheduled-change": ("aws.health", "AWS Health Event"),
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "instance-state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
}


def event_pattern(source: str, detail_type: str) -> str:
    return _dumps({"source": [source], "detail-type": [detail_type]})
