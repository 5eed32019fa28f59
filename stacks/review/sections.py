"""What both renderings of a plan diff put where, so the terminal and the pull request read
alike: a destructive change at the very top, then the policy verdict, the replacements, and
every change grouped by the component (the parent ComponentResource) it belongs to, tag-only
updates collapsed into one line each.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stacks.review.diff_model import Finding, PlanDiff, ResourceChange

STACK_GROUP = "(stack)"
REPLACES_NOTE = "(forces replacement)"


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def stacks_title(diff: PlanDiff) -> str:
    if diff.before_stack == diff.after_stack:
        return diff.after_stack or "(unnamed)"
    return f"{diff.before_stack} -> {diff.after_stack}"


def resources_phrase(count: int) -> str:
    return f"{count} resource is" if count == 1 else f"{count} resources are"


@dataclass(frozen=True)
class Group:
    name: str  # the component's name, or "(stack)" for resources at the top
    type: str  # the component's type, "" at the top
    changes: tuple[ResourceChange, ...]


@dataclass(frozen=True)
class RunInfo:
    """Where a diff was made: the commit and the CI run, when CI says so."""

    sha: str = ""
    run_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunInfo:
        """GitHub Actions' variables; DIFF_COMMIT_SHA wins over GITHUB_SHA, which on a pull
        request is a merge commit rather than the branch's head."""
        env = os.environ if env is None else env
        sha = env.get("DIFF_COMMIT_SHA") or env.get("GITHUB_SHA", "")
        server, repo, run = (env.get(key, "") for key in
                             ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
        url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""
        return cls(sha, url)


def groups(diff: PlanDiff) -> list[Group]:
    """The changes by component, in the order of their most destructive change."""
    by_parent: dict[str, list[ResourceChange]] = {}
    for change in diff.resources:
        by_parent.setdefault(change.parent, []).append(change)
    found = []
    for parent, changes in by_parent.items():
        name = diff.components.get(parent) or (parent.rsplit("::", 1)[-1] if parent else "")
        kind = parent.rsplit("::", 2)[-2].rsplit("$", 1)[-1] if parent else ""
        if kind == "pulumi:pulumi:Stack":
            name, kind = "", ""
        found.append(Group(name or STACK_GROUP, kind, tuple(changes)))
    return sorted(found, key=lambda g: (min(c.sort_key[0] for c in g.changes), g.name))


def tag_paths(change: ResourceChange) -> str:
    return ", ".join(sorted({c.path for c in change.changes}))


def finding_line(finding: Finding) -> str:
    return f"[{finding.enforcement}] {finding.policy}: {finding.name}: {finding.message}"


def verdict_line(diff: PlanDiff) -> str:
    new, resolved = diff.new_findings, diff.resolved_findings
    return (f"policy: {len(new)} new finding(s) ({len(diff.new_mandatory)} mandatory), "
            f"{len(resolved)} resolved")
