"""A VPC CIDR change, planned for real under the mock engine and diffed: the whole cascade a
real `pulumi preview` would show, the stateful losses at the top, and the exit codes CI acts on.
"""

from __future__ import annotations

from typing import Any

import pytest

from stacks.plan.command import plan_document, plan_findings, run_plan, stack_config
from stacks.plan.mocks import Recorded
from stacks.review.command import DESTRUCTIVE, NEW_MANDATORY, exit_code
from stacks.review.diff import PlanDiff, diff_plans
from stacks.review.render import render_markdown, render_text
from stacks.review.sections import RunInfo
from stacks.settings import Settings, load_from_mapping


def document(settings: Settings, recorded: Recorded) -> dict[str, Any]:
    return plan_document(settings, recorded, plan_findings(settings, recorded))


def moved(stack: str, cidr: str) -> dict[str, Any]:
    settings = load_from_mapping(stack, {**stack_config(stack), "shop:vpcCidr": cidr})
    return document(settings, run_plan(settings))


@pytest.fixture(scope="module")
def dev_diff(dev_settings: Settings, dev_plan: Recorded) -> PlanDiff:
    return diff_plans(document(dev_settings, dev_plan), moved("dev", "10.30.0.0/16"))


@pytest.fixture(scope="module")
def prod_diff(prod_settings: Settings, prod_plan: Recorded) -> PlanDiff:
    return diff_plans(document(prod_settings, prod_plan), moved("prod", "10.40.0.0/16"))


def replaced(diff: PlanDiff) -> set[str]:
    return {change.name for change in diff.of("replace")}


def test_a_vpc_cidr_change_replaces_everything_that_lives_in_the_vpc(dev_diff: PlanDiff):
    names = replaced(dev_diff)
    assert {"network-vpc", "network-private-us-east-1a", "network-isolated-us-east-1b"} <= names
    # Security groups: vpcId forces replacement, and the VPC's id is new.
    assert {"database-sg", "cache-sg", "origin-sg", "network-endpoints-sg"} <= names
    # Subnet groups whose subnets are all new, and what they hold.
    assert {"database-subnets", "cache-subnets", "database-primary", "cache-redis"} <= names
    # The cluster (its VPC and subnets), its nodes, its provider and every object on it.
    assert {"cluster-eks", "cluster-nodes", "cluster-k8s", "storefront-deployment",
            "addons-lbc", "monitoring-stack"} <= names
    # What does not live in the VPC stays: keys, buckets, the registry.
    assert not {"database-key", "cdn-assets", "cdn-logs", "registry-repository"} & names


def test_each_cascade_says_what_it_follows(dev_diff: PlanDiff):
    by_name = {change.name: change for change in dev_diff.resources}
    (reason,) = [c for c in by_name["database-primary"].changes if c.replaces]
    assert (reason.path, reason.because) == ("dbSubnetGroupName", "database-subnets is replaced")
    assert by_name["database-subnets"].changes[0].because == "its subnets are all replaced"
    assert by_name["cluster-k8s"].changes[0].because == "cluster-eks is replaced"
    assert by_name["storefront-deployment"].changes[0].path == "(options).provider"


def test_dev_flags_the_stateful_losses_first_and_fails_as_destructive(dev_diff: PlanDiff):
    assert {c.name for c in dev_diff.destructive} == {"database-primary", "cache-redis",
                                                      "cluster-eks"}
    assert {f.enforcement for f in dev_diff.new_findings} == {"advisory"}
    assert exit_code(dev_diff) == DESTRUCTIVE
    lines = render_text(dev_diff).splitlines()
    assert lines[2].startswith("\u2716 DESTRUCTIVE CHANGE: 3 resources")
    markdown = render_markdown(dev_diff, run=RunInfo("0123456789abcdef", "https://ci/run/7"))
    assert "commit `0123456789ab` \u00b7 [CI run](https://ci/run/7)" in markdown
    assert markdown.index("`destructive change`") < markdown.index("Replacements")
    assert "#### network <sub>shop:network:Network</sub>" in markdown


def test_prod_makes_losing_a_protected_resource_a_new_mandatory_finding(prod_diff: PlanDiff):
    losses = {c.name: c for c in prod_diff.destructive}
    assert {"database-primary", "cache-redis", "cluster-eks"} <= set(losses)
    assert all(change.protected for change in losses.values())
    assert {(f.policy, f.name) for f in prod_diff.new_mandatory} >= {
        ("no-stateful-replacement", "database-primary"),
        ("no-stateful-replacement", "cache-redis"), ("no-stateful-replacement", "cluster-eks")}
    assert exit_code(prod_diff) == NEW_MANDATORY
    assert "protected aws:rds/instance:Instance would be replaced" in render_text(prod_diff)
