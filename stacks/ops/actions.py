"""The ops commands. Each takes the parsed arguments, the stack's outputs and a boto3 session,
prints its result and returns the exit code; in a dry run it makes read calls only."""

from __future__ import annotations

import argparse
import mimetypes
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from boto3.session import Session

from stacks.ops.base import (
    ASSETS_BUCKET_OUTPUT,
    DATABASE_OUTPUT,
    DISTRIBUTION_OUTPUT,
    REPOSITORY_OUTPUT,
    OpsError,
    StackOutputs,
    aws,
)
from stacks.ops.progress import wait_for_snapshot

STATIC_PREFIX = "static/"
STATIC_INVALIDATION = "/static/*"
# A fingerprinted name (app.3f9a2c1b.css) never changes content, so browsers may keep it a
# year; any other name is re-fetched after 5 minutes, while CloudFront keeps it a day (each sync
# invalidates it).
FINGERPRINTED = re.compile(r"\.[0-9a-f]{8,}\.")
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300, s-maxage=86400"
CONTENT_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".woff2": "font/woff2",
                 ".woff": "font/woff", ".webmanifest": "application/manifest+json"}
TEXTUAL = frozenset({"application/javascript", "application/json", "application/manifest+json",
                     "image/svg+xml"})
RESTORE_WAIT = {"Delay": 30, "MaxAttempts": 120}  # an hour: restores of big databases are slow


