"""The Pulumi program of every platform stack: `pulumi up -s dev`, `pulumi up -s prod`."""

import stacks.compose
import stacks.settings

settings = stacks.settings.load()
stacks.compose.build(settings)
