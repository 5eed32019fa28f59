"""What the mock engine answered for a recorded resource: its outputs (ARNs, ids), which the
recording keeps only as the inputs of the resources that used them."""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from stacks.plan.mocks import RecordedResource, ShopMocks


def output(resource: RecordedResource, key: str, region: str = "us-east-1") -> Any:
    """The mocks are deterministic, so asking them again gives what the program saw."""
    _id, state = ShopMocks(region).new_resource(
        MockResourceArgs(resource.type, resource.name, dict(resource.inputs), custom=True))
    return state[key]
