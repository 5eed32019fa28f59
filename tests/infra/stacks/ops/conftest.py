from __future__ import annotations

import pytest
from moto import mock_aws


@pytest.fixture
def mocked_aws(monkeypatch):
    """moto in place of AWS, with fake credentials and none of this machine's own AWS
    settings (a profile or region of the person running the tests)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield
