"""`stacks ops scan-gate` against moto's ECR: the deploy stops on findings at or above the
threshold, on a scan without a verdict, and passes a clean image."""

from __future__ import annotations

import pytest
import requests

from stacks.ops.base import OpsError
from stacks.ops.scan_gate import SEVERITIES, blocking
from tests.infra.stacks.ops.test_ops import REGION, aws, outputs, push_image, run_ops

__all__ = ["aws", "outputs"]  # fixtures shared with test_ops
SCAN_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/ecr/scan-finding-results"


def test_blocking_counts_what_is_at_or_above_the_threshold() -> None:
    counts = {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 5, "LOW": 9}
    assert blocking(counts, "CRITICAL") == {}
    assert blocking(counts, "HIGH") == {"HIGH": 2}
    assert blocking(counts, "MEDIUM") == {"HIGH": 2, "MEDIUM": 5}
    assert blocking({}, "LOW") == {}
    assert SEVERITIES[0] == "CRITICAL"
    with pytest.raises(OpsError, match="--fail-on must be one of CRITICAL, HIGH"):
        blocking(counts, "SEVERE")


def scanned(aws, status: str = "COMPLETE", **counts: int) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="shop-storefront",
                          imageScanningConfiguration={"scanOnPush": True})
    push_image(ecr, "v1.4.0", 10 * 2**20)
    # What scan-on-push does in ECR; moto's repository only scans when asked.
    ecr.start_image_scan(repositoryName="shop-storefront", imageId={"imageTag": "v1.4.0"})
    result = {"imageScanFindings": {"findings": [], "findingSeverityCounts": counts},
              "registryId": "123456789012", "repositoryName": "shop-storefront",
              "imageId": {"imageTag": "v1.4.0"},
              "imageScanStatus": {"status": status, "description": "as seeded"}}
    requests.post(SCAN_RESULTS, json={"results": [result], "region": REGION}, timeout=10)


def gate(outputs, *extra: str) -> int:
    return run_ops("scan-gate", "--outputs", str(outputs), "--tag", "v1.4.0", "--poll", "0",
                   "--timeout", "2", *extra)


def test_a_high_finding_fails_the_deploy(aws, outputs, capsys) -> None:
    scanned(aws, HIGH=1, MEDIUM=3)
    assert gate(outputs) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "shop-storefront:v1.4.0 scan findings: HIGH 1, MEDIUM 3"
    assert out[1].startswith("error: 1 HIGH at or above HIGH: the image must not be deployed")


def test_findings_below_the_threshold_pass(aws, outputs, capsys) -> None:
    scanned(aws, MEDIUM=3, LOW=7)
    assert gate(outputs) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "gate passed: nothing at or above HIGH"
    assert gate(outputs, "--fail-on", "MEDIUM") == 1


def test_a_scan_without_a_verdict_fails_closed(aws, outputs, capsys) -> None:
    scanned(aws, status="UNSUPPORTED_IMAGE")
    assert gate(outputs) == 1
    assert "gave no verdict (UNSUPPORTED_IMAGE" in capsys.readouterr().err


def test_the_repository_can_be_named_when_outputs_lack_it(aws, tmp_path, capsys) -> None:
    scanned(aws, CRITICAL=2)
    empty = tmp_path / "outputs.json"
    empty.write_text(f'{{"region": "{REGION}"}}')
    assert run_ops("scan-gate", "--outputs", str(empty), "--tag", "v1.4.0", "--poll", "0",
                   "--timeout", "2", "--repository", "shop-storefront") == 1
    assert "2 CRITICAL at or above HIGH" in capsys.readouterr().out


def test_a_scan_that_never_completes_times_out(aws, outputs, capsys) -> None:
    scanned(aws, status="IN_PROGRESS")
    assert gate(outputs) == 1
    assert "did not complete within 2 s (last status IN_PROGRESS)" in capsys.readouterr().err


def test_dry_run_makes_no_call(aws, outputs, capsys) -> None:
    assert gate(outputs, "--dry-run") == 0
    assert capsys.readouterr().out == (
        f"dry run: would wait for the ECR scan of shop-storefront:v1.4.0 in {REGION} and fail "
        "on HIGH or worse\n")
