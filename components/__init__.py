"""One Pulumi ComponentResource per concern of the platform; see stacks/compose.py for how
they are put together."""
