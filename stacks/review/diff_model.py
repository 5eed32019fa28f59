"""What a plan diff is made of: property changes, resource changes, findings, the whole diff.

Plain frozen data, shared by diff.py (which computes it), cascade.py (which adds the
replacements that follow from others), verdict.py (policy findings) and render.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Operation = Literal["replace", "delete", "update", "create"]
# The order a reviewer reads them in: what destroys something first.
OPERATIONS: tuple[Operation, ...] = ("replace", "delete", "update", "create")
SYMBOLS: Mapping[str, str] = {"create": "+", "update": "~", "delete": "-", "replace": "+-"}


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The side of a change where the property does not exist."""


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any  # MISSING when the property is added
    after: Any  # MISSING when the property is removed
    replaces: bool = False
    # A replacement that follows from another one (cascade.py): what it follows.
    because: str = ""


@dataclass(frozen=True)
class ResourceChange:
    operation: Operation
    urn: str
    type: str
    name: str
    changes: tuple[PropertyChange, ...]
    parent: str = ""  # the URN of its component, "" at the stack's top
    # Stateful (stacks.policy.stateful), or protected in either plan: a replacement or
    # deletion of it loses data.
    stateful: bool = False
    protected: bool = False

    @property
    def replacing_paths(self) -> list[str]:
        return [change.path for change in self.changes if change.replaces]

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        return (OPERATIONS.index(self.operation), self.type, self.name, self.urn)

    @property
    def destructive(self) -> bool:
        """Data is lost: a stateful or protected resource is replaced or deleted."""
        return (self.stateful or self.protected) and self.operation in ("replace", "delete")

    @property
    def tags_only(self) -> bool:
        """An update that only retags: one line in a review is enough."""
        return self.operation == "update" and bool(self.changes) and all(
            change.path.split(".")[0].split("[")[0] in ("tags", "tagsAll")
            for change in self.changes)


@dataclass(frozen=True)
class Finding:
    """A policy finding of a plan, as the plan JSON records it."""

    policy: str
    urn: str
    name: str
    message: str
    enforcement: str  # "mandatory" | "advisory"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.policy, self.urn, self.message)


@dataclass(frozen=True)
class PlanDiff:
    before_stack: str
    after_stack: str
    resources: tuple[ResourceChange, ...]
    outputs: tuple[PropertyChange, ...]
    unchanged: int
    new_findings: tuple[Finding, ...] = ()
    resolved_findings: tuple[Finding, ...] = ()
    environment: str = ""
    # Each component's URN and name, for grouping changes by component.
    components: Mapping[str, str] = field(default_factory=dict)
    # What the reader must know before trusting the rest (plans made by different engines).
    warnings: tuple[str, ...] = ()

    def of(self, operation: Operation) -> list[ResourceChange]:
        return [change for change in self.resources if change.operation == operation]

    @property
    def has_changes(self) -> bool:
        return bool(self.resources or self.outputs)

    @property
    def destructive(self) -> list[ResourceChange]:
        return [change for change in self.resources if change.destructive]

    @property
    def new_mandatory(self) -> list[Finding]:
        return [f for f in self.new_findings if f.enforcement == "mandatory"]

    def summary(self) -> str:
        """`+2 ~1 -0 +-1`: creates, updates, deletes, replacements."""
        return " ".join(f"{SYMBOLS[op]}{len(self.of(op))}"
                        for op in ("create", "update", "delete", "replace"))
