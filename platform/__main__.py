"""The Pulumi program of every platform stack: `pulumi up -s dev`, `pulumi up -s prod`.

Pulumi's Python language host runs this file with platform/ as the working directory and only
platform/ on sys.path (`runpy.run_path(".")`), and its pip toolchain (`pulumi install`) installs
requirements.txt and nothing else: the project's own packages (`stacks`, `components`, `app`)
are not installed on a fresh clone. They live at the repository root, so the root goes first on
sys.path. It must stay a plain folder entry: platform/ becoming a package would shadow the
standard library's `platform` module, which pulumi, grpc and boto3 import.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import stacks.compose  # noqa: E402 - needs the path above
import stacks.settings  # noqa: E402

settings = stacks.settings.load()
stacks.compose.build(settings)
