"""The web ACL's rules, as pure functions: a per-IP rate limit first, then AWS's managed rule
groups. Every rule publishes CloudWatch metrics and samples requests.
"""

from __future__ import annotations

import pulumi_aws as aws

MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
RATE_WINDOW_SECONDS = 300
MIN_RATE_LIMIT, MAX_RATE_LIMIT = 10, 2_000_000_000


def visibility(metric_name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True)


def rate_limit_rule(prefix: str, limit: int, priority: int) -> aws.wafv2.WebAclRuleArgs:
    """Blocks an IP sending more than `limit` requests in five minutes; it runs first, so a
    flood is dropped before the costlier inspections."""
    return aws.wafv2.WebAclRuleArgs(
        name="rate-limit-per-ip",
        priority=priority,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                limit=limit, aggregate_key_type="IP",
                evaluation_window_sec=RATE_WINDOW_SECONDS)),
        visibility_config=visibility(f"{prefix}-rate-limit-per-ip"),
    )


def managed_rule(prefix: str, group: str, priority: int) -> aws.wafv2.WebAclRuleArgs:
    """An AWS managed rule group with its own actions (override none: its rules block)."""
    return aws.wafv2.WebAclRuleArgs(
        name=group,
        priority=priority,
        override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
            # The generated class of an empty block has an unannotated __init__.
            none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),  # type: ignore[no-untyped-call]
        statement=aws.wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=aws.wafv2.
            WebAclRuleStatementManagedRuleGroupStatementArgs(vendor_name="AWS", name=group)),
        visibility_config=visibility(f"{prefix}-{group}"),
    )


def web_acl_rules(prefix: str, rate_limit: int) -> list[aws.wafv2.WebAclRuleArgs]:
    if not MIN_RATE_LIMIT <= rate_limit <= MAX_RATE_LIMIT:
        raise ValueError(f"rate_limit_per_5_minutes must be between {MIN_RATE_LIMIT} and "
                         f"{MAX_RATE_LIMIT}, got {rate_limit}")
    return [
        rate_limit_rule(prefix, rate_limit, priority=0),
        *(managed_rule(prefix, group, priority=10 * (index + 1))
          for index, group in enumerate(MANAGED_RULE_GROUPS)),
    ]
