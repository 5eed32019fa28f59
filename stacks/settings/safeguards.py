"""The settings of the architecture document's safeguards: cross-region recovery (where the
database's backups and the media are copied to) and the security logs (CloudTrail,
GuardDuty): the checks that relate their keys (parsed by fields.py, defaulted by presets.py)
to the stack, and the frozen settings loader.py hands to compose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecoverySettings:
    region: str  # empty: nothing is copied out of the stack's region

    @property
    def enabled(self) -> bool:
        return bool(self.region)


@dataclass(frozen=True)
class SecurityLogSettings:
    cloudtrail: bool
    guardduty: bool
    retention_days: int


def checks(environment: str, region: str, v: Mapping[str, Any]) -> list[str]:
    problems = []
    recovery = v["recoveryRegion"]
    if recovery and recovery == region:
        problems.append(f"shop:recoveryRegion must differ from aws:region ({region}): a copy "
                        "in the same region survives nothing the original does not, got "
                        f"{recovery!r}")
    if environment == "preview":
        on = [f"shop:{key}" for key in ("cloudTrailEnabled", "guardDutyEnabled") if v[key]]
        if recovery:
            on.append("shop:recoveryRegion")
        if on:
            problems.append(f"{', '.join(on)} must be off in a preview: it has no AWS "
                            "resources of its own (its base stack's account logs it)")
    return problems


def recovery(v: Mapping[str, Any]) -> RecoverySettings:
    return RecoverySettings(v["recoveryRegion"])


def security_logs(v: Mapping[str, Any]) -> SecurityLogSettings:
    return SecurityLogSettings(v["cloudTrailEnabled"], v["guardDutyEnabled"],
                               v["securityLogRetentionDays"])
