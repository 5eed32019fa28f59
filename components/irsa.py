"""IAM roles for Kubernetes service accounts (IRSA): one role per service account, trusted
only by the cluster's OIDC provider for exactly that namespace/name pair.

The trust policy is a pure function of resolved strings; `irsa_role` creates the role and
its permissions as children of the calling component.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.arg_checks import with_name


@dataclass(frozen=True)
class OidcProvider:
    """The cluster's IAM OIDC provider: its ARN and its issuer URL (with or without https://)."""

    arn: pulumi.Input[str]
    issuer_url: pulumi.Input[str]


@dataclass(frozen=True)
class IrsaRoleArgs:
    oidc: OidcProvider
    namespace: str
    service_account: str
    tags: Mapping[str, str]
    # A JSON policy document (usually an Output) attached inline: it lives and dies with the role.
    inline_policy: pulumi.Input[str] | None = None
    # AWS managed policies by name under `policy/`, e.g. "service-role/AmazonEBSCSIDriverPolicy".
    managed_policies: Sequence[str] = field(default_factory=tuple)


def issuer_host_path(issuer_url: str) -> str:
    """`https://oidc.eks.<region>.amazonaws.com/id/ABC` -> `oidc.eks.<region>.amazonaws.com/id/ABC`,
    the form IAM condition keys use."""
    return issuer_url.removeprefix("https://").rstrip("/")


def partition_of(arn: str) -> str:
    """`arn:aws-us-gov:iam::1:...` -> `aws-us-gov`, so managed policy ARNs fit the account."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[1]


def trust_policy(oidc_arn: str, issuer_url: str, namespace: str, service_account: str) -> str:
    """Only tokens the cluster issued for `system:serviceaccount:<namespace>:<name>`, with
    the STS audience, may assume the role."""
    issuer = issuer_host_path(issuer_url)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }},
        }],
    }, sort_keys=True)


def irsa_role(name: str, args: IrsaRoleArgs, parent: pulumi.Resource) -> aws.iam.Role:
    """The role (`<name>-role`), its inline policy (`<name>-policy`) and one attachment per
    managed policy (`<name>-<policy name>`), all children of `parent`."""
    role = aws.iam.Role(
        f"{name}-role",
        description=f"IRSA role of {args.namespace}/{args.service_account}",
        assume_role_policy=pulumi.Output.all(args.oidc.arn, args.oidc.issuer_url).apply(
            lambda values: trust_policy(values[0], values[1], args.namespace,
                                        args.service_account)),
        max_session_duration=3600,
        tags=with_name(args.tags, f"{name}-role"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if args.inline_policy is not None:
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=args.inline_policy,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    for policy in args.managed_policies:
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=pulumi.Output.from_input(args.oidc.arn).apply(_managed_policy(policy)),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return role


def _managed_policy(policy: str) -> Callable[[str], str]:
    """The ARN of an AWS managed policy, in the partition of the ARN it is given."""
    return lambda arn: f"arn:{partition_of(arn)}:iam::aws:policy/{policy}"
