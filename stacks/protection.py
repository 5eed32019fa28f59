"""Pulumi's `protect` on prod's stateful resources (stacks/policy/stateful.py says which).

A protected resource cannot be deleted, nor so replaced: `pulumi up` stops before touching it.
One stack transformation sets it, rather than an option in each component, so a stateful
resource added later is protected without anyone remembering to. `shop:unprotectStateful:
true` lifts it for one deliberate replacement (set it, `pulumi up`, unset it); the policy pack
is told by its config (platform/policy/pack_config.py), and `python -m stacks diff` still
fails the pull request that replaces one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from stacks.policy.stateful import is_stateful
from stacks.settings import Settings


def protects(settings: Settings) -> bool:
    return settings.environment == "prod" and not settings.unprotect_stateful


def protect_stateful(args: pulumi.ResourceTransformationArgs,
                     ) -> pulumi.ResourceTransformationResult | None:
    """The transformation: `protect=True` on each stateful resource, nothing else changed."""
    if not is_stateful(args.type_, _camel_keys(args.props)):
        return None
    return pulumi.ResourceTransformationResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True)))


def register(settings: Settings) -> None:
    """Called once, before the first resource, by stacks.compose.build."""
    if protects(settings):
        pulumi.runtime.register_stack_transformation(protect_stateful)


def _camel_keys(props: Mapping[str, Any]) -> dict[str, Any]:
    # A transformation sees the SDK's snake_case arguments; the rules read camelCase inputs.
    return {"replicateSourceDb": props.get("replicate_source_db", props.get("replicateSourceDb"))}
