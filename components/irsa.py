"""IAM roles for Kubernetes service accounts: one role per service account, in one of two
shapes the stack chooses once (shop:podIdentity):

- IRSA: trusted only by the cluster's OIDC provider for exactly that namespace/name pair; the
  service account carries the role's ARN in its `eks.amazonaws.com/role-arn` annotation;
- EKS Pod Identity: trusted by `pods.eks.amazonaws.com` (sts:AssumeRole and sts:TagSession)
  only for sessions tagged with that namespace and service account, and bound to it by an
  `aws.eks.PodIdentityAssociation`; the service account carries no annotation (the
  eks-pod-identity-agent add-on hands the pods their credentials).

This module is the one place that choice is made: `irsa_role` builds the role of the
stack's shape, `role_annotations` says what the service account carries. The trust policies
are pure functions of resolved strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.arg_checks import with_name

IRSA = "irsa"
POD_IDENTITY = "podIdentity"
IDENTITY_MODES = (IRSA, POD_IDENTITY)
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"


@dataclass(frozen=True)
class OidcProvider:
    """The cluster's IAM OIDC provider: its ARN and its issuer URL (with or without https://),
    and how the stack's pods get their roles (`mode`; with Pod Identity, the cluster whose
    associations bind them)."""

    arn: pulumi.Input[str]
    issuer_url: pulumi.Input[str]
    mode: str = IRSA
    cluster_name: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if self.mode not in IDENTITY_MODES:
            raise ValueError(f"oidc.mode must be one of {', '.join(IDENTITY_MODES)}, got "
                             f"{self.mode!r}")
        if self.mode == POD_IDENTITY and self.cluster_name is None:
            raise ValueError("oidc.cluster_name is required with Pod Identity: the "
                             "associations name their cluster")

    @property
    def pod_identity(self) -> bool:
        return self.mode == POD_IDENTITY


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
    # Pod Identity only: False when an EKS add-on makes the association itself (its
    # `pod_identity_associations`), as two associations for one account would conflict.
    associate: bool = True


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


def pod_identity_trust_policy(namespace: str, service_account: str) -> str:
    """EKS Pod Identity assumes the role with the pod's session tags; only sessions of
    `<namespace>/<service_account>` match (the association is what grants them)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": POD_IDENTITY_SERVICE},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": service_account,
            }},
        }],
    }, sort_keys=True)


def role_annotations(oidc: OidcProvider, role_arn: pulumi.Input[str], regional: bool = True
                     ) -> dict[str, pulumi.Input[str]]:
    """What a service account carries for its role: IRSA's annotations (`regional`: the
    regional STS endpoint), or with Pod Identity nothing."""
    if oidc.pod_identity:
        return {}
    annotations: dict[str, pulumi.Input[str]] = {"eks.amazonaws.com/role-arn": role_arn}
    if regional:
        annotations["eks.amazonaws.com/sts-regional-endpoints"] = "true"
    return annotations


def _trust(args: IrsaRoleArgs) -> pulumi.Output[str]:
    if args.oidc.pod_identity:
        return pulumi.Output.from_input(
            pod_identity_trust_policy(args.namespace, args.service_account))
    return pulumi.Output.all(args.oidc.arn, args.oidc.issuer_url).apply(
        lambda values: trust_policy(values[0], values[1], args.namespace,
                                    args.service_account))


def irsa_role(name: str, args: IrsaRoleArgs, parent: pulumi.Resource) -> aws.iam.Role:
    """The role (`<name>-role`), its inline policy (`<name>-policy`), one attachment per
    managed policy (`<name>-<policy name>`) and, with Pod Identity, its association
    (`<name>-association`), all children of `parent`."""
    kind = "Pod Identity" if args.oidc.pod_identity else "IRSA"
    role = aws.iam.Role(
        f"{name}-role",
        description=f"{kind} role of {args.namespace}/{args.service_account}",
        assume_role_policy=_trust(args),
        max_session_duration=3600,
        tags=with_name(args.tags, f"{name}-role"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if args.oidc.pod_identity and args.associate:
        assert args.oidc.cluster_name is not None  # OidcProvider checked it
        aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=args.oidc.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=role.arn,
            tags=with_name(args.tags, f"{name}-association"),
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
