"""A `PlanDiff` as a pull-request comment.

A marker CI finds to update its previous comment, the title, the commit and CI run, the counts;
then, in this order, a destructive change (a stateful or protected resource replaced or
deleted) as a caution with the "destructive change" label, the policy verdict (new and resolved
findings), the replacements, and a section per component with a collapsible block per
resource; a tag-only update is one line. Kept under GitHub's comment size.
"""

from __future__ import annotations

import html
import re

from stacks.review.diff_model import MISSING, SYMBOLS, PlanDiff, PropertyChange, ResourceChange
from stacks.review.sections import (
    REPLACES_NOTE,
    RunInfo,
    groups,
    resources_phrase,
    show,
    stacks_title,
    tag_paths,
    verdict_line,
)

# GitHub refuses comments over 65,536 characters; leave room for the other sections.
MARKDOWN_BUDGET = 60_000
# Longer lists of replacements fold into a <details> block.
LONG_LIST = 15
DESTRUCTIVE_LABEL = "destructive change"


def render_markdown(diff: PlanDiff, title: str | None = None, run: RunInfo | None = None,
                    ) -> str:
    stack = stacks_title(diff)
    head = [f"<!-- shop-plan-diff: {html.escape(stack)} -->",
            f"### {title or f'Plan diff of `{stack}`'}", ""]
    if run is not None and (run.sha or run.run_url):
        parts = [f"commit `{run.sha[:12]}`" if run.sha else "",
                 f"[CI run]({run.run_url})" if run.run_url else ""]
        head += [" \u00b7 ".join(p for p in parts if p), ""]
    head += [f"**{diff.summary()}** (create, update, delete, replace) \u00b7 "
             f"{diff.unchanged} unchanged", ""]
    if not diff.has_changes and not diff.resolved_findings:
        return "\n".join([*head, "No changes."]) + "\n"
    for warning in diff.warnings:
        head += ["> [!NOTE]", f"> {_inline(warning)}", ""]
    destructive = diff.destructive
    if destructive:
        head += ["> [!CAUTION]",
                 f"> **\U0001f6d1 `{DESTRUCTIVE_LABEL}`**: {resources_phrase(len(destructive))} "
                 "stateful or protected, and replaced or deleted: what they hold is lost unless "
                 "restored from a snapshot.", ">"]
        head += [f"> - `{SYMBOLS[c.operation]}` {c.operation} `{c.type}` **{_inline(c.name)}**"
                 + (": " + ", ".join(f"`{_inline(p)}`" for p in c.replacing_paths)
                    if c.replacing_paths else "") for c in destructive]
        head.append("")
    if diff.new_findings or diff.resolved_findings:
        head += [f"**{verdict_line(diff).capitalize()}**", ""]
        head += [f"- \U0001f195 **{f.enforcement}** `{f.policy}` {_inline(f.name)}: "
                 f"{_inline(f.message)}" for f in diff.new_findings]
        head += [f"- \u2705 resolved: {f.enforcement} `{f.policy}` {_inline(f.name)}: "
                 f"{_inline(f.message)}" for f in diff.resolved_findings]
        head.append("")
    replacements = diff.of("replace")
    if replacements:
        head += ["> [!WARNING]",
                 f"> **\u26a0 Replacements**: {resources_phrase(len(replacements))} deleted and "
                 "created again.", ">"]
        listed = [f"- `{change.type}` **{_inline(change.name)}**: "
                  + ", ".join(f"`{_inline(path)}`" for path in change.replacing_paths)
                  for change in replacements]
        if len(listed) > LONG_LIST:
            # A cascade (a VPC move) lists dozens: the count and the stateful ones above
            # are what a reviewer must see; the list folds away.
            head += ["", "<details><summary>Every replacement</summary>", "", *listed, "",
                     "</details>", ""]
        else:
            head += [f"> {line}" for line in listed]
            head.append("")
    blocks = []
    for group in groups(diff):
        kind = f" <sub>{html.escape(group.type)}</sub>" if group.type else ""
        blocks.append(f"#### {html.escape(group.name)}{kind}\n")
        blocks += [_tag_line(change) if change.tags_only
                   else _details(_summary(change), change.changes)
                   for change in group.changes]
    if diff.outputs:
        blocks.append(_details(f"Outputs ({len(diff.outputs)} changed)", diff.outputs))
    return "\n".join(head) + _within_budget(blocks, MARKDOWN_BUDGET - len("\n".join(head)))


def _tag_line(change: ResourceChange) -> str:
    return (f"- <code>~</code> update <code>{html.escape(change.type)}</code> "
            f"{html.escape(change.name)}: tags only (<code>{html.escape(tag_paths(change))}"
            "</code>)\n")


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
    if change.because:
        return [f"! {change.path}: {show(change.before)} ({change.because}){note}"]
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
