"""Argument checks shared by the data and edge components.

Each raises ValueError naming the field, the value and what is allowed, so a wrong setting
stops the program before any resource exists.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pulumi

REQUIRED_TAGS: tuple[str, ...] = ("Project", "Environment", "Owner", "CostCenter")

_SNAPSHOT_NAME = re.compile(r"[a-z](?:-?[a-z0-9])*")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def require_tags(tags: Mapping[str, str]) -> None:
    missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
    if missing:
        raise ValueError(f"tags must carry {', '.join(REQUIRED_TAGS)}; "
                         f"missing {', '.join(missing)}")


def require_range(field: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{field} must be between {low} and {high}, got {value}")


def require_choice(field: str, value: Any, allowed: Collection[Any]) -> None:
    if value not in allowed:
        shown = ", ".join(repr(choice) for choice in allowed)
        raise ValueError(f"{field} must be one of {shown}, got {value!r}")


def require_pattern(field: str, value: str, pattern: re.Pattern[str], expected: str) -> None:
    if not pattern.fullmatch(value):
        raise ValueError(f"{field} must be {expected}, got {value!r}")


def require_items(field: str, values: pulumi.Input[Sequence[Any]], minimum: int = 1) -> None:
    """Checks the count when the list is known now; an Output list is checked by AWS."""
    if isinstance(values, pulumi.Output):
        return
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) < minimum:
        raise ValueError(f"{field} must list at least {minimum} item(s), got {values!r}")


def require_hostnames(field: str, names: Sequence[str]) -> None:
    for host in names:
        require_pattern(field, host, _HOSTNAME, "lowercase DNS names like 'shop.example.com'")
    if len(set(names)) != len(names):
        raise ValueError(f"{field} must not repeat a name, got {list(names)}")


def require_snapshot_name(name: str) -> None:
    """A component whose final snapshot is named after it needs a name AWS accepts there."""
    require_pattern("name", name, _SNAPSHOT_NAME,
                    "lowercase letters, digits and single hyphens, starting with a letter "
                    "(it names the final snapshot)")


def with_name(tags: Mapping[str, str], name: str) -> dict[str, str]:
    """The stack's tags plus the Name the console shows."""
    return {**tags, "Name": name}
