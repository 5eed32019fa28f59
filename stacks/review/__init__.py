"""The reviewer's view, ``python -m stacks diff``: ``diff`` compares two plans resource by
resource (secrets masked; its data in ``diff_model``), ``cascade`` adds the replacements that
follow from others, ``verdict`` the policy findings brought and resolved, ``replacements``
knows which property changes force a replacement (``provider_sdk`` derives what the SDKs say),
``render`` and ``markdown`` print a diff for a terminal or a pull request, ``worktree`` plans
the working tree or a git ref in a separate process, and ``command`` is the entry point. It may
import ``stacks.plan.recorded`` (the secret mask), ``stacks.policy.stateful`` and ``stacks.git``;
it never imports the program itself, because a ref is planned with that ref's own code.
``replacements`` imports nothing of ``stacks``: the mock engine's ids use it, which is why this
file re-exports nothing (importing the table must not load the diff).
"""
