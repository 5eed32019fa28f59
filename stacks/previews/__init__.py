"""Preview environments, ``preview-<id>`` stacks on dev's cluster: ``environment`` is what such
a stack builds (through a StackReference to its base stack) and the config it is given, and
``command`` is ``python -m stacks preview up|destroy|list`` over Pulumi's Automation API.
``environment`` may import ``settings`` and ``components``; ``command`` may also import
``stacks.plan.command`` (the base stack's config) and ``stacks.git``. ``compose`` and the plan
import ``environment``; nothing imports ``command`` but ``__main__``.
"""

from stacks.previews.environment import (
    STACK_PREFIX,
    PreviewEnvironment,
    build,
    generated_config,
    preview_id,
    stack_name,
)

__all__ = [
    "STACK_PREFIX",
    "PreviewEnvironment",
    "build",
    "generated_config",
    "preview_id",
    "stack_name",
]
