"""The identity of a fake resource: what its mock id, ARN and endpoints are derived from.

A real replacement creates a new cloud object, with a new id: every resource that reads that
id (a subnet's `vpcId`, a security group rule's `securityGroupId`) sees a new value, and is
replaced in turn where that input forces it. So the mocks fold into a resource's identity the
values of exactly the inputs that force its replacement (the ForceNew table of
stacks/review/replacements.py): an update keeps the id, a replacement changes it, and the
change cascades through the plan as it would through a real `pulumi preview`. Deterministic:
the same inputs give the same identity, run after run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from stacks.review.replacements import ANY, replacement_paths

# Recorded in each plan (`mockIds`): plans whose ids were made differently cannot be compared
# id for id, and the diff says so.
SCHEME = "type+name+forcenew/1"


def short_hash(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("::".join(parts).encode()).hexdigest()[:length]


# Secret values are never folded in: a plan must not carry even a digest of them (and the
# diff masks them anyway, so their change cannot show offline).
SECRET_INPUTS: Mapping[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Secret": ("data", "stringData"),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary"),
}


def replacement_key(type_: str, inputs: Mapping[str, Any]) -> str:
    """The values of the inputs whose change replaces a resource of this type, as canonical
    JSON; `{}` for a type none of whose set inputs forces a replacement."""
    secret = SECRET_INPUTS.get(type_, ())
    rules = tuple(rule for rule in replacement_paths(type_) if rule not in secret)
    if ANY in rules:
        return json.dumps(dict(inputs), sort_keys=True, default=_stable)
    picked = {rule: value for rule in rules
              if (value := _at(inputs, rule.split("."))) is not None}
    return json.dumps(picked, sort_keys=True, default=_stable)


def _stable(value: Any) -> str:
    """An asset, archive or other SDK object by what it points at, never by its repr (which
    holds a memory address and would make plans differ run after run)."""
    for attribute in ("path", "uri", "text"):
        found = getattr(value, attribute, None)
        if isinstance(found, str):
            return f"{type(value).__name__}:{found}"
    return type(value).__name__


def identity_hash(type_: str, name: str, inputs: Mapping[str, Any]) -> str:
    """What ids and endpoints are built from: type and name, plus the replacing inputs."""
    key = replacement_key(type_, inputs)
    # A type with nothing to fold keeps the hash of its type and name alone.
    return short_hash(type_, name) if key == "{}" else short_hash(type_, name, key)


def _at(value: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
