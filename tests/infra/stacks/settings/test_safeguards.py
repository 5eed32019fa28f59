"""Settings of the safeguards: cross-region recovery and the security logs."""

from __future__ import annotations

import pytest

from stacks.settings import RecoverySettings, SecurityLogSettings, Settings
from tests.infra.stacks.settings.test_settings import problems, settings


def test_prod_replicates_to_a_second_region_and_keeps_security_logs(
        prod_settings: Settings) -> None:
    assert prod_settings.recovery == RecoverySettings("us-west-2")
    assert prod_settings.recovery.enabled
    assert prod_settings.security_logs == SecurityLogSettings(True, True, 365)


def test_dev_is_off_by_default_and_can_turn_each_on(dev_settings: Settings) -> None:
    assert dev_settings.recovery.enabled is False
    assert dev_settings.security_logs == SecurityLogSettings(False, False, 365)
    chosen = settings("dev", recoveryRegion="eu-west-1", cloudTrailEnabled="true",
                      guardDutyEnabled=True, securityLogRetentionDays="730")
    assert chosen.recovery.region == "eu-west-1"
    assert chosen.security_logs == SecurityLogSettings(True, True, 730)


def test_prod_can_disable_the_recovery_copy_with_an_empty_region() -> None:
    assert settings("prod", recoveryRegion="").recovery.enabled is False


@pytest.mark.parametrize(("key", "value", "message"), [
    ("recoveryRegion", "us-west", "shop:recoveryRegion must be an AWS region like 'us-west-2', "
     "or '' for no cross-region copy, got 'us-west'"),
    ("recoveryRegion", "us-east-1", "shop:recoveryRegion must differ from aws:region "
     "(us-east-1): a copy in the same region survives nothing the original does not, got "
     "'us-east-1'"),
    ("cloudTrailEnabled", "yes", "shop:cloudTrailEnabled must be true or false, got 'yes'"),
    ("guardDutyEnabled", 1, "shop:guardDutyEnabled must be true or false, got 1"),
    ("securityLogRetentionDays", 30, "shop:securityLogRetentionDays must be a whole number "
     "from 90 to 3650, got 30"),
])
def test_bad_values_name_the_setting_and_what_it_accepts(key: str, value: object,
                                                         message: str) -> None:
    assert problems("prod", {f"shop:{key}": value}) == [message]


def test_a_preview_refuses_safeguards_it_has_no_resources_for() -> None:
    found = problems("preview-7", {"shop:baseStack": "dev", "shop:cloudTrailEnabled": True,
                                   "shop:recoveryRegion": "us-west-2"})
    assert found == ["shop:cloudTrailEnabled, shop:recoveryRegion must be off in a preview: it "
                     "has no AWS resources of its own (its base stack's account logs it)"]
