"""Helpers for the component tests: run one component under the mock engine, check that a
refused argument leaves nothing behind, and check the invariants every component keeps."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pytest

from stacks.plan.mocks import Recorded, run_under_mocks
from stacks.policy.facts import is_taggable

PROD_TAGS = {"Project": "shop", "Environment": "prod", "Owner": "platform-team",
             "CostCenter": "shop"}
DEV_TAGS = {**PROD_TAGS, "Environment": "dev"}
NODE_SG = "sg-0nodes0000000000"


def run_component(build: Callable[[], pulumi.ComponentResource], *outputs: str) -> Recorded:
    """Run `build` under the mocks, exporting the named outputs of the component it returns."""
    def program() -> None:
        component = build()
        for name in outputs:
            pulumi.export(name, getattr(component, name))

    return run_under_mocks(program)


def assert_refused(build: Callable[[], object], field: str) -> str:
    """`build` raises a ValueError naming `field`, and no resource was registered."""
    messages: list[str] = []

    def program() -> None:
        with pytest.raises(ValueError, match=field) as raised:
            build()
        messages.append(str(raised.value))

    recorded = run_under_mocks(program)
    assert messages, "the program never ran"
    assert recorded.resources == []
    return messages[0]


def assert_well_formed(recorded: Recorded, token: str, tags: dict[str, str]) -> None:
    """Every resource is a child of the one component; each taggable one carries the stack's
    tags and its own Name."""
    component = recorded.one(token)
    for resource in recorded.resources:
        if resource is component:
            continue
        assert resource.parent == component.urn, resource.name
        if is_taggable(resource.type):
            assert resource.inputs.get("tags") == {**tags, "Name": resource.name}, resource.name


def all_inputs(recorded: Recorded) -> str:
    return json.dumps([r.inputs for r in recorded.resources], sort_keys=True)


def assert_no_secret_values(recorded: Recorded) -> None:
    """The mocks' generated secrets start with this marker; no input or output may show one."""
    assert "mock-secret-" not in all_inputs(recorded)
    assert "mock-secret-" not in json.dumps(recorded.outputs, default=str)
