"""`python -m stacks ops` against moto's AWS: what each command changes, what a dry run does
not, and the one-line errors for a missing output or a refused permission."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import enable_iam_authentication

from stacks.ops.actions import image_table, restore_point, static_uploads
from stacks.ops.command import add_parser

REGION = "eu-west-1"


@pytest.fixture
def aws(mocked_aws):
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def outputs(tmp_path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"region": REGION, "databaseIdentifier": "shop-db",
                                "assetsBucketName": "shop-assets",
                                "cdnDistributionId": "PENDING",
                                "ecrRepositoryName": "shop-storefront"}))
    return path


def run_ops(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="stacks")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ops", *argv])
    return args.func(args)


@pytest.fixture
def database(aws) -> dict[str, Any]:
    ec2, rds = aws.client("ec2"), aws.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
               for i, zone in enumerate("ab")]
    group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(DBSubnetGroupName="shop-db", SubnetIds=subnets,
                               DBSubnetGroupDescription="private subnets")
    rds.create_db_parameter_group(DBParameterGroupName="shop-pg16", Description="force_ssl",
                                  DBParameterGroupFamily="postgres16")
    rds.create_db_instance(
        DBInstanceIdentifier="shop-db", Engine="postgres", DBInstanceClass="db.t4g.medium",
        AllocatedStorage=20, MasterUsername="shop", MasterUserPassword="not-a-real-one",
        DBSubnetGroupName="shop-db", VpcSecurityGroupIds=[group],
        DBParameterGroupName="shop-pg16", BackupRetentionPeriod=7, StorageEncrypted=True,
        MultiAZ=True, DeletionProtection=True, Tags=[{"Key": "Project", "Value": "shop"}])
    return {"security_group": group}


def snapshots(aws) -> list[dict[str, Any]]:
    return aws.client("rds").describe_db_snapshots(DBInstanceIdentifier="shop-db",
                                                   SnapshotType="manual")["DBSnapshots"]


def test_snapshot_creates_a_tagged_manual_snapshot(database, aws, outputs, capsys):
    assert run_ops("snapshot", "--outputs", str(outputs), "--name", "before-upgrade") == 0
    [taken] = snapshots(aws)
    assert (taken["DBSnapshotIdentifier"], taken["SnapshotType"]) == ("before-upgrade", "manual")
    tags = aws.client("rds").list_tags_for_resource(ResourceName=taken["DBSnapshotArn"])
    assert {"Key": "Project", "Value": "shop"} in tags["TagList"]
    assert "snapshot before-upgrade of shop-db" in capsys.readouterr().out


def test_snapshot_wait_reports_progress_on_stderr_and_the_result_on_stdout(
        database, aws, outputs, capsys):
    assert run_ops("snapshot", "--outputs", str(outputs), "--name", "s2", "--wait") == 0
    captured = capsys.readouterr()
    assert captured.out == "snapshot s2 of shop-db: available\n"
    assert "snapshot s2: available, " in captured.err

def test_snapshot_dry_run_changes_nothing(database, aws, outputs, capsys):
    assert run_ops("snapshot", "--outputs", str(outputs), "--dry-run") == 0
    assert snapshots(aws) == []
    assert capsys.readouterr().out.startswith("dry run: would snapshot shop-db as shop-db-manual-")


def test_a_missing_output_is_named(aws, tmp_path, capsys):
    partial = tmp_path / "outputs.json"
    partial.write_text(json.dumps({"region": REGION}))
    assert run_ops("snapshot", "--outputs", str(partial)) == 1
    assert capsys.readouterr().err == (
        f"error: stack output 'databaseIdentifier' is missing from {partial}; "
        "deploy the stack (pulumi up) or pass --outputs with it\n")


def test_without_outputs_file_or_pulumi_cli_the_error_says_what_to_do(aws, monkeypatch, capsys):
    monkeypatch.setattr("stacks.ops.base.shutil.which", lambda _name: None)
    assert run_ops("ecr-report", "--stack", "dev") == 1
    assert "the Pulumi CLI is not installed" in capsys.readouterr().err


def test_a_refused_permission_names_the_action(database, aws, outputs, monkeypatch, capsys):
    iam = aws.client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="describe-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "rds:DescribeDBInstances", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    with enable_iam_authentication():
        assert run_ops("snapshot", "--outputs", str(outputs), "--dry-run") == 0
        assert run_ops("snapshot", "--outputs", str(outputs)) == 1
    err = capsys.readouterr().err
    assert err == ("error: AWS denied rds:CreateDBSnapshot: "
                   "the caller lacks that permission\n")
    assert snapshots(aws) == []


@pytest.fixture
def restore_calls(monkeypatch) -> list[dict[str, Any]]:
    """The exact parameters of every RestoreDBInstanceToPointInTime the commands send."""
    sent: list[dict[str, Any]] = []

    class Recording(boto3.session.Session):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.events.register("provide-client-params.rds.RestoreDBInstanceToPointInTime",
                                 lambda params, **_: sent.append(dict(params)))

    monkeypatch.setattr(boto3.session, "Session", Recording)
    return sent


def test_restore_pitr_builds_a_private_copy_in_the_sources_network(database, aws, outputs,
                                                                    restore_calls, capsys):
    assert run_ops("restore-pitr", "--outputs", str(outputs), "--latest",
                   "--target", "shop-db-restored") == 0

    assert restore_calls == [{
        "SourceDBInstanceIdentifier": "shop-db", "TargetDBInstanceIdentifier": "shop-db-restored",
        "DBInstanceClass": "db.t4g.medium", "DBSubnetGroupName": "shop-db",
        "VpcSecurityGroupIds": [database["security_group"]],
        "DBParameterGroupName": "shop-pg16", "MultiAZ": True, "PubliclyAccessible": False,
        "DeletionProtection": True, "CopyTagsToSnapshot": True,
        "Tags": [{"Key": "Project", "Value": "shop"}, {"Key": "Name", "Value": "shop-db-restored"},
                 {"Key": "RestoredFrom", "Value": "shop-db"}],
        "UseLatestRestorableTime": True,
    }]
    restored = aws.client("rds").describe_db_instances(
        DBInstanceIdentifier="shop-db-restored")["DBInstances"][0]
    endpoint = f"{restored['Endpoint']['Address']}:{restored['Endpoint']['Port']}"
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"shop-db-restored is available at {endpoint}")


def test_restore_pitr_dry_run_and_a_time_outside_the_window(database, aws, outputs, capsys):
    soon = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run_ops("restore-pitr", "--outputs", str(outputs), "--latest", "--dry-run") == 0
    assert run_ops("restore-pitr", "--outputs", str(outputs), "--time", soon) == 1
    ids = [db["DBInstanceIdentifier"]
           for db in aws.client("rds").describe_db_instances()["DBInstances"]]
    assert ids == ["shop-db"]
    out, err = capsys.readouterr()
    assert "dry run: would restore shop-db to the latest restorable time" in out
    assert "is outside the restorable window" in err


def test_restore_point_needs_backups_and_a_time_inside_the_window():
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    instance = {"DBInstanceIdentifier": "db", "BackupRetentionPeriod": 7,
                "InstanceCreateTime": now - timedelta(days=30),
                "LatestRestorableTime": now - timedelta(minutes=5)}
    inside = now - timedelta(days=2)
    assert restore_point(instance, inside, now) == {"RestoreTime": inside}
    with pytest.raises(Exception, match="outside the restorable window"):
        restore_point(instance, now - timedelta(days=8), now)
    with pytest.raises(Exception, match="keeps no automated backups"):
        restore_point({**instance, "BackupRetentionPeriod": 0}, None, now)


@pytest.fixture
def static_dir(tmp_path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "shop.css").write_text("body { margin: 0 }")
    (root / "app.3f9a2c1b.js").write_text("console.log(1)")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n")
    (root / ".DS_Store").write_bytes(b"junk")
    return root


@pytest.fixture
def edge(aws, outputs) -> str:
    aws.client("s3").create_bucket(Bucket="shop-assets", CreateBucketConfiguration={
        "LocationConstraint": REGION})
    distribution = aws.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "shop", "Comment": "shop", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "assets", "DomainName":
                                              "shop-assets.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "assets",
                                 "ViewerProtocolPolicy": "redirect-to-https",
                                 "MinTTL": 0, "ForwardedValues": {
                                     "QueryString": False, "Cookies": {"Forward": "none"}}},
    })["Distribution"]["Id"]
    data = json.loads(outputs.read_text())
    outputs.write_text(json.dumps({**data, "cdnDistributionId": distribution}))
    return distribution


def stored(aws) -> dict[str, dict[str, Any]]:
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket="shop-assets").get("Contents", [])
    return {o["Key"]: s3.head_object(Bucket="shop-assets", Key=o["Key"]) for o in listed}


def test_sync_static_uploads_with_types_and_caching_then_invalidates(edge, aws, outputs,
                                                                    static_dir, capsys):
    assert run_ops("sync-static", "--outputs", str(outputs), "--source", str(static_dir)) == 0
    objects = stored(aws)
    assert {key: (head["ContentType"], head["CacheControl"]) for key, head in objects.items()} == {
        "static/app.3f9a2c1b.js": ("text/javascript; charset=utf-8",
                                   "public, max-age=31536000, immutable"),
        "static/css/shop.css": ("text/css; charset=utf-8", "public, max-age=300, s-maxage=86400"),
        "static/logo.png": ("image/png", "public, max-age=300, s-maxage=86400"),
    }
    assert aws.client("s3").get_object(Bucket="shop-assets", Key="static/css/shop.css")[
        "Body"].read() == b"body { margin: 0 }"
    invalidations = aws.client("cloudfront").list_invalidations(DistributionId=edge)
    [invalidation] = invalidations["InvalidationList"]["Items"]
    paths = aws.client("cloudfront").get_invalidation(
        DistributionId=edge, Id=invalidation["Id"])["Invalidation"]["InvalidationBatch"]["Paths"]
    assert paths["Items"] == ["/static/*"]
    assert f"invalidation {invalidation['Id']} of /static/*" in capsys.readouterr().out


def test_sync_static_dry_run_uploads_and_invalidates_nothing(edge, aws, outputs, static_dir,
                                                             capsys):
    assert run_ops("sync-static", "--outputs", str(outputs), "--source", str(static_dir),
                   "--dry-run") == 0
    assert stored(aws) == {}
    listed = aws.client("cloudfront").list_invalidations(DistributionId=edge)["InvalidationList"]
    assert listed.get("Items", []) == []
    out = capsys.readouterr().out
    assert "would upload s3://shop-assets/static/logo.png (image/png;" in out
    assert f"dry run: would invalidate /static/* on {edge}" in out


def test_sync_static_refuses_a_missing_directory(edge, outputs, tmp_path, capsys):
    assert run_ops("sync-static", "--outputs", str(outputs),
                   "--source", str(tmp_path / "nope")) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope'} is not a directory\n"


def test_hidden_files_are_not_uploaded(static_dir):
    assert [upload.key for upload in static_uploads(static_dir)] == [
        "static/app.3f9a2c1b.js", "static/css/shop.css", "static/logo.png"]


def push_image(ecr, tag: str, size: int) -> None:
    manifest = {"schemaVersion": 2, "mediaType":
                "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "size": size, "digest": f"sha256:{'c' * 64}"},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "size": size, "digest": f"sha256:{tag.encode().hex():0<64}"}]}
    ecr.put_image(repositoryName="shop-storefront", imageManifest=json.dumps(manifest),
                  imageTag=tag)


def test_ecr_report_lists_images_largest_first(aws, outputs, capsys):
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="shop-storefront")
    push_image(ecr, "v1", 50 * 2**20)
    push_image(ecr, "v2", 120 * 2**20)
    assert run_ops("ecr-report", "--outputs", str(outputs), "--sort", "size") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "shop-storefront:"
    assert lines[1].split() == ["TAGS", "DIGEST", "PUSHED", "AGE", "(DAYS)", "SIZE", "(MiB)"]
    assert [line.split()[0] for line in lines[2:4]] == ["v2", "v1"]
    assert [line.split()[-1] for line in lines[2:4]] == ["120.0", "50.0"]
    assert lines[-1] == "2 image(s), 170.0 MiB in all"


def test_ecr_report_dry_run_makes_no_call(aws, outputs, capsys):
    # No repository exists: any call would fail with RepositoryNotFoundException.
    assert run_ops("ecr-report", "--outputs", str(outputs), "--dry-run") == 0
    assert capsys.readouterr().out == (
        f"dry run: would list the images of shop-storefront in {REGION}\n")


def test_ecr_report_on_a_missing_repository_is_one_line(aws, outputs, capsys):
    assert run_ops("ecr-report", "--outputs", str(outputs)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ecr:DescribeImages failed: RepositoryNotFoundException: ")
    assert err.count("\n") == 1


def test_image_table_by_age_marks_untagged_images():
    now = datetime(2025, 6, 1, tzinfo=UTC)
    images = [{"imageDigest": "sha256:" + "a" * 64, "imagePushedAt": now - timedelta(days=40),
               "imageSizeInBytes": 2**20},
              {"imageDigest": "sha256:" + "b" * 64, "imageTags": ["v9", "latest"],
               "imagePushedAt": now - timedelta(days=1), "imageSizeInBytes": 3 * 2**20}]
    rows = image_table(images, "age", now).splitlines()
    assert rows[1].split() == ["v9,latest", "sha256:bbbbbbbbbbbb", "2025-05-31", "00:00", "1",
                               "3.0"]
    assert rows[2].split()[0::4] == ["<untagged>", "40"]
