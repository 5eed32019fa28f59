"""prod protects its stateful resources (Pulumi's `protect`), a named setting lifts it, the
rule checks it in the plan and in the CrossGuard pack, and the diff flags losing one."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.plan.command import run_plan, stack_config
from stacks.plan.mocks import Recorded
from stacks.policy import Context, check
from stacks.policy.stateful import is_stateful
from stacks.settings import SettingsError, load_from_mapping

RULE = "prod-stateful-protected"
STATEFUL_IN_PROD = {
    ("aws:rds/instance:Instance", "database-primary"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "cache-redis"),
    ("aws:s3/bucket:Bucket", "cdn-assets"), ("aws:s3/bucket:Bucket", "cdn-logs"),
    ("aws:kms/key:Key", "database-key"), ("aws:kms/key:Key", "cache-key"),
    ("aws:kms/key:Key", "cluster-secrets"), ("aws:kms/key:Key", "registry-key"),
    ("eks:index:Cluster", "cluster-eks"),
    # the safeguards: the trail's locked bucket and its key, the recovery region's copies
    ("aws:s3/bucket:Bucket", "security-trail"), ("aws:kms/key:Key", "security-key"),
    ("aws:s3/bucket:Bucket", "recovery-media-replica"), ("aws:kms/key:Key", "recovery-key"),
}


def protected(recorded: Recorded) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in recorded if r.options.protect}


def test_prod_protects_every_stateful_resource_and_nothing_else(prod_plan: Recorded):
    assert protected(prod_plan) == STATEFUL_IN_PROD
    replica = prod_plan.one("aws:rds/instance:Instance", "database-replica-1")
    assert not replica.options.protect  # rebuilt from the primary, so free to replace
    assert [f for f in check(prod_plan, Context(environment="prod")) if f.policy == RULE] == []


def test_dev_protects_nothing(dev_plan: Recorded):
    assert protected(dev_plan) == set()


@pytest.fixture(scope="module")
def unprotected_prod() -> Recorded:
    config = {**stack_config("prod"), "shop:unprotectStateful": True}
    return run_plan(load_from_mapping("prod", config, project="shop"))


def test_the_setting_lifts_protect_and_the_rule_then_names_each_one(unprotected_prod):
    assert protected(unprotected_prod) == set()
    findings = [f for f in check(unprotected_prod, Context(environment="prod")) if f.policy == RULE]
    assert {(f.urn.rsplit("::", 2)[-2].rsplit("$", 1)[-1], f.name) for f in findings} == (
        STATEFUL_IN_PROD)
    assert {f.enforcement for f in findings} == {"mandatory"}
    assert "shop:unprotectStateful" in findings[0].message
    # The pack's config says the operator lifted it on purpose: then the rule is quiet.
    assert [f for f in check(unprotected_prod, Context(environment="prod",
                                                       unprotect_stateful=True))
            if f.policy == RULE] == []


def test_the_setting_takes_only_a_boolean():
    with pytest.raises(SettingsError, match="shop:unprotectStateful must be true or false, "
                                            "got 'yes'"):
        load_from_mapping("prod", {**stack_config("prod"), "shop:unprotectStateful": "yes"})


@pytest.mark.parametrize(("type_", "inputs", "stateful"), [
    ("aws:rds/instance:Instance", {"identifier": "db"}, True),
    ("aws:rds/instance:Instance", {"replicateSourceDb": "db"}, False),
    ("aws:s3/bucket:Bucket", {}, True),
    ("aws:ec2/securityGroup:SecurityGroup", {}, False),
])
def test_what_counts_as_stateful(type_: str, inputs: dict[str, Any], stateful: bool):
    assert is_stateful(type_, inputs) is stateful

