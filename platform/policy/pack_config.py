"""The policy pack's config for one stack, as `pulumi preview|up --policy-pack platform/policy
--policy-pack-config FILE` takes it:

    .venv/bin/python platform/policy/pack_config.py prod > policy-pack-config.json

Every policy of the pack gets the stack's `environment` (from Pulumi.<stack>.yaml, so prod's
rules apply whatever a resource's tags say) and `registryHost`: the ECR registry of the account
the caller's AWS credentials deploy into, in the stack's region. Without it the image rule
accepts any private ECR registry, another account's included. Pulumi reads config per policy,
so the file names each one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the rules live in the `stacks` package at the repository root
# (see __main__.py for why platform/ is no package).
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import boto3  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

from stacks.plan.command import PlanError, stack_config  # noqa: E402
from stacks.policy import RULES  # noqa: E402
from stacks.settings import SettingsError, load_from_mapping  # noqa: E402


def ecr_registry_host(account_id: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account_id}.dkr.ecr.{region}.{suffix}"


def pack_config(environment: str, registry_host: str, unprotect_stateful: bool = False,
                ) -> dict[str, dict[str, Any]]:
    extra = {"unprotectStateful": True} if unprotect_stateful else {}
    return {rule.name: {"environment": environment, "registryHost": registry_host, **extra}
            for rule in RULES}


def stack_pack_config(stack: str, root: Path = REPO_ROOT, sts: Any = None,
                      ) -> dict[str, dict[str, Any]]:
    """The config for `stack`, its account read from the credentials (STS needs no IAM
    permission); `sts` for tests."""
    settings = load_from_mapping(stack, stack_config(stack, root))
    client = sts or boto3.client("sts", region_name=settings.region)
    account = client.get_caller_identity()["Account"]
    return pack_config(settings.environment, ecr_registry_host(account, settings.region),
                       settings.unprotect_stateful)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="the stack the policy pack checks, like prod")
    args = parser.parse_args(argv)
    try:
        config = stack_pack_config(args.stack)
    except (PlanError, SettingsError, BotoCoreError, ClientError) as error:
        print(f"pack_config: {error}", file=sys.stderr)
        return 1
    print(json.dumps(config, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
