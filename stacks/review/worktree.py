"""Plans made by running `python -m stacks plan` in a separate process: of the working tree,
or of the project as another commit has it, checked out in a temporary `git worktree`.

Each plan runs the interpreter running this one, with the tree's own directory first on the
import path, so a commit is planned with its own `stacks` and `components`. The worktree is
removed whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from stacks.git import GitError, git
from stacks.review.diff import DiffError

# A plan takes seconds; this only stops a hung one from holding CI forever.
PLAN_TIMEOUT_SECONDS = 900


# `python -m stacks`, minus the import hook of an editable install (`pip install -e .`): that
# hook finds any `stacks.*` or `components.*` module a commit lacks in the working tree
# instead, and the commit would be planned partly with today's code.
_RUN_STACKS = """
import runpy, sys
def _editable(hook):
    return getattr(hook, "__module__", "").startswith("__editable__")
sys.meta_path[:] = [finder for finder in sys.meta_path if not _editable(finder)]
sys.path_hooks[:] = [hook for hook in sys.path_hooks if not _editable(hook)]
sys.path_importer_cache.clear()
runpy.run_module("stacks", run_name="__main__", alter_sys=True)
"""


def plan_tree(stack: str, out: Path, root: Path, where: str) -> None:
    """`python -m stacks plan STACK --out OUT` in `root`, with only `root`'s own code."""
    command = [sys.executable, "-c", _RUN_STACKS, "plan", stack, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(root)}
    try:
        result = subprocess.run(command, cwd=root, env=env,  # noqa: S603 - no shell
                                capture_output=True, text=True, timeout=PLAN_TIMEOUT_SECONDS,
                                check=False)
    except subprocess.TimeoutExpired:
        raise DiffError(f"planning {stack} at {where} took over {PLAN_TIMEOUT_SECONDS}s") from None
    # The plan exits 1 on mandatory policy findings and still writes the file: that is a
    # plan to compare, not a failure.
    if not out.is_file():
        raise DiffError(f"planning {stack} at {where} failed: {_last_line(result)}")


def plan_at_ref(ref: str, stack: str, out: Path, root: Path) -> None:
    """The plan of `stack` as commit `ref` has the project (rooted at `root`)."""
    toplevel = Path(_git(["rev-parse", "--show-toplevel"], root)).resolve()
    commit = commit_of(ref, root)
    project = root.resolve().relative_to(toplevel)
    with tempfile.TemporaryDirectory(prefix="shop-diff-") as tmp:
        tree = Path(tmp) / "tree"
        _git(["worktree", "add", "--detach", "--quiet", str(tree), commit], root)
        try:
            plan_tree(stack, out, tree / project, ref)
        finally:
            _remove_worktree(tree, root)


def commit_of(ref: str, root: Path) -> str:
    """The commit `ref` names; DiffError for a ref git does not know."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                    root)
    except DiffError:
        raise DiffError(f"unknown git ref {ref!r}") from None


def _remove_worktree(tree: Path, root: Path) -> None:
    try:
        _git(["worktree", "remove", "--force", str(tree)], root)
    except DiffError:
        # The directory goes with its temporary parent; prune forgets the registration.
        _git(["worktree", "prune"], root)


def _git(args: list[str], cwd: Path) -> str:
    try:
        return git(args, cwd)
    except GitError as error:
        raise DiffError(str(error)) from None


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit code {result.returncode}"