def utc_time(value: str) -> datetime:
    """An argparse type: ISO 8601 with an explicit zone, so nobody restores to the wrong hour."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from error
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {value}Z")
    return moment.astimezone(UTC)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _instance(rds: Any, identifier: str) -> Mapping[str, Any]:
    instance: Mapping[str, Any] = rds.describe_db_instances(
        DBInstanceIdentifier=identifier)["DBInstances"][0]
    return instance


def _tags(instance: Mapping[str, Any], **extra: str) -> list[dict[str, str]]:
    own = {tag["Key"]: tag["Value"] for tag in instance.get("TagList", [])}
    return [{"Key": key, "Value": value} for key, value in {**own, **extra}.items()]


def snapshot(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    database = outputs.require(DATABASE_OUTPUT)
    name = args.name or f"{database}-manual-{_stamp()}"
    rds = session.client("rds")
    with aws("rds"):
        instance = _instance(rds, database)  # also in a dry run: the database must exist
        if args.dry_run:
            print(f"dry run: would snapshot {database} as {name}")
            return 0
        created = rds.create_db_snapshot(DBInstanceIdentifier=database, DBSnapshotIdentifier=name,
                                         Tags=_tags(instance, CreatedBy="stacks-ops"))
        status = created["DBSnapshot"]["Status"]
        if args.wait:
            status = wait_for_snapshot(rds, name)
    print(f"snapshot {name} of {database}: {status}")
    return 0


def restore_point(instance: Mapping[str, Any], when: datetime | None,
                  now: datetime) -> dict[str, Any]:
    """The restore time as RDS wants it, refused early when outside the backup window."""
    retention = instance.get("BackupRetentionPeriod", 0)
    if not retention:
        raise OpsError(f"{instance['DBInstanceIdentifier']} keeps no automated backups, "
                       "so it cannot be restored to a point in time")
    if when is None:
        return {"UseLatestRestorableTime": True}
    latest = instance.get("LatestRestorableTime") or now
    earliest = max(now - timedelta(days=retention), instance.get("InstanceCreateTime") or now)
    if not earliest <= when <= latest:
        raise OpsError(f"{when.isoformat()} is outside the restorable window "
                       f"{earliest.isoformat()} .. {latest.isoformat()}")
    return {"RestoreTime": when}


def restore_request(instance: Mapping[str, Any], target: str,
                    point: Mapping[str, Any]) -> dict[str, Any]:
    """A new instance in the source's network, parameters (TLS enforcement) and size, never
    public; encryption and its key come with the backup."""
    groups = instance.get("DBParameterGroups") or [{}]
    request = {
        "SourceDBInstanceIdentifier": instance["DBInstanceIdentifier"],
        "TargetDBInstanceIdentifier": target,
        "DBInstanceClass": instance.get("DBInstanceClass"),
        "DBSubnetGroupName": (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "VpcSecurityGroupIds": [group["VpcSecurityGroupId"]
                                for group in instance.get("VpcSecurityGroups", [])],
        "DBParameterGroupName": groups[0].get("DBParameterGroupName"),
        "MultiAZ": instance.get("MultiAZ", False),
        "PubliclyAccessible": False,
        "DeletionProtection": instance.get("DeletionProtection", False),
        "CopyTagsToSnapshot": True,
        "Tags": _tags(instance, Name=target, RestoredFrom=instance["DBInstanceIdentifier"]),
        **point,
    }
    return {key: value for key, value in request.items() if value not in (None, [])}


def restore_pitr(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    source = outputs.require(DATABASE_OUTPUT)
    target = args.target or f"{source}-pitr-{_stamp()}"
    rds = session.client("rds")
    with aws("rds"):
        instance = _instance(rds, source)
        point = restore_point(instance, None if args.latest else args.time, datetime.now(UTC))
        if args.dry_run:
            moment = "the latest restorable time" if args.latest else args.time.isoformat()
            print(f"dry run: would restore {source} to {moment} as {target}")
            return 0
        rds.restore_db_instance_to_point_in_time(**restore_request(instance, target, point))
        print(f"restoring {source} as {target}; waiting until it is available", flush=True)
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=target,
                                                      WaiterConfig=RESTORE_WAIT)
        endpoint = _instance(rds, target)["Endpoint"]
    print(f"{target} is available at {endpoint['Address']}:{endpoint['Port']}")
    return 0


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    content_type: str
    cache_control: str


def content_type(path: Path) -> str:
    guessed = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    kind = guessed or "application/octet-stream"
    textual = kind.startswith("text/") or kind in TEXTUAL
    return f"{kind}; charset=utf-8" if textual else kind


def static_uploads(source: Path) -> list[Upload]:
    if not source.is_dir():
        raise OpsError(f"{source} is not a directory")
    uploads = [
        Upload(path, STATIC_PREFIX + path.relative_to(source).as_posix(), content_type(path),
               IMMUTABLE if FINGERPRINTED.search(path.name) else SHORT_LIVED)
        for path in sorted(source.rglob("*"))
        if path.is_file() and not any(part.startswith(".")
                                      for part in path.relative_to(source).parts)
    ]
    if not uploads:
        raise OpsError(f"no files to upload under {source}")
    return uploads


def sync_static(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    bucket = outputs.require(ASSETS_BUCKET_OUTPUT)
    distribution = outputs.require(DISTRIBUTION_OUTPUT)
    uploads = static_uploads(args.source)
    verb = "would upload" if args.dry_run else "uploaded"
    s3 = session.client("s3")
    with aws("s3"):
        s3.head_bucket(Bucket=bucket)
        for upload in uploads:
            if not args.dry_run:
                with upload.path.open("rb") as body:
                    s3.put_object(Bucket=bucket, Key=upload.key, Body=body,
                                  ContentType=upload.content_type,
                                  CacheControl=upload.cache_control)
            print(f"{verb} s3://{bucket}/{upload.key} ({upload.content_type}; "
                  f"{upload.cache_control})")
    if args.dry_run:
        print(f"dry run: would invalidate {STATIC_INVALIDATION} on {distribution}")
        return 0
    with aws("cloudfront"):
        invalidation = session.client("cloudfront").create_invalidation(
            DistributionId=distribution, InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [STATIC_INVALIDATION]},
                "CallerReference": f"stacks-ops-{uuid.uuid4()}"})["Invalidation"]
    print(f"invalidation {invalidation['Id']} of {STATIC_INVALIDATION} on {distribution}: "
          f"{invalidation['Status']}")
    return 0


def image_table(images: Sequence[Mapping[str, Any]], sort: str, now: datetime) -> str:
    """ECR image details as a table, newest or largest first, with a total line."""
    def size(image: Mapping[str, Any]) -> int:
        return image.get("imageSizeInBytes") or 0

    key = (lambda i: i["imagePushedAt"]) if sort == "age" else size
    rows = [("TAGS", "DIGEST", "PUSHED", "AGE (DAYS)", "SIZE (MiB)")] + [
        (",".join(image.get("imageTags", [])) or "<untagged>", image["imageDigest"][:19],
         image["imagePushedAt"].strftime("%Y-%m-%d %H:%M"),
         str((now - image["imagePushedAt"]).days), f"{size(image) / 2**20:.1f}")
        for image in sorted(images, key=key, reverse=True)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    total = sum(size(image) for image in images) / 2**20
    return "\n".join([*lines, f"{len(images)} image(s), {total:.1f} MiB in all"])


def ecr_report(args: argparse.Namespace, outputs: StackOutputs, session: Session) -> int:
    repository = outputs.require(REPOSITORY_OUTPUT)
    if args.dry_run:  # the report only reads; a dry run does not even do that
        print(f"dry run: would list the images of {repository} in {session.region_name}")
        return 0
    ecr = session.client("ecr")
    with aws("ecr"):
        pages = ecr.get_paginator("describe_images").paginate(repositoryName=repository)
        images = [image for page in pages for image in page["imageDetails"]]
    print(f"{repository}:")
    print(image_table(images, args.sort, datetime.now(UTC)))
    return 0
