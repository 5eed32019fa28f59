"""CloudWatch log groups the platform writes to, created before their writers so that a
retention period applies from the first line (a group AWS creates itself keeps logs forever).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.arg_checks import require_choice, with_name

# The retention periods CloudWatch Logs accepts.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)


def require_retention(field: str, days: int) -> None:
    require_choice(field, days, RETENTION_DAYS)


def retained_log_group(resource_name: str, log_group_name: str, retention_days: int,
                       tags: Mapping[str, str], parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=log_group_name,
        retention_in_days=retention_days,
        tags=with_name(tags, log_group_name),
        opts=pulumi.ResourceOptions(parent=parent),
    )
