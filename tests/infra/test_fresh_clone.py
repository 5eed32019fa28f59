"""`pulumi install && pulumi preview -s dev` on a fresh clone: the language host runs
platform/__main__.py from platform/ with only the requirements installed. This runs it the same
way (tests/infra/language_host.py) under the mock engine and compares it with the offline plan."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

from stacks.plan.mocks import Recorded

ROOT = Path(__file__).resolve().parents[2]
HOST = Path(__file__).with_name("language_host.py")


def run_host(program: Path, stack: str = "dev") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", str(HOST), str(program), stack, *site.getsitepackages()],
        cwd=ROOT, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True,
        check=False, timeout=300)


def test_the_program_runs_without_the_project_installed(dev_plan: Recorded) -> None:
    done = run_host(ROOT / "platform" / "__main__.py")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # The checkout's own packages, found through the program's path handling.
    assert result["stacks"] == str(ROOT / "stacks" / "__init__.py")
    assert result["resources"] == len(dev_plan.resources)
    assert result["outputs"]["clusterName"] == dev_plan.outputs["clusterName"] == "shop-dev"


def test_without_its_path_handling_the_program_cannot_import_the_project(tmp_path) -> None:
    """The check can fail: the program as it was, without the root on sys.path."""
    program = tmp_path / "platform" / "__main__.py"
    program.parent.mkdir()
    program.write_text("import stacks.compose\nimport stacks.settings\n"
                       "stacks.compose.build(stacks.settings.load())\n")
    done = run_host(program)
    assert done.returncode != 0
    assert "No module named 'stacks'" in done.stderr


def test_platform_stays_a_plain_folder() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
