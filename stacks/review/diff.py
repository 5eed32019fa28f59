"""What changes between two plans (`python -m stacks plan STACK --out FILE`), in the spirit of
`pulumi preview --diff`: the resources to create, update, replace and delete, each with its
property-level changes, and the stack outputs that change.

Resources are matched by URN. A changed property that forces replacement (replacements.py)
makes the resource a replacement. Values that are secret never show: the plan already masks
secret Outputs as "[secret]", and here every value under a key that looks secret (`password`,
`authToken`, a Kubernetes Secret's data, an env var named `..._PASSWORD`) is masked as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from stacks.plan.recorded import SECRET
from stacks.review import cascade, verdict
from stacks.review.diff_model import (
    MISSING,
    OPERATIONS,
    SYMBOLS,
    Finding,
    Operation,
    PlanDiff,
    PropertyChange,
    ResourceChange,
)
from stacks.review.replacements import forces_replacement

__all__ = ["MISSING", "OPERATIONS", "SYMBOLS", "DiffError", "Finding", "PlanDiff",
           "PropertyChange", "ResourceChange", "compare", "diff_plans", "load_plan",
           "looks_secret"]

class DiffError(Exception):
    """A plan that cannot be compared: missing, unreadable, or not a plan."""


_SECRET_WORD = re.compile(
    r"password|passwd|secret|token|credential|private[-_]?key|api[-_]?key|kubeconfig", re.I)
# Names of secrets, and pointers to them, are not secret: `secretArn`, `secretKeyRef`.
_REFERENCE = re.compile(r"(arn|arns|id|ids|name|names|ref|version)$", re.I)
# Kubernetes Secrets keep every value under these keys, whatever the key is called.
_SECRET_DATA = {"kubernetes:core/v1:Secret": ("data", "stringData")}
_PLAIN_KEY = re.compile(r"[A-Za-z_$][\w$-]*")
# Options that change how the engine treats a resource; dependencies follow the inputs.
_OPTIONS = ("provider", "protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges",
            "replaceOnChanges", "additionalSecretOutputs")
OPTIONS_PREFIX = "(options)"



def load_plan(path: Path) -> dict[str, Any]:
    """A plan file, checked enough that comparing it cannot fail halfway."""
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiffError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DiffError(f"{path}: not a readable JSON plan ({error})") from None
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(_is_resource(r) for r in resources):
        raise DiffError(f"{path}: not a plan: expected {{\"resources\": [{{\"urn\", \"type\", "
                        "\"name\", \"inputs\"}, ...]}, as `python -m stacks plan --out` writes")
    if not isinstance(document.get("outputs", {}), dict):
        raise DiffError(f"{path}: not a plan: \"outputs\" must be a mapping")
    return document


def _is_resource(record: Any) -> bool:
    return (isinstance(record, dict)
            and all(isinstance(record.get(key), str) for key in ("urn", "type", "name"))
            and isinstance(record.get("inputs", {}), dict))


def diff_plans(before: Mapping[str, Any], after: Mapping[str, Any]) -> PlanDiff:
    old = {record["urn"]: record for record in before["resources"]}
    new = {record["urn"]: record for record in after["resources"]}
    changes: list[ResourceChange] = []
    unchanged = 0
    for urn in sorted(old.keys() | new.keys()):
        change = _resource_change(old.get(urn), new.get(urn))
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    # Replacements that no input shows (a subnet group whose subnets all move, the objects of
    # a replaced cluster's provider): each one was counted unchanged above, if it was.
    followed = cascade.follow(changes, old, new)
    unchanged -= len(followed) - len(changes)
    environment = verdict.environment(after)
    marked = [verdict.mark(change, old.get(change.urn), new.get(change.urn))
              for change in followed]
    outputs = tuple(PropertyChange(path, b, a) for path, b, a in compare(
        before.get("outputs", {}), after.get("outputs", {}), ""))
    new_findings, resolved = verdict.findings_delta(before, after, marked, environment)
    return PlanDiff(str(before.get("stack", "")), str(after.get("stack", "")),
                    tuple(sorted(marked, key=lambda c: c.sort_key)), outputs, unchanged,
                    new_findings, resolved, environment, verdict.components(old, new),
                    verdict.warnings(before, after))


def _resource_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                     ) -> ResourceChange | None:
    record = new if new is not None else old
    assert record is not None
    type_ = record["type"]

    def properties(side: Mapping[str, Any] | None) -> Any:
        return MISSING if side is None else side.get("inputs", {})

    found = list(compare(properties(old), properties(new), "", type_))
    if old is None or new is None:
        operation: Operation = "create" if old is None else "delete"
        return ResourceChange(operation, record["urn"], type_, record["name"],
                              tuple(PropertyChange(*change) for change in found),
                              str(record.get("parent") or ""))
    found += compare(_options(old), _options(new), OPTIONS_PREFIX)
    if not found:
        return None
    replace_on = (new.get("options") or {}).get("replaceOnChanges", ())
    marked = tuple(PropertyChange(path, b, a, _replaces(type_, path, replace_on))
                   for path, b, a in found)
    operation = "replace" if any(change.replaces for change in marked) else "update"
    return ResourceChange(operation, record["urn"], type_, record["name"], marked,
                          str(record.get("parent") or ""))


def _options(record: Mapping[str, Any]) -> dict[str, Any]:
    options = record.get("options") or {}
    return {key: options[key] for key in _OPTIONS if key in options}


def _replaces(type_: str, path: str, replace_on_changes: Sequence[str]) -> bool:
    if path.startswith(OPTIONS_PREFIX):
        # A resource moved to another provider (another cluster, account or region) is new.
        return path == f"{OPTIONS_PREFIX}.provider"
    return forces_replacement(type_, path, replace_on_changes)


def compare(before: Any, after: Any, path: str, type_: str = "",
            secret: bool = False) -> Iterator[tuple[str, Any, Any]]:
    """Every leaf that differs, as (path, before, after), secret values masked.

    Mappings and lists are walked (an added mapping shows as its leaves); strings holding JSON
    documents (IAM policies) are compared as documents.
    """
    if before == after:
        return
    if _is_container(before) or _is_container(after):
        yield from _compare_containers(before, after, path, type_, secret)
        return
    documents = None if secret else _json_documents(before, after)
    if documents is not None:
        yield from compare(*documents, path, type_, secret)
        return
    yield path, _masked(before, secret), _masked(after, secret)


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _compare_containers(before: Any, after: Any, path: str, type_: str, secret: bool,
                        ) -> Iterator[tuple[str, Any, Any]]:
    shape = type(after) if _is_container(after) else type(before)
    old, new = _as_shape(before, shape), _as_shape(after, shape)
    if old is None or new is None:
        # The value changed shape (a string became a mapping): show both sides whole.
        yield path, _masked(before, secret), _masked(after, secret)
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            yield from compare(old.get(key, MISSING), new.get(key, MISSING), _join(path, key),
                               type_, secret or _secret_key(type_, path, key, old, new))
    else:
        for index in range(max(len(old), len(new))):
            yield from compare(_at(old, index), _at(new, index), f"{path}[{index}]", type_,
                               secret)


def _as_shape(value: Any, shape: type) -> Any:
    """The value as a mapping or list to walk: a missing side is empty; another shape, None."""
    if value is MISSING:
        return shape()
    return value if isinstance(value, shape) else None


def _at(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else MISSING


def _json_documents(before: Any, after: Any) -> tuple[Any, Any] | None:
    if not (isinstance(before, str) and isinstance(after, str)):
        return None
    try:
        old, new = json.loads(before), json.loads(after)
    except ValueError:
        return None
    return (old, new) if _is_container(old) and _is_container(new) else None


def _secret_key(type_: str, path: str, key: str, old: Mapping[str, Any],
                new: Mapping[str, Any]) -> bool:
    if not path and key in _SECRET_DATA.get(type_, ()):
        return True
    if key == "value":
        # An env var or a parameter: {"name": "DB_PASSWORD", "value": "..."}.
        names = [side.get("name") for side in (old, new)]
        return any(isinstance(name, str) and looks_secret(name) for name in names)
    return looks_secret(key)


def looks_secret(key: str) -> bool:
    return bool(_SECRET_WORD.search(key)) and not _REFERENCE.search(key)


def _masked(value: Any, secret: bool) -> Any:
    """Any value under a secret key, except a flag (`automountServiceAccountToken: false`)."""
    if not secret or value is MISSING or value is None or isinstance(value, bool):
        return value
    return SECRET


def _join(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"
