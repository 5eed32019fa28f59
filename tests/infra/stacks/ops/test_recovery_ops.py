"""`ops recovery-media` against moto's CloudFront, and `ops restore-recovery` against botocore's
Stubber: moto 5 neither replicates automated backups across regions nor restores from a
replicated backup's ARN, so the RDS calls are checked against the RDS API model instead
(parameter names, types and required fields), with the answers AWS documents."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from components.cdn import ASSETS_ORIGIN
from stacks.ops import recovery
from stacks.ops.base import OpsError, StackOutputs
from stacks.ops.command import add_parser

REGION, RECOVERY = "us-east-1", "us-west-2"
BACKUP_ARN = f"arn:aws:rds:{RECOVERY}:123456789012:auto-backup:ab-7wj4ra4tgr7ge"
REPLICA = "shop-prod-media-replica.s3.us-west-2.amazonaws.com"
PRIMARY = "shop-prod-assets.s3.us-east-1.amazonaws.com"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BACKUP = {"DBInstanceAutomatedBackupsArn": BACKUP_ARN, "DBInstanceIdentifier": "shop-prod-db",
          "Region": REGION, "Status": "replicating", "Encrypted": True,
          "RestoreWindow": {"EarliestTime": NOW - timedelta(days=14), "LatestTime": NOW}}


def run_ops(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="stacks")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ops", *argv])
    return args.func(args)


@pytest.fixture
def outputs(tmp_path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({
        "region": REGION, "databaseIdentifier": "shop-prod-db", "recoveryRegion": RECOVERY,
        "databaseRecoveryBackupArn": BACKUP_ARN, "assetsBucketName": "shop-prod-assets",
        "mediaReplicaDomainName": REPLICA, "cdnDistributionId": "PENDING"}))
    return path


@pytest.fixture
def aws(mocked_aws):
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def distribution(aws, outputs) -> str:
    aws.client("s3").create_bucket(Bucket="shop-prod-assets")
    aws.client("s3", region_name=RECOVERY).create_bucket(
        Bucket="shop-prod-media-replica",
        CreateBucketConfiguration={"LocationConstraint": RECOVERY})
    storefront = {"Id": "storefront", "DomainName": "origin.shop.example.com",
                  "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                         "OriginProtocolPolicy": "https-only"}}
    assets = {"Id": ASSETS_ORIGIN, "DomainName": PRIMARY,
              "S3OriginConfig": {"OriginAccessIdentity": ""}}
    made = aws.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "shop", "Comment": "shop", "Enabled": True,
        "Origins": {"Quantity": 2, "Items": [storefront, assets]},
        "DefaultCacheBehavior": {"TargetOriginId": "storefront",
                                 "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False,
                                                     "Cookies": {"Forward": "none"}}},
    })["Distribution"]["Id"]
    outputs.write_text(json.dumps({**json.loads(outputs.read_text()), "cdnDistributionId": made}))
    return made


def origins(aws, distribution: str) -> dict[str, str]:
    config = aws.client("cloudfront").get_distribution_config(Id=distribution)
    return {o["Id"]: o["DomainName"] for o in config["DistributionConfig"]["Origins"]["Items"]}


def test_recovery_media_points_static_at_the_replica_and_back(aws, distribution, outputs,
                                                               capsys) -> None:
    assert run_ops("recovery-media", "--outputs", str(outputs), "--dry-run") == 0
    assert origins(aws, distribution)[ASSETS_ORIGIN] == PRIMARY
    assert "would point" in capsys.readouterr().out
    assert run_ops("recovery-media", "--outputs", str(outputs)) == 0
    assert origins(aws, distribution) == {ASSETS_ORIGIN: REPLICA,
                                          "storefront": "origin.shop.example.com"}
    assert f"reads /static/* from {REPLICA} (was {PRIMARY})" in capsys.readouterr().out
    assert run_ops("recovery-media", "--outputs", str(outputs)) == 0
    assert "already reads" in capsys.readouterr().out
    assert run_ops("recovery-media", "--outputs", str(outputs), "--primary") == 0
    assert origins(aws, distribution)[ASSETS_ORIGIN] == PRIMARY


def test_recovery_media_refuses_a_distribution_without_the_assets_origin() -> None:
    config = {"Origins": {"Quantity": 1, "Items": [{"Id": "storefront", "DomainName": "x"}]}}
    with pytest.raises(OpsError, match="has no origin 'assets'"):
        recovery.with_assets_origin(config, REPLICA)


def test_the_assets_origin_id_is_the_cdn_components() -> None:
    assert recovery.ASSETS_ORIGIN_ID == ASSETS_ORIGIN


def test_the_restore_point_must_lie_in_the_replicated_window() -> None:
    assert recovery.recovery_point(BACKUP, None) == {"UseLatestRestorableTime": True}
    inside = NOW - timedelta(hours=3)
    assert recovery.recovery_point(BACKUP, inside) == {"RestoreTime": inside}
    with pytest.raises(OpsError, match="outside the replicated window"):
        recovery.recovery_point(BACKUP, NOW - timedelta(days=15))
    with pytest.raises(OpsError, match="no restorable window yet \\(status pending\\)"):
        recovery.recovery_point({**BACKUP, "RestoreWindow": {}, "Status": "pending"}, None)


class StubbedSession:
    """A boto3 session whose RDS client answers from a Stubber, which checks every request
    against the RDS API model; it records the region each client was made for."""

    def __init__(self) -> None:
        self.client_regions: list[str | None] = []
        self.rds = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing",
            region_name=RECOVERY).client("rds")
        self.stub = Stubber(self.rds)

    def client(self, service: str, region_name: str | None = None) -> Any:
        assert service == "rds"
        self.client_regions.append(region_name)
        return self.rds


def restore_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stacks")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["ops", "restore-recovery", *argv])


def test_restore_recovery_restores_from_the_replicated_backups_in_that_region(
        outputs, capsys) -> None:
    session = StubbedSession()
    when = NOW - timedelta(hours=1)
    session.stub.add_response("describe_db_instance_automated_backups",
                              {"DBInstanceAutomatedBackups": [BACKUP]},
                              {"DBInstanceAutomatedBackupsArn": BACKUP_ARN})
    session.stub.add_response("restore_db_instance_to_point_in_time", {"DBInstance": {
        "DBInstanceIdentifier": "shop-prod-db-dr", "DBInstanceStatus": "creating"}}, {
        "SourceDBInstanceAutomatedBackupsArn": BACKUP_ARN,
        "TargetDBInstanceIdentifier": "shop-prod-db-dr", "RestoreTime": when,
        "DBSubnetGroupName": "dr-data", "VpcSecurityGroupIds": ["sg-0dr"],
        "DBParameterGroupName": "dr-pg16", "MultiAZ": True, "PubliclyAccessible": False,
        "DeletionProtection": True, "CopyTagsToSnapshot": True,
        "Tags": [{"Key": "Name", "Value": "shop-prod-db-dr"},
                 {"Key": "RestoredFrom", "Value": "shop-prod-db"},
                 {"Key": "CreatedBy", "Value": "stacks-ops"}]})
    available = {"DBInstances": [{"DBInstanceIdentifier": "shop-prod-db-dr",
                                  "DBInstanceStatus": "available", "Endpoint": {
                                      "Address": "shop-prod-db-dr.x.us-west-2.rds.amazonaws.com",
                                      "Port": 5432}}]}
    session.stub.add_response("describe_db_instances", available,
                              {"DBInstanceIdentifier": "shop-prod-db-dr"})
    session.stub.add_response("describe_db_instances", available,
                              {"DBInstanceIdentifier": "shop-prod-db-dr"})
    args = restore_args("--outputs", str(outputs), "--time", when.isoformat(),
                        "--subnet-group", "dr-data", "--security-group", "sg-0dr",
                        "--parameter-group", "dr-pg16", "--multi-az", "--target",
                        "shop-prod-db-dr")
    with session.stub:
        code = recovery.restore_recovery(args, _outputs(outputs), session)  # type: ignore[arg-type]
    session.stub.assert_no_pending_responses()
    assert code == 0 and session.client_regions == [RECOVERY]
    assert ("shop-prod-db-dr is available in us-west-2 at "
            "shop-prod-db-dr.x.us-west-2.rds.amazonaws.com:5432") in capsys.readouterr().out


def test_a_dry_run_only_reads_the_replicated_backups(outputs, capsys) -> None:
    session = StubbedSession()
    session.stub.add_response("describe_db_instance_automated_backups",
                              {"DBInstanceAutomatedBackups": [BACKUP]},
                              {"DBInstanceAutomatedBackupsArn": ANY})
    args = restore_args("--outputs", str(outputs), "--latest", "--subnet-group", "dr-data",
                        "--dry-run")
    with session.stub:
        assert recovery.restore_recovery(args, _outputs(outputs), session) == 0  # type: ignore[arg-type]
    session.stub.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert out.startswith("dry run: would restore shop-prod-db in us-west-2 to the latest "
                          "restorable time as shop-prod-db-recovered-")


def test_a_stack_without_a_recovery_region_says_which_output_is_missing(tmp_path,
                                                                      capsys) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"region": REGION, "databaseIdentifier": "shop-dev-db"}))
    assert run_ops("restore-recovery", "--outputs", str(path), "--latest",
                   "--subnet-group", "dr") == 1
    assert capsys.readouterr().err.strip() == (
        "error: stack output 'recoveryRegion' is missing from " f"{path}; deploy the stack "
        "(pulumi up) or pass --outputs with it")


def _outputs(path: Path) -> StackOutputs:
    return StackOutputs(json.loads(path.read_text()), str(path))
