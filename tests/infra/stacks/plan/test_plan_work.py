"""How much work an offline plan does, counted rather than timed (the time is `python -m bench
plan`'s): what `stacks plan` imports, how often the mock engine is asked, and how often each
policy rule runs. Each test fails when the count grows."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from stacks import compose
from stacks.plan import mocks
from stacks.plan.mocks import Recorded, run_under_mocks
from stacks.policy import rules as policies
from stacks.settings import Settings

# What only the other commands need: `stacks plan` must not import them.
# stacks.review.replacements is the ForceNew table the mock ids read; the diff itself stays out.
OTHER_COMMANDS = ("boto3", "botocore", "stacks.ops", "stacks.review.command", "stacks.review.diff",
                  "stacks.previews.command")


def test_the_plan_command_imports_no_other_command() -> None:
    probe = (
        "import json, sys\n"
        "from stacks.__main__ import main\n"
        "code = main(['plan', 'no-such-stack'])\n"
        f"print(json.dumps([code, sorted(m for m in {list(OTHER_COMMANDS)!r} "
        "if m in sys.modules)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=120)
    code, imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert code == 2  # the stack file is missing, which the plan command itself reports
    assert "Pulumi.no-such-stack.yaml not found" in result.stderr
    assert imported == []


class CountingMocks(mocks.ShopMocks):
    """The plan's mock engine, counting what it is asked."""

    resources: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        CountingMocks.resources[f"{args.typ}::{args.name}"] += 1
        return super().new_resource(args)

    def call(self, args: Any) -> dict[str, Any]:
        CountingMocks.calls[args.token] += 1
        return super().call(args)


@pytest.fixture
def counted_dev_plan(dev_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    CountingMocks.resources, CountingMocks.calls = Counter(), Counter()
    monkeypatch.setattr(mocks, "ShopMocks", CountingMocks)
    return run_under_mocks(lambda: compose.build(dev_settings), stack=dev_settings.stack,
                           project=dev_settings.project, region=dev_settings.region)


# Each data source the dev program looks up, and how often: once per component that needs it.
DEV_DATA_SOURCE_CALLS = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": 1,
    "aws:index/getCallerIdentity:getCallerIdentity": 1,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": 3,
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": 1,
    "aws:lb/getHostedZoneId:getHostedZoneId": 1,
    "aws:ec2/getPrefixList:getPrefixList": 1,
}


def test_the_mock_engine_is_asked_once_per_registered_resource(counted_dev_plan: Recorded) -> None:
    registered = Counter(f"{r.type}::{r.name}" for r in counted_dev_plan)
    assert len(registered) > 100, "the dev plan registered far fewer resources than it has"
    # The SDK's mock monitor asks for every registration, components included; a resource
    # registered twice, or an extra lookup per resource, would show here.
    assert CountingMocks.resources == registered
    assert len(counted_dev_plan.resources) == len({r.urn for r in counted_dev_plan})


def test_the_program_looks_each_data_source_up_a_known_number_of_times(
        counted_dev_plan: Recorded) -> None:
    assert dict(CountingMocks.calls) == DEV_DATA_SOURCE_CALLS


def _counted(rule: policies.ResourceRule | policies.StackRule, runs: Counter[str]) -> Any:
    def validate(*args: Any) -> Iterator[Any]:
        runs[rule.name] += 1
        yield from rule.validate(*args)

    return dataclasses.replace(rule, validate=validate)


def test_policy_runs_each_resource_rule_once_per_resource_and_each_stack_rule_once(
        dev_plan: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: Counter[str] = Counter()
    monkeypatch.setattr(policies, "RULES", tuple(_counted(rule, runs) for rule in policies.RULES))
    unwatched = policies.check(dev_plan)
    monkeypatch.undo()

    resources = len(dev_plan.resources)
    assert runs == {rule.name: 1 if isinstance(rule, policies.StackRule) else resources
                    for rule in policies.RULES}
    assert unwatched == policies.check(dev_plan)  # counting changed nothing it found
