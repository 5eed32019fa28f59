"""What the policy rules know: how to read Pulumi input values, and facts about AWS types.

Values arrive as Pulumi sends them: plain JSON from an offline plan, or CrossGuard's read-only
proxies (``Mapping``/``Sequence``, never ``dict``/``list``), so the readers test for the
abstract types. Booleans may come as strings: launch templates and StorageClasses say "true".
"""

from __future__ import annotations

import functools
import importlib
import inspect
import keyword
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.arg_checks import REQUIRED_TAGS

# Private ECR registries only: "<12-digit account>.dkr.ecr.<region>.amazonaws.com(.cn)".
ECR_HOST = r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?"

_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_EC2_FAMILIES = ("t3", "t3a", "t4g", "m6i", "m6g", "m7i", "m7g", "c6i", "c6g", "c7i", "c7g",
                 "r6i", "r6g", "r7i", "r7g")
_RDS_FAMILIES = ("t3", "t4g", "m6i", "m6g", "m7g", "r6i", "r6g", "r7g")
_CACHE_FAMILIES = ("t3", "t4g", "m6g", "m7g", "r6g", "r7g")
# Current generations up to 2xlarge: bigger or older types need a reason, hence advisory.
DEFAULT_ALLOWED_INSTANCE_TYPES: frozenset[str] = frozenset(
    f"{prefix}{family}.{size}"
    for prefix, families in (("", _EC2_FAMILIES), ("db.", _RDS_FAMILIES),
                             ("cache.", _CACHE_FAMILIES))
    for family in families for size in _SIZES
)

# Where each type names its instance type(s): a string, or a list of strings.
INSTANCE_TYPE_INPUTS: Mapping[str, str] = {
    "aws:ec2/instance:Instance": "instanceType",
    "aws:ec2/launchTemplate:LaunchTemplate": "instanceType",
    "aws:eks/nodeGroup:NodeGroup": "instanceTypes",
    "aws:rds/instance:Instance": "instanceClass",
    "aws:rds/clusterInstance:ClusterInstance": "instanceClass",
    "aws:elasticache/replicationGroup:ReplicationGroup": "nodeType",
    "aws:elasticache/cluster:Cluster": "nodeType",
    "eks:index:Cluster": "instanceType",
    "eks:index:NodeGroup": "instanceType",
    "eks:index:NodeGroupV2": "instanceType",
    "eks:index:ManagedNodeGroup": "instanceTypes",
}


@dataclass(frozen=True)
class Context:
    """What the rules know about the stack beyond its resources."""

    # dev | prod | preview; None reads each resource's own Environment tag.
    environment: str | None = None
    # "<account>.dkr.ecr.<region>.amazonaws.com"; None accepts any private ECR registry.
    registry_host: str | None = None
    allowed_instance_types: frozenset[str] = DEFAULT_ALLOWED_INSTANCE_TYPES
    # shop:unprotectStateful: prod's stateful resources may go without `protect`, for a
    # deliberate replacement.
    unprotect_stateful: bool = False


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def items(value: Any) -> list[Any]:
    """A list input as a list; a single value as a one-item list; nothing as []."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def dig(value: Any, *keys: str) -> Any:
    """value[k1][k2]..., or None where a level is missing."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@functools.cache
def is_taggable(type_: str) -> bool:
    """True when pulumi_aws's class for this type token accepts ``tags``."""
    package, _, rest = type_.partition(":")
    module, _, class_name = rest.partition(":")
    if package != "aws" or not class_name:
        return False
    module = module.split("/")[0]
    # The generator appends "_" to modules named like Python keywords (aws:lambda -> lambda_).
    python_module = "pulumi_aws" if module == "index" else (
        f"pulumi_aws.{module}{'_' if keyword.iskeyword(module) else ''}")
    try:
        cls = getattr(importlib.import_module(python_module), class_name)
    except (ImportError, AttributeError):
        return False
    init = getattr(cls, "_internal_init", cls.__init__)
    return "tags" in inspect.signature(init).parameters


def missing_tags(tags: Any) -> list[str]:
    # Auto Scaling groups spell tags as a list of {key, value, propagateAtLaunch}.
    if isinstance(tags, Sequence) and not isinstance(tags, str):
        tags = {dig(tag, "key"): dig(tag, "value") for tag in tags}
    present = tags if isinstance(tags, Mapping) else {}
    return [key for key in REQUIRED_TAGS if not text(present.get(key))]


def instance_types(type_: str, inputs: Mapping[str, Any]) -> list[str]:
    key = INSTANCE_TYPE_INPUTS.get(type_)
    found = items(inputs.get(key)) if key else []
    return [value for value in found if isinstance(value, str)]
