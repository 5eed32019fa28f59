"""Who may reach prod's private cluster API: the rule relating shop:clusterAdminRoleArn,
shop:clusterDeployRoleArn and the environment (components/cluster_access.py says what each
role is granted and why). fields.py imports the role ARN's shape from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+"
ROLE_EXAMPLE = "an IAM role ARN like 'arn:aws:iam::123456789012:role/admin'"


def access_checks(environment: str, v: Mapping[str, Any]) -> list[str]:
    """prod's API endpoint is private and its authentication mode is access entries only: without
    an admin and a deploy role, nobody but the identity that created the cluster could ever
    reach it, and CI would get Unauthorized on every Kubernetes object."""
    admin, deploy = v["clusterAdminRoleArn"], v["clusterDeployRoleArn"]
    if environment != "prod":
        return []
    problems = [
        f"shop:{key} must be set in prod to {ROLE_EXAMPLE} ({who}), got ''"
        for key, value, who in (
            ("clusterAdminRoleArn", admin, "the role the people operating prod assume"),
            ("clusterDeployRoleArn", deploy, "the role CI runs `pulumi up` with"))
        if not value]
    if admin and admin == deploy:
        problems.append("shop:clusterDeployRoleArn must differ from shop:clusterAdminRoleArn in "
                        f"prod, so a pipeline's change is told from a person's, got {admin!r} "
                        "for both")
    return problems
