"""The policy verdict of a plan diff: which findings a change brings and which it resolves,
and which changes destroy data.

A plan records its policy findings (`python -m stacks plan --out`, key `findings`); the diff
compares the two sides' findings by (policy, resource, message). To those it adds what only a
diff can see: a stateful or protected resource replaced or deleted (stacks/policy/stateful.py),
mandatory in prod. A plan written before plans recorded findings has none: then every finding
of the other side counts as new or resolved, which is the honest reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from stacks.policy.stateful import DESTRUCTIVE_RULE, change_findings, is_stateful
from stacks.review.diff_model import Finding, ResourceChange

_ENVIRONMENTS = ("dev", "prod", "preview")


def environment(plan: Mapping[str, Any]) -> str:
    """The plan's environment; for a plan without one, what its stack name says."""
    recorded = plan.get("environment")
    if isinstance(recorded, str) and recorded:
        return recorded
    stack = str(plan.get("stack", ""))
    return "preview" if stack.startswith("preview-") else stack if stack in _ENVIRONMENTS else ""


def mark(change: ResourceChange, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
         ) -> ResourceChange:
    """The change, marked stateful and protected as either side of the plan has it."""
    sides = [side for side in (old, new) if side is not None]
    stateful = any(is_stateful(side["type"], side.get("inputs") or {}) for side in sides)
    protected = any((side.get("options") or {}).get("protect") for side in sides)
    return replace(change, stateful=stateful, protected=bool(protected))


def findings_delta(before: Mapping[str, Any], after: Mapping[str, Any],
                   changes: Sequence[ResourceChange], env: str,
                   ) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """(new, resolved): the after plan's findings the before plan lacks, then the change's own
    findings; and the before plan's findings the after plan lacks."""
    old, new = _findings(before), _findings(after)
    old_keys, new_keys = {f.key for f in old}, {f.key for f in new}
    brought = [f for f in new if f.key not in old_keys]
    # Across id schemes the replacements may be artefacts: reported, but not blocking.
    trusted = not warnings(before, after)
    brought += [Finding(DESTRUCTIVE_RULE, change.urn, change.name, message,
                        enforcement if trusted else "advisory")
                for change, message, enforcement in change_findings(changes, env)]
    resolved = [f for f in old if f.key not in new_keys]
    return tuple(_ordered(brought)), tuple(_ordered(resolved))


def components(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]],
               ) -> dict[str, str]:
    """Every resource's URN and name: what a change's parent is called."""
    return {urn: record["name"] for side in (old, new) for urn, record in side.items()}


def warnings(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """Plans whose mock ids were made differently (stacks/plan/ids.py): every id differs, so
    replacements read off ids are not to be trusted, this once."""
    old, new = before.get("mockIds"), after.get("mockIds")
    if old == new:
        return ()
    schemes = f"{old or 'type+name'} -> {new or 'type+name'}"
    return (f"the plans' mock ids were made differently ({schemes}): ids differ everywhere, "
            "so the replacements that follow from them may not be real; `pulumi preview` has "
            "the last word on this change",)


def _findings(plan: Mapping[str, Any]) -> list[Finding]:
    found = []
    for item in plan.get("findings") or ():
        if isinstance(item, Mapping):
            found.append(Finding(str(item.get("policy", "")), str(item.get("urn", "")),
                                 str(item.get("name", "")), str(item.get("message", "")),
                                 str(item.get("enforcement", "advisory"))))
    return found


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.enforcement != "mandatory", f.policy, f.name,
                                           f.message))
