"""The offline plan: ``mocks`` (the one strict mock engine, shared with the tests),
``recorded`` (what a program registered, as plain data, secrets masked) and ``command``
(``python -m stacks plan``: a stack's config, the program under the mocks, the tree, counts,
policy findings and the deterministic JSON plan). ``mocks`` and ``recorded`` import only the
Pulumi SDK (and ``components`` for subnet maths, and through ``ids`` the ForceNew table of
``stacks.review.replacements``, which mock ids fold in); ``command`` may import ``settings``,
``compose``, ``policy`` and ``previews``. The engine's names are re-exported here; import the
command's (``run_plan``, ``stack_config``) from ``stacks.plan.command``.
"""

from stacks.plan.mocks import ACCOUNT_ID, CLOUDFRONT_ZONE_ID, run_under_mocks
from stacks.plan.recorded import SECRET, UNKNOWN, Recorded, RecordedResource

__all__ = [
    "ACCOUNT_ID",
    "CLOUDFRONT_ZONE_ID",
    "SECRET",
    "UNKNOWN",
    "Recorded",
    "RecordedResource",
    "run_under_mocks",
]
