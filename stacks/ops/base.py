"""What every ops command shares: the stack's outputs, and AWS failures as one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, WaiterError

# The stack outputs the commands need (exported by stacks/compose.py).
DATABASE_OUTPUT = "databaseIdentifier"
ASSETS_BUCKET_OUTPUT = "assetsBucketName"
DISTRIBUTION_OUTPUT = "cdnDistributionId"
REPOSITORY_OUTPUT = "ecrRepositoryName"
REGION_OUTPUT = "region"
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                          "AuthorizationError"})


class OpsError(Exception):
    """A failure the operator can act on; its message is the one line they see."""


@dataclass(frozen=True)
class StackOutputs:
    values: Mapping[str, Any]
    source: str

    def require(self, key: str) -> str:
        value = self.values.get(key)
        if not isinstance(value, str | int) or value in ("", "[secret]"):
            raise OpsError(f"stack output {key!r} is missing from {self.source}; "
                           "deploy the stack (pulumi up) or pass --outputs with it")
        return str(value)


def load_outputs(outputs_file: Path | None, stack: str | None) -> StackOutputs:
    if outputs_file is not None:
        try:
            values = json.loads(outputs_file.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise OpsError(f"cannot read stack outputs from {outputs_file}: {error}") from error
        source = str(outputs_file)
    else:
        values, source = _pulumi_outputs(stack), f"stack {stack or '(selected)'}"
    if not isinstance(values, dict):
        raise OpsError(f"stack outputs in {source} are not a JSON object")
    return StackOutputs(values, source)


def _pulumi_outputs(stack: str | None) -> Any:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OpsError("the Pulumi CLI is not installed: install it, or pass --outputs FILE "
                       "with the JSON of `pulumi stack output --json`")
    command = [pulumi, "stack", "output", "--json", *(["--stack", stack] if stack else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise OpsError(f"pulumi stack output failed: {detail}")
    return json.loads(done.stdout or "{}")


@contextmanager
def aws(service: str) -> Iterator[None]:
    """AWS failures inside the block as OpsError, naming the IAM action when AWS refused."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = (error.response.get("Error", {}).get("Message") or "").splitlines()
        action = f"{service}:{error.operation_name}"
        if code in DENIED_CODES:
            raise OpsError(f"AWS denied {action}: the caller lacks that permission") from error
        raise OpsError(f"{action} failed: {code}: {' '.join(message[:1])}") from error
    except NoCredentialsError as error:
        raise OpsError("no AWS credentials found: configure a profile, SSO or "
                       "AWS_* environment variables") from error
    except WaiterError as error:
        raise OpsError(f"gave up waiting: {error}") from error
    except BotoCoreError as error:
        raise OpsError(f"{service}: {error}") from error
