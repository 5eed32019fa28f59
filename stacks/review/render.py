"""A `PlanDiff` for a terminal, or as Markdown ready to post on a pull request.

Both put the replacements first (a replaced database is a new, empty database), then every
resource by how much it destroys: replace, delete, update, create.
"""

from __future__ import annotations

from collections.abc import Callable

from stacks.review.diff_model import MISSING, SYMBOLS, PlanDiff, PropertyChange, ResourceChange
from stacks.review.markdown import MARKDOWN_BUDGET, render_markdown
from stacks.review.sections import (
    REPLACES_NOTE,
    RunInfo,
    finding_line,
    groups,
    resources_phrase,
    show,
    stacks_title,
    tag_paths,
    verdict_line,
)


def change_lines(change: PropertyChange) -> list[str]:
    """`pulumi preview --diff` style: `+ path: new`, `- path: old`, `~ path: old => new`."""
    note = f"  {REPLACES_NOTE}" if change.replaces else ""
    if change.because:
        return [f"~ {change.path}: {show(change.before)} ({change.because}){note}"]
    if change.before is MISSING:
        return [f"+ {change.path}: {show(change.after)}{note}"]
    if change.after is MISSING:
        return [f"- {change.path}: {show(change.before)}{note}"]
    return [f"~ {change.path}: {show(change.before)} => {show(change.after)}{note}"]


def _counts(diff: PlanDiff) -> str:
    return f"{diff.summary()} ({diff.unchanged} unchanged)"


def _replacement_line(change: ResourceChange) -> str:
    paths = change.replacing_paths
    return f"{change.type}  {change.name}" + (f"  ({', '.join(paths)})" if paths else "")


def render_text(diff: PlanDiff, run: RunInfo | None = None, colour: bool = False) -> str:
    """For a terminal; `colour` paints the operations as `pulumi preview` does."""
    paint = _painter(colour)
    lines = [f"Plan diff of stack {stacks_title(diff)}{_run_suffix(run)}", ""]
    if not diff.has_changes and not diff.resolved_findings:
        return "\n".join([*lines, f"No changes. Resources: {_counts(diff)}"])
    lines += [f"note: {warning}" for warning in diff.warnings]
    lines += [""] if diff.warnings else []
    destructive = diff.destructive
    if destructive:
        count = resources_phrase(len(destructive))
        lines.append(paint("destructive", f"\u2716 DESTRUCTIVE CHANGE: {count} stateful or "
                                          "protected, and replaced or deleted"))
        lines += [f"  {SYMBOLS[c.operation]} {_replacement_line(c)}" for c in destructive]
        lines.append("")
    if diff.new_findings or diff.resolved_findings:
        lines.append(verdict_line(diff))
        lines += [paint("mandatory" if f.enforcement == "mandatory" else "update",
                        f"  new {finding_line(f)}") for f in diff.new_findings]
        lines += [paint("create", f"  resolved {finding_line(f)}")
                  for f in diff.resolved_findings]
        lines.append("")
    replacements = diff.of("replace")
    if replacements:
        lines.append(f"\u26a0 replacements: {resources_phrase(len(replacements))} deleted and "
                     "created again")
        lines += [f"  +- {_replacement_line(change)}" for change in replacements]
        lines.append("")
    for group in groups(diff):
        lines.append(f"{group.name}" + (f"  ({group.type})" if group.type else ""))
        for change in group.changes:
            head = paint(change.operation, f"{SYMBOLS[change.operation]} {change.type}  "
                                           f"{change.name}")
            if change.tags_only:
                lines.append(f"  {head}  (tags only: {tag_paths(change)})")
                continue
            lines.append(f"  {head}")
            lines += [f"        {line}" for item in change.changes for line in change_lines(item)]
    if diff.outputs:
        lines += ["", "Outputs:"]
        lines += [f"  {line}" for item in diff.outputs for line in change_lines(item)]
    lines += ["", f"Resources: {_counts(diff)}"]
    return "\n".join(lines)


_COLOURS = {"create": "32", "update": "33", "delete": "31", "replace": "35",
            "destructive": "1;31", "mandatory": "1;31"}


def _painter(colour: bool) -> Callable[[str, str], str]:
    def paint(kind: str, text: str) -> str:
        return f"\x1b[{_COLOURS[kind]}m{text}\x1b[0m" if colour else text
    return paint


def _run_suffix(run: RunInfo | None) -> str:
    if run is None or not (run.sha or run.run_url):
        return ""
    parts = [f"commit {run.sha[:12]}" if run.sha else "", run.run_url]
    return f" ({', '.join(p for p in parts if p)})"



__all__ = ["MARKDOWN_BUDGET", "REPLACES_NOTE", "change_lines", "render_markdown", "render_text",
           "show"]
