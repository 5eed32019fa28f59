"""The platform's rules as plain functions over a resource's type and inputs, one set for three
callers: the CrossGuard pack in ``platform/policy``, ``python -m stacks plan`` and the tests.
``rules`` holds the rules and ``check``, ``facts`` how to read Pulumi values and facts about
AWS types, ``workloads`` the rules over Kubernetes pods and StorageClasses, ``stateful`` what
holds data (protected in prod, and never replaced by a reviewed change). It may import
``components`` for shared constants (the required tags) and nothing else of ``stacks``. Its
users import the names below from ``stacks.policy``.
"""

from stacks.policy.facts import Context, is_taggable
from stacks.policy.rules import (
    RULES,
    Finding,
    Resource,
    ResourceRule,
    StackRule,
    blocking,
    check,
    report,
)

__all__ = [
    "RULES",
    "Context",
    "Finding",
    "Resource",
    "ResourceRule",
    "StackRule",
    "blocking",
    "check",
    "is_taggable",
    "report",
]
