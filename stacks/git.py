"""The few git questions the platform tools ask, through the git CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class GitError(Exception):
    """git is missing, or answered with an error."""


def git(args: list[str], cwd: Path) -> str:
    """git's standard output, stripped; a failure raises with git's last line of error."""
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed")
    result = subprocess.run([executable, *args], cwd=cwd,  # noqa: S603 - no shell
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {lines[-1] if lines else result.returncode}")
    return result.stdout.strip()


def commit_version(cwd: Path) -> str:
    """`git-<12 hex>` for the checked-out commit: an image tag naming exactly this code.
    Uncommitted changes would push different code under the same (immutable) tag."""
    if git(["status", "--porcelain", "--untracked-files=no"], cwd):
        raise GitError("the working tree has uncommitted changes: commit them, or name the "
                       "build with --image-version")
    return f"git-{git(['rev-parse', '--short=12', 'HEAD'], cwd)}"
