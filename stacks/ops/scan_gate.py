"""`stacks ops scan-gate`: the image's ECR scan findings gate the deploy.

The registry scans every image on push (components/registry.py). The deploy pipelines push the
new image first (a `pulumi up` targeted at the image, `python -m stacks image-targets`), then
run this: it waits for the scan of that tag to complete and exits 1 when it found anything at
or above `--fail-on` (HIGH by default), before any workload runs the image. A scan that failed,
or an image ECR cannot scan, fails the gate too: no verdict is not a pass.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacks.ops.base import REPOSITORY_OUTPUT, OpsError, StackOutputs, aws

if TYPE_CHECKING:
    from boto3.session import Session

# Most severe first: a threshold blocks itself and everything before it.
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
DEFAULT_THRESHOLD = "HIGH"


def blocking(counts: Mapping[str, int], threshold: str) -> dict[str, int]:
    """The severities at or above `threshold` that have findings."""
    if threshold not in SEVERITIES:
        raise OpsError(f"--fail-on must be one of {', '.join(SEVERITIES)}, got {threshold!r}")
    gating = SEVERITIES[:SEVERITIES.index(threshold) + 1]
    return {severity: counts[severity] for severity in gating if counts.get(severity, 0) > 0}


def _findings(ecr: Any, repository: str, tag: str, timeout: float,
              poll: float) -> dict[str, Any]:
    """The completed scan of `repository:tag`, waiting up to `timeout` seconds for it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with aws("ecr"):
                result: dict[str, Any] = ecr.describe_image_scan_findings(
                    repositoryName=repository, imageId={"imageTag": tag})
        except OpsError as error:
            if "ScanNotFoundException" not in str(error):
                raise
            result = {"imageScanStatus": {"status": "PENDING"}}
        status = result.get("imageScanStatus", {})
        if status.get("status") == "COMPLETE":
            return result
        if status.get("status") in ("FAILED", "UNSUPPORTED_IMAGE", "FINDINGS_UNAVAILABLE"):
            raise OpsError(f"the scan of {repository}:{tag} gave no verdict "
                           f"({status.get('status')}: {status.get('description', '')}); "
                           "the gate does not pass an unscanned image")
        if time.monotonic() >= deadline:
            raise OpsError(f"the scan of {repository}:{tag} did not complete within "
                           f"{timeout:.0f} s (last status {status.get('status')})")
        time.sleep(poll)


def scan_gate(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    repository = args.repository or outputs.require(REPOSITORY_OUTPUT)
    threshold = args.fail_on
    if args.dry_run:
        print(f"dry run: would wait for the ECR scan of {repository}:{args.tag} in "
              f"{session.region_name} and fail on {threshold} or worse")
        return 0
    result = _findings(session.client("ecr"), repository, args.tag, args.timeout, args.poll)
    counts = result.get("imageScanFindings", {}).get("findingSeverityCounts", {})
    shown = ", ".join(f"{s} {counts[s]}" for s in SEVERITIES if counts.get(s)) or "none"
    print(f"{repository}:{args.tag} scan findings: {shown}")
    above = blocking(counts, threshold)
    if above:
        found = ", ".join(f"{count} {severity}" for severity, count in above.items())
        print(f"error: {found} at or above {threshold}: the image must not be deployed; fix "
              "the base image or the dependencies, or raise --fail-on in review")
        return 1
    print(f"gate passed: nothing at or above {threshold}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tag", required=True, help="the image tag (shop:imageVersion)")
    parser.add_argument("--repository",
                        help=f"ECR repository name (default: the `{REPOSITORY_OUTPUT}` output)")
    parser.add_argument("--fail-on", choices=SEVERITIES, default=DEFAULT_THRESHOLD,
                        help="the lowest severity that fails the gate (default: HIGH)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds to wait for the scan to complete (default: 900)")
    parser.add_argument("--poll", type=float, default=10, help=argparse.SUPPRESS)
