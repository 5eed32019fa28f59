"""IAM policy documents of the cluster's workloads, as pure functions of resolved values.

Each grants one service account exactly what its software calls, on the narrowest resources
the API allows.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent / "addons_assets"
# The controller's published policy (docs/install/iam_policy.json of
# kubernetes-sigs/aws-load-balancer-controller v2.14), kept verbatim so upgrades diff cleanly.
LOAD_BALANCER_CONTROLLER_POLICY = ASSETS / "aws_load_balancer_controller_iam_policy.json"


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def assets_bucket_policy(bucket_arn: str) -> str:
    """The storefront's media: list the bucket, read/write/delete its objects, nothing else."""
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ListAssets", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [bucket_arn]},
        {"Sid": "ReadWriteAssets", "Effect": "Allow",
         "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
         "Resource": [f"{bucket_arn}/*"]},
    ]})


@cache
def load_balancer_controller_policy() -> str:
    return _dumps(json.loads(LOAD_BALANCER_CONTROLLER_POLICY.read_text(encoding="utf-8")))


def cluster_autoscaler_policy(cluster_name: str) -> str:
    """Discovery is read-only everywhere; resizing and terminating only touch Auto Scaling
    groups tagged as owned by this cluster (the tag the node groups carry)."""
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Discover", "Effect": "Allow", "Resource": ["*"], "Action": [
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations",
            "autoscaling:DescribeScalingActivities",
            "autoscaling:DescribeTags",
            "ec2:DescribeImages",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:GetInstanceTypesFromInstanceRequirements",
            "eks:DescribeNodegroup",
        ]},
        {"Sid": "ResizeOwnGroups", "Effect": "Allow", "Resource": ["*"], "Action": [
            "autoscaling:SetDesiredCapacity",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
        ], "Condition": {"StringEquals": {
            f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
        }}},
    ]})


def log_shipping_policy(log_group_arn: str) -> str:
    """Fluent Bit writes streams into one existing log group; it creates no group and reads
    nothing else."""
    arn = log_group_arn.removesuffix(":*")
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "WriteContainerLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": [arn, f"{arn}:log-stream:*"]},
    ]})
