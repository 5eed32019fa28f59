"""Without Chromium the browser tests skip with the reason, and fail under CI."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import require_browser


def test_a_present_browser_is_used(tmp_path):
    browser = tmp_path / "chromium"
    browser.touch()
    assert require_browser(browser, {}) == browser


def test_a_missing_browser_skips_with_the_reason(tmp_path):
    with pytest.raises(pytest.skip.Exception, match="package 'chromium'"):
        require_browser(tmp_path / "chromium", {})


def test_a_missing_browser_fails_under_ci(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require_browser(tmp_path / "chromium", {"CI": "true"})
