"""The type check as part of the suite: `make test` (what CI runs) fails on a type error.

mypy reads pyproject.toml's [tool.mypy]: strict on stacks/ and components/, check_untyped_defs
on app/. A cold run takes about three minutes (most of it reading pulumi-aws's types); its
cache (.mypy_cache) makes reruns take seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_finds_no_type_error_in_the_configured_packages() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                            text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found in "), result.stdout
