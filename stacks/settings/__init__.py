"""A stack's settings: every ``shop:`` key, what it accepts (``fields``), each environment's
defaults (``presets``), and ``loader``, which reads Pulumi config (``load()``, or a
Pulumi.<stack>.yaml mapping with ``load_from_mapping()``) into frozen, validated ``Settings``.
It may import ``components`` for shared constants and nothing else of ``stacks``; everything
else in ``stacks`` may import it. Its users import the names below from ``stacks.settings``.
"""

from stacks.settings.fields import Secret
from stacks.settings.loader import (
    CacheSettings,
    ClusterSettings,
    DatabaseSettings,
    EdgeSettings,
    MonitoringSettings,
    NetworkSettings,
    PreviewSettings,
    Settings,
    SettingsError,
    SmtpSettings,
    StorefrontSettings,
    load,
    load_from_mapping,
    missing_secrets,
)
from stacks.settings.safeguards import RecoverySettings, SecurityLogSettings

__all__ = [
    "CacheSettings",
    "ClusterSettings",
    "DatabaseSettings",
    "EdgeSettings",
    "MonitoringSettings",
    "NetworkSettings",
    "PreviewSettings",
    "RecoverySettings",
    "Secret",
    "SecurityLogSettings",
    "Settings",
    "SettingsError",
    "SmtpSettings",
    "StorefrontSettings",
    "load",
    "load_from_mapping",
    "missing_secrets",
]
