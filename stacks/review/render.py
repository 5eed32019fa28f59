"""A `PlanDiff` for a terminal, or as Markdown ready to post on a pull request.

Both put the replacements first (a replaced database is a new, empty database), then every
resource by how much it destroys: replace, delete, update, create.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from stacks.review.diff import MISSING, SYMBOLS, PlanDiff, PropertyChange, ResourceChange

# GitHub refuses comments over 65,536 characters; leave room for the other sections.
MARKDOWN_BUDGET = 60_000
REPLACES_NOTE = "(forces replacement)"


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def change_lines(change: PropertyChange) -> list[str]:
    """`pulumi preview --diff` style: `+ path: new`, `- path: old`, `~ path: old => new`."""
    note = f"  {REPLACES_NOTE}" if change.replaces else ""
    if change.before is MISSING:
        return [f"+ {change.path}: {show(change.after)}{note}"]
    if change.after is MISSING:
        return [f"- {change.path}: {show(change.before)}{note}"]
    return [f"~ {change.path}: {show(change.before)} => {show(change.after)}{note}"]


def _stacks(diff: PlanDiff) -> str:
    if diff.before_stack == diff.after_stack:
        return diff.after_stack or "(unnamed)"
    return f"{diff.before_stack} -> {diff.after_stack}"


def _counts(diff: PlanDiff) -> str:
    return f"{diff.summary()} ({diff.unchanged} unchanged)"


def _replacement_line(change: ResourceChange) -> str:
    return f"{change.type}  {change.name}  ({', '.join(change.replacing_paths)})"


def render_text(diff: PlanDiff) -> str:
    lines = [f"Plan diff of stack {_stacks(diff)}", ""]
    if not diff.has_changes:
        return "\n".join([*lines, f"No changes. Resources: {_counts(diff)}"])
    replacements = diff.of("replace")
    if replacements:
        lines.append(f"\u26a0 replacements: {_resources(len(replacements))} deleted and "
                     "created again")
        lines += [f"  +- {_replacement_line(change)}" for change in replacements]
        lines.append("")
    for change in diff.resources:
        lines.append(f"{SYMBOLS[change.operation]} {change.type}  {change.name}")
        lines += [f"      {line}" for item in change.changes for line in change_lines(item)]
    if diff.outputs:
        lines += ["", "Outputs:"]
        lines += [f"  {line}" for item in diff.outputs for line in change_lines(item)]
    lines += ["", f"Resources: {_counts(diff)}"]
    return "\n".join(lines)


def _resources(count: int) -> str:
    return f"{count} resource is" if count == 1 else f"{count} resources are"


def render_markdown(diff: PlanDiff, title: str | None = None) -> str:
    """A comment body: a marker CI can find to update its previous comment, a title, the
    summary, the replacements as a warning, and a collapsible block per resource."""
    stack = _stacks(diff)
    head = [f"<!-- shop-plan-diff: {html.escape(stack)} -->",
            f"### {title or f'Plan diff of `{stack}`'}", "",
            f"**{diff.summary()}** (create, update, delete, replace) \u00b7 "
            f"{diff.unchanged} unchanged", ""]
    if not diff.has_changes:
        return "\n".join([*head, "No changes."]) + "\n"
    replacements = diff.of("replace")
    if replacements:
        head += ["> [!WARNING]",
                 f"> **\u26a0 Replacements**: {_resources(len(replacements))} deleted and "
                 "created again.", ">"]
        head += [f"> - `{change.type}` **{_inline(change.name)}**: "
                 + ", ".join(f"`{_inline(path)}`" for path in change.replacing_paths)
                 for change in replacements]
        head.append("")
    blocks = [_details(_summary(change), change.changes) for change in diff.resources]
    if diff.outputs:
        blocks.append(_details(f"Outputs ({len(diff.outputs)} changed)", diff.outputs))
    return "\n".join(head) + _within_budget(blocks, MARKDOWN_BUDGET - len("\n".join(head)))


def _summary(change: ResourceChange) -> str:
    return (f"<code>{SYMBOLS[change.operation]}</code> {change.operation} "
            f"<code>{html.escape(change.type)}</code> {html.escape(change.name)}")


def _details(summary: str, changes: tuple[PropertyChange, ...]) -> str:
    lines = [line for change in changes for line in _diff_lines(change)]
    fence = _fence("\n".join(lines))
    body = f"{fence}diff\n" + "\n".join(lines) + f"\n{fence}\n" if lines else "No inputs.\n"
    return f"<details><summary>{summary}</summary>\n\n{body}\n</details>\n"


def _diff_lines(change: PropertyChange) -> list[str]:
    """Lines GitHub colours: `-` the value before, `+` the value after."""
    note = f"  {REPLACES_NOTE}" if change.replaces else ""
    lines = []
    if change.before is not MISSING:
        lines.append(f"- {change.path}: {show(change.before)}")
    if change.after is not MISSING:
        lines.append(f"+ {change.path}: {show(change.after)}")
    lines[-1] += note
    return lines


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _inline(text: str) -> str:
    return html.escape(text).replace("`", "'")


def _within_budget(blocks: list[str], budget: int) -> str:
    shown: list[str] = []
    used = 0
    for block in blocks:
        if used + len(block) > budget:
            break
        shown.append(block)
        used += len(block) + 1
    left = len(blocks) - len(shown)
    if left:
        shown.append(f"\n_{left} more change(s) not shown here (comment size limit): run "
                     "`python -m stacks diff` locally for all of them._\n")
    return "\n" + "\n".join(shown)
