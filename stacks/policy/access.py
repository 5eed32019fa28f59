"""Who can reach a prod cluster: its endpoint is private and its authentication mode is access
entries only, so without entries for an admin role and a deploy role nobody but the identity
that created the cluster could use its Kubernetes API (and CI would get Unauthorized on every
object). The roles and what each is granted: components/cluster_access.py.

The rule reads pulumi-eks's `eks:index:Cluster` inputs (`accessEntries`, keyed by role), which
both the offline plan and CrossGuard see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from components.cluster_access import ACCESS_POLICY_PREFIX, ADMIN, DEPLOY
from stacks.policy.facts import Context, dig, text

EKS_CLUSTER = "eks:index:Cluster"
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_WHO = {ADMIN: "the people operating it", DEPLOY: "the role CI deploys with"}


def _policies(entry: Mapping[str, Any]) -> list[str]:
    associations = entry.get("accessPolicies") or {}
    return [text(association.get("policyArn")) or ""
            for association in associations.values() if isinstance(association, Mapping)]


def prod_cluster_access(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    environment = ctx.environment or text(dig(inputs, "tags", "Environment"))
    if type_ != EKS_CLUSTER or environment != "prod":
        return
    entries = inputs.get("accessEntries") or {}
    principals: list[str] = []
    for key in (ADMIN, DEPLOY):
        found = entries.get(key) if isinstance(entries, Mapping) else None
        entry: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        principal = text(entry.get("principalArn"))
        if not principal or not _ROLE_ARN.fullmatch(principal):
            yield (f"prod cluster has no '{key}' access entry for an IAM role ({_WHO[key]}): "
                   f"set shop:cluster{key.title()}RoleArn")
            continue
        principals.append(principal)
        granted = [arn for arn in _policies(entry) if arn.startswith(ACCESS_POLICY_PREFIX)]
        if not granted:
            yield f"prod cluster's '{key}' access entry associates no EKS access policy"
    if len(principals) == 2 and principals[0] == principals[1]:
        yield "prod cluster's admin and deploy access entries name the same role"
