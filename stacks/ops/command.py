"""Day-2 operations on a deployed stack: ``python -m stacks ops <command>``.

Each command reads what it acts on from the stack's outputs (``pulumi stack output --json``, or
``--outputs FILE`` holding the same JSON), talks to AWS with boto3, and with ``--dry-run``
only reads: it says what it would change and changes nothing. Failures end in one line on
stderr and exit code 1: a missing output names the output, an AWS refusal names the action.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import boto3

from stacks.ops import actions, recovery, scan_gate
from stacks.ops.base import REGION_OUTPUT, OpsError, StackOutputs, load_outputs

DEFAULT_STATIC_DIR = Path(__file__).resolve().parents[2] / "app" / "storefront" / "static"

def session_for(args: argparse.Namespace, outputs: StackOutputs) -> boto3.session.Session:
    region = args.region or outputs.values.get(REGION_OUTPUT)
    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        raise OpsError("no AWS region: pass --region, export a `region` stack output "
                       "or set AWS_REGION")
    return session


Command = Callable[[argparse.Namespace, StackOutputs, boto3.session.Session], int]
COMMANDS: Mapping[str, Command] = {
    "snapshot": actions.snapshot,
    "restore-pitr": actions.restore_pitr,
    "sync-static": actions.sync_static,
    "ecr-report": actions.ecr_report,
    "restore-recovery": recovery.restore_recovery,
    "recovery-media": recovery.recovery_media,
    "scan-gate": scan_gate.scan_gate,
}


def run(args: argparse.Namespace) -> int:
    try:
        outputs = load_outputs(args.outputs, args.stack)
        return COMMANDS[args.ops_command](args, outputs, session_for(args, outputs))
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def add_parser(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Registers `ops` and its commands on the `python -m stacks` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", help="Pulumi stack whose outputs to use (default: selected)")
    common.add_argument("--outputs", type=Path, metavar="FILE",
                        help="JSON of `pulumi stack output --json` instead of asking Pulumi")
    common.add_argument("--region", help="AWS region (default: the stack's `region` output)")
    common.add_argument("--dry-run", action="store_true",
                        help="read only: say what would change, change nothing")

    ops = subparsers.add_parser("ops", help="operate a deployed stack (boto3)")
    commands = ops.add_subparsers(dest="ops_command", required=True, metavar="COMMAND")
    snapshot = commands.add_parser("snapshot", parents=[common],
                                   help="take a manual RDS snapshot of the stack's database")
    snapshot.add_argument("--name", help="snapshot identifier (default: <db>-manual-<time>)")
    snapshot.add_argument("--wait", action="store_true", help="wait until it is available")

    restore = commands.add_parser("restore-pitr", parents=[common],
                                  help="restore the database to a point in time, as a new instance")
    when = restore.add_mutually_exclusive_group(required=True)
    when.add_argument("--time", type=actions.utc_time, metavar="ISO8601",
                      help="restore time, e.g. 2025-01-31T12:00:00Z")
    when.add_argument("--latest", action="store_true", help="the latest restorable time")
    restore.add_argument("--target", help="new instance identifier (default: <db>-pitr-<time>)")

    sync = commands.add_parser("sync-static", parents=[common],
                               help="upload static files to the assets bucket and "
                               "invalidate /static/*")
    sync.add_argument("--source", type=Path, default=DEFAULT_STATIC_DIR, metavar="DIR",
                      help="directory to upload (default: the storefront's static files)")

    report = commands.add_parser("ecr-report", parents=[common],
                                 help="the repository's images by age and size")
    report.add_argument("--sort", choices=("age", "size"), default="age")
    recovery.add_parsers(commands, common, actions.utc_time)

    gate = commands.add_parser("scan-gate", parents=[common],
                               help="fail when the image's ECR scan found HIGH or worse")
    scan_gate.add_arguments(gate)
    ops.set_defaults(func=run)
    return ops
