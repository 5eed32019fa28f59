"""Runs platform/__main__.py as Pulumi's Python language host does, under the mock engine, in
a Python that has the requirements but not the project: run as `python -I -S language_host.py
PROGRAM STACK SITE-PACKAGES...` from the repository root.

`-I -S`: no PYTHONPATH, no user site, no script directory and no `site`, so no .pth file runs
and the editable install of the project (a .pth finder) is not there; the site-packages
directories are appended as plain paths, which gives pulumi and the providers but not `stacks`.
The host (sdk/python/cmd/pulumi-language-python-exec) chdirs to the program's directory
(`main: platform/`) and calls `runpy.run_path(".")`, which puts that directory first on
sys.path; this does the same. The mock engine is imported from the checkout for the run and
then forgotten (modules and path entry), so the program must find the project by itself.
The config is Pulumi.<STACK>.yaml's, as the CLI hands it over. Prints the program's resource
count and outputs as JSON. CI runs it in a fresh venv made from requirements.txt alone.
"""

from __future__ import annotations

import json
import os
import runpy
import sys

program, stack, *site_dirs = sys.argv[1:]
sys.path.extend(site_dirs)
root = os.getcwd()
assert __import__("importlib.util").util.find_spec("stacks") is None, "stacks is installed"

sys.path.insert(0, root)
from stacks.plan.command import stack_config  # noqa: E402
from stacks.plan.mocks import run_under_mocks  # noqa: E402

# As the CLI hands Pulumi.<stack>.yaml to the program: every value a string, lists as JSON.
os.environ.setdefault("PULUMI_CONFIG", json.dumps({
    key: value if isinstance(value, str) else json.dumps(value)
    for key, value in stack_config(stack).items()}))
os.environ.setdefault("PULUMI_CONFIG_SECRET_KEYS", "[]")

sys.path.remove(root)
for name in [m for m in sys.modules if m.split(".")[0] in ("stacks", "components", "app")]:
    del sys.modules[name]

os.chdir(os.path.dirname(os.path.abspath(program)))
recorded = run_under_mocks(lambda: runpy.run_path(".", run_name="__main__"), stack=stack)
print(json.dumps({"resources": len(recorded.resources), "outputs": recorded.outputs,
                  "stacks": sys.modules["stacks"].__file__}, default=str, sort_keys=True))
