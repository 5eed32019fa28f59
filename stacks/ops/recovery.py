"""Recovery in the second region (components/recovery.py keeps the copies there):

- `restore-recovery`: a new DB instance in the recovery region, restored from the replicated
  automated backups to a point in time (or the latest restorable one);
- `recovery-media`: CloudFront's `/static/*` origin pointed at the media replica in the
  recovery region, or (`--primary`) back at the stack's own bucket.

Both read the stack's outputs from a file when the primary region's Pulumi backend is out of
reach (`--outputs`, the JSON of `pulumi stack output --json` kept beside the runbook).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.session import Session

from stacks.ops.base import (
    ASSETS_BUCKET_OUTPUT,
    DATABASE_OUTPUT,
    DISTRIBUTION_OUTPUT,
    REGION_OUTPUT,
    OpsError,
    StackOutputs,
    aws,
)

RECOVERY_REGION_OUTPUT = "recoveryRegion"
RECOVERY_BACKUP_OUTPUT = "databaseRecoveryBackupArn"
MEDIA_REPLICA_DOMAIN_OUTPUT = "mediaReplicaDomainName"
# The distribution's origin for /static/* (components/cdn.py ASSETS_ORIGIN).
ASSETS_ORIGIN_ID = "assets"
RESTORE_WAIT = {"Delay": 30, "MaxAttempts": 120}


def recovery_point(backup: Mapping[str, Any], when: datetime | None) -> dict[str, Any]:
    """The restore time as RDS wants it, refused early outside the replicated window."""
    window = backup.get("RestoreWindow") or {}
    earliest, latest = window.get("EarliestTime"), window.get("LatestTime")
    if earliest is None or latest is None:
        raise OpsError(f"the replicated backups {backup['DBInstanceAutomatedBackupsArn']} have "
                       f"no restorable window yet (status {backup.get('Status', 'unknown')})")
    if when is None:
        return {"UseLatestRestorableTime": True}
    if not earliest <= when <= latest:
        raise OpsError(f"{when.isoformat()} is outside the replicated window "
                       f"{earliest.isoformat()} .. {latest.isoformat()}")
    return {"RestoreTime": when}


def recovery_request(backup: Mapping[str, Any], args: argparse.Namespace, target: str,
                     point: Mapping[str, Any]) -> dict[str, Any]:
    """A private, deletion-protected instance in the operator's recovery network; encryption
    comes with the replicated backups (their key in that region)."""
    source = backup.get("DBInstanceIdentifier", "")
    request = {
        "SourceDBInstanceAutomatedBackupsArn": backup["DBInstanceAutomatedBackupsArn"],
        "TargetDBInstanceIdentifier": target,
        "DBSubnetGroupName": args.subnet_group,
        "VpcSecurityGroupIds": list(args.security_group or []),
        "DBInstanceClass": args.instance_class,
        "DBParameterGroupName": args.parameter_group,
        "MultiAZ": args.multi_az,
        "PubliclyAccessible": False,
        "DeletionProtection": True,
        "CopyTagsToSnapshot": True,
        "Tags": [{"Key": "Name", "Value": target}, {"Key": "RestoredFrom", "Value": source},
                 {"Key": "CreatedBy", "Value": "stacks-ops"}],
        **point,
    }
    return {key: value for key, value in request.items() if value not in (None, [])}


def _replicated_backup(rds: Any, arn: str) -> Mapping[str, Any]:
    found = rds.describe_db_instance_automated_backups(
        DBInstanceAutomatedBackupsArn=arn)["DBInstanceAutomatedBackups"]
    if not found:
        raise OpsError(f"no replicated automated backups {arn} in this region")
    backup: Mapping[str, Any] = found[0]
    return backup


def restore_recovery(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    region = outputs.require(RECOVERY_REGION_OUTPUT)
    arn = outputs.require(RECOVERY_BACKUP_OUTPUT)
    source = outputs.require(DATABASE_OUTPUT)
    target = args.target or f"{source}-recovered-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    rds = session.client("rds", region_name=region)
    with aws("rds"):
        backup = _replicated_backup(rds, arn)
        point = recovery_point(backup, None if args.latest else args.time)
        if args.dry_run:
            moment = "the latest restorable time" if args.latest else args.time.isoformat()
            print(f"dry run: would restore {source} in {region} to {moment} as {target}")
            return 0
        rds.restore_db_instance_to_point_in_time(**recovery_request(backup, args, target, point))
        print(f"restoring {source} in {region} as {target}; waiting until it is available",
              flush=True)
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=target,
                                                      WaiterConfig=RESTORE_WAIT)
        endpoint = rds.describe_db_instances(
            DBInstanceIdentifier=target)["DBInstances"][0]["Endpoint"]
    print(f"{target} is available in {region} at {endpoint['Address']}:{endpoint['Port']}")
    return 0


def with_assets_origin(config: Mapping[str, Any], domain: str) -> dict[str, Any]:
    """The distribution config with its assets origin reading `domain`, all else unchanged."""
    origins = config["Origins"]["Items"]
    if not any(origin["Id"] == ASSETS_ORIGIN_ID for origin in origins):
        raise OpsError(f"the distribution has no origin {ASSETS_ORIGIN_ID!r}: not this "
                       "stack's distribution?")
    items = [{**origin, "DomainName": domain} if origin["Id"] == ASSETS_ORIGIN_ID else origin
             for origin in origins]
    return {**config, "Origins": {**config["Origins"], "Items": items}}


def recovery_media(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    distribution = outputs.require(DISTRIBUTION_OUTPUT)
    if args.primary:
        region = outputs.require(REGION_OUTPUT)
        domain = f"{outputs.require(ASSETS_BUCKET_OUTPUT)}.s3.{region}.amazonaws.com"
    else:
        domain = outputs.require(MEDIA_REPLICA_DOMAIN_OUTPUT)
    cloudfront = session.client("cloudfront")
    with aws("cloudfront"):
        current = cloudfront.get_distribution_config(Id=distribution)
        config = current["DistributionConfig"]
        changed = with_assets_origin(config, domain)  # refuses a distribution without it
        before = next(o["DomainName"] for o in config["Origins"]["Items"]
                      if o["Id"] == ASSETS_ORIGIN_ID)
        if before == domain:
            print(f"{distribution} already reads /static/* from {domain}")
            return 0
        if args.dry_run:
            print(f"dry run: would point {distribution}'s /static/* from {before} to {domain}")
            return 0
        updated = cloudfront.update_distribution(Id=distribution, IfMatch=current["ETag"],
                                                 DistributionConfig=changed)["Distribution"]
    print(f"{distribution} reads /static/* from {domain} (was {before}): "
          f"{updated.get('Status', 'InProgress')}; CloudFront deploys it in a few minutes")
    return 0


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                common: argparse.ArgumentParser, utc_time: Any) -> None:
    restore = commands.add_parser(
        "restore-recovery", parents=[common],
        help="restore the database in the recovery region from its replicated backups")
    when = restore.add_mutually_exclusive_group(required=True)
    when.add_argument("--time", type=utc_time, metavar="ISO8601",
                      help="restore time, e.g. 2025-01-31T12:00:00Z")
    when.add_argument("--latest", action="store_true", help="the latest restorable time")
    restore.add_argument("--subnet-group", required=True, metavar="NAME",
                         help="DB subnet group of the recovery network in that region")
    restore.add_argument("--security-group", action="append", metavar="SG_ID",
                         help="VPC security group for the instance (repeatable)")
    restore.add_argument("--instance-class", help="default: the source's class")
    restore.add_argument("--parameter-group", metavar="NAME",
                         help="a group in that region forcing TLS (rds.force_ssl=1)")
    restore.add_argument("--multi-az", action="store_true", help="a standby in a second AZ")
    restore.add_argument("--target", help="new instance identifier "
                         "(default: <db>-recovered-<time>)")

    media = commands.add_parser(
        "recovery-media", parents=[common],
        help="point CloudFront's /static/* at the media replica in the recovery region")
    media.add_argument("--primary", action="store_true",
                       help="point it back at the stack's own bucket instead")
