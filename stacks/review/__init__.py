"""The reviewer's view, ``python -m stacks diff``: ``diff`` compares two plans resource by
resource (secrets masked), ``replacements`` knows which property changes force a replacement,
``render`` prints a diff for a terminal or as pull-request Markdown, ``worktree`` plans the
working tree or a git ref in a separate process, and ``command`` is the entry point. It may
import ``stacks.plan.recorded`` (the secret mask) and ``stacks.git``; it never imports the
program itself, because a ref is planned with that ref's own code.
"""

from stacks.review.diff import DiffError, PlanDiff, diff_plans, load_plan
from stacks.review.render import render_markdown, render_text
from stacks.review.replacements import forces_replacement

__all__ = [
    "DiffError",
    "PlanDiff",
    "diff_plans",
    "forces_replacement",
    "load_plan",
    "render_markdown",
    "render_text",
]
