"""Cross-region recovery under the mock engine: what the backup replication, the replica bucket
and the replication rule receive, and that they are made in the recovery region."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.recovery import Recovery, RecoveryArgs
from components.recovery_policies import replication_policy, replication_trust_policy
from stacks.plan.mocks import ACCOUNT_ID, Recorded
from tests.infra.component_support import PROD_TAGS, assert_refused, run_component
from tests.infra.mock_outputs import output

TOKEN = "shop:recovery:Recovery"
SOURCE = "arn:aws:s3:::shop-media"
DB = f"arn:aws:rds:us-east-1:{ACCOUNT_ID}:db:shop-prod-database"
DISTRIBUTION = f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/E123"
OUTPUTS = ("database_backup_arn", "media_replica_bucket_name", "media_replica_domain_name",
           "key_arn")
ARGS = RecoveryArgs(region="us-west-2", primary_region="us-east-1", tags=PROD_TAGS,
                    database_arn=DB, backup_retention_days=14, media_bucket_arn=SOURCE,
                    media_bucket_name="shop-media", distribution_arn=DISTRIBUTION)


@pytest.fixture(scope="module")
def prod() -> Recorded:
    return run_component(lambda: Recovery("recovery", ARGS), *OUTPUTS)


def provider_of(recorded: Recorded) -> str:
    return recorded.one("pulumi:providers:aws").urn


def test_the_provider_names_the_recovery_region(prod: Recorded) -> None:
    assert prod.one("pulumi:providers:aws").inputs["region"] == "us-west-2"


def test_database_backups_are_replicated_there_with_a_key_of_that_region(prod) -> None:
    key = prod.one("aws:kms/key:Key")
    copy = prod.one("aws:rds/instanceAutomatedBackupsReplication:"
                    "InstanceAutomatedBackupsReplication")
    assert copy.inputs == {"sourceDbInstanceArn": DB, "kmsKeyId": output(key, "arn", "us-west-2"),
                           "retentionPeriod": 14}
    assert output(key, "arn", "us-west-2").startswith("arn:aws:kms:us-west-2:")
    assert key.inputs["enableKeyRotation"] is True
    assert {copy.options.provider, key.options.provider} == {provider_of(prod)}
    assert prod.outputs["database_backup_arn"].startswith("arn:aws:rds:us-west-2:")


def test_the_replica_bucket_is_private_versioned_encrypted_and_in_that_region(prod) -> None:
    there = {r.name: r for r in prod.resources if r.options.provider == provider_of(prod)}
    assert set(there) >= {"recovery-media-replica", "recovery-media-replica-versioning",
                          "recovery-media-replica-encryption",
                          "recovery-media-replica-public-access",
                          "recovery-media-replica-policy"}
    assert there["recovery-media-replica-versioning"].inputs["versioningConfiguration"] == {
        "status": "Enabled"}
    (rule,) = there["recovery-media-replica-encryption"].inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert there["recovery-media-replica"].inputs["forceDestroy"] is False
    assert prod.outputs["media_replica_domain_name"].endswith(".s3.us-west-2.amazonaws.com")
    policy = json.loads(there["recovery-media-replica-policy"].inputs["policy"])
    read = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    replica_arn = output(there["recovery-media-replica"], "arn", "us-west-2")
    assert read == [{"Sid": "AllowCloudFrontOriginAccessControlRead", "Effect": "Allow",
                     "Principal": {"Service": "cloudfront.amazonaws.com"},
                     "Action": "s3:GetObject", "Resource": f"{replica_arn}/*",
                     "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}}}]


def test_replication_runs_in_the_primary_region_through_a_least_privilege_role(prod) -> None:
    config = prod.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    role = prod.one("aws:iam/role:Role")
    replica = prod.one("aws:s3/bucket:Bucket", "recovery-media-replica")
    replica_arn = output(replica, "arn", "us-west-2")
    assert config.options.provider == "" and role.options.provider == ""
    assert config.inputs["bucket"] == "shop-media"
    assert config.inputs["role"] == output(role, "arn")
    (rule,) = config.inputs["rules"]
    assert rule["destination"]["bucket"] == replica_arn
    assert rule["destination"]["replicationTime"] == {"status": "Enabled",
                                                      "time": {"minutes": 15}}
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    versioning = prod.one("aws:s3/bucketVersioning:BucketVersioning").urn
    assert versioning in config.options.dependencies
    assert json.loads(role.inputs["assumeRolePolicy"]) == json.loads(
        replication_trust_policy(ACCOUNT_ID, SOURCE))
    assert json.loads(prod.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]) == json.loads(
        replication_policy(SOURCE, replica_arn))


def test_the_replication_policy_grants_no_deletes_and_nothing_else() -> None:
    actions = {action for statement in json.loads(replication_policy(SOURCE, "arn:r"))[
        "Statement"] for action in statement["Action"]}
    assert actions == {"s3:GetReplicationConfiguration", "s3:ListBucket",
                       "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                       "s3:GetObjectVersionTagging", "s3:ReplicateObject", "s3:ReplicateTags"}


def test_every_child_is_parented_and_tagged(prod) -> None:
    component = prod.one(TOKEN)
    region = prod.one("shop:recovery:Region")
    assert region.parent == component.urn
    for resource in prod.resources:
        if resource is not component:
            assert resource.parent in (component.urn, region.urn), resource.name
        if "tags" in resource.inputs:
            assert resource.inputs["tags"] == {**PROD_TAGS, "Name": resource.name}


def test_an_unprotected_stack_can_remove_its_replica() -> None:
    recorded = run_component(lambda: Recovery("recovery", dataclasses.replace(
        ARGS, protect=False)))
    assert recorded.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is True


@pytest.mark.parametrize(("overrides", "field"), [
    ({"region": "us-east-1"}, "region must differ from primary_region"),
    ({"region": "west"}, "region"),
    ({"backup_retention_days": 0}, "backup_retention_days"),
    ({"tags": {"Project": "shop"}}, "tags"),
])
def test_bad_arguments_are_refused_before_any_resource(overrides: dict, field: str) -> None:
    assert_refused(lambda: Recovery("recovery", dataclasses.replace(ARGS, **overrides)), field)


def test_the_prod_plan_copies_the_primary_database_and_the_assets_bucket(prod_plan) -> None:
    copy = prod_plan.one("aws:rds/instanceAutomatedBackupsReplication:"
                         "InstanceAutomatedBackupsReplication")
    primary = prod_plan.one("aws:rds/instance:Instance", "database-primary")
    assert primary.urn in copy.options.dependencies
    assert copy.inputs["retentionPeriod"] == primary.inputs["backupRetentionPeriod"] == 14
    assets = prod_plan.one("aws:s3/bucket:Bucket", "cdn-assets")
    config = prod_plan.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert config.inputs["bucket"] == output(assets, "bucket")
    assert prod_plan.outputs["recoveryRegion"] == "us-west-2"


def test_dev_copies_nothing(dev_plan) -> None:
    assert dev_plan.of_type("shop:recovery:Recovery") == []
    assert "recoveryRegion" not in dev_plan.outputs
