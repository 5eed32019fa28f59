"""Fixtures for the platform tests: the dev and prod settings as their stack files give them,
and their plans (the real composition under the mock engine), built once per run."""

from __future__ import annotations

import pytest

from stacks.plan.command import ROOT, run_plan, stack_config
from stacks.plan.mocks import Recorded
from stacks.settings import Settings, load_from_mapping

TAGS = {"Project": "shop", "Environment": "dev", "Owner": "platform-team", "CostCenter": "shop"}


def stack_settings(stack: str) -> Settings:
    return load_from_mapping(stack, stack_config(stack, ROOT))


@pytest.fixture(scope="session")
def dev_settings() -> Settings:
    return stack_settings("dev")


@pytest.fixture(scope="session")
def prod_settings() -> Settings:
    return stack_settings("prod")


@pytest.fixture(scope="session")
def dev_plan(dev_settings: Settings) -> Recorded:
    return run_plan(dev_settings)


@pytest.fixture(scope="session")
def prod_plan(prod_settings: Settings) -> Recorded:
    return run_plan(prod_settings)
