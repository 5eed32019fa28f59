"""The database component under the mock engine: the exact inputs RDS and its companions get."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from components.database import (
    Database,
    DatabaseArgs,
    master_secret_arn,
    parameter_group_family,
    parameter_group_prefix,
    parameters,
)
from stacks.plan.mocks import Recorded
from stacks.policy import Context, Resource, check
from tests.infra.component_support import (
    DEV_TAGS,
    NODE_SG,
    PROD_TAGS,
    assert_no_secret_values,
    assert_refused,
    assert_well_formed,
    run_component,
)

INSTANCE = "aws:rds/instance:Instance"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
RANDOM_ID = "random:index/randomId:RandomId"
OUTPUTS = ("writer_endpoint", "reader_endpoint", "reader_endpoints", "port", "db_name",
           "secret_arn", "security_group_id", "kms_key_arn")

PROD = DatabaseArgs(
    vpc_id="vpc-0data", subnet_ids=["subnet-iso-a", "subnet-iso-b", "subnet-iso-c"],
    allowed_security_group_ids=[NODE_SG], tags=PROD_TAGS, engine_version="16",
    instance_class="db.m7g.large", allocated_storage_gb=100, max_allocated_storage_gb=500,
    backup_retention_days=14, multi_az=True, replica_count=1, deletion_protection=True)
DEV = dataclasses.replace(
    PROD, tags=DEV_TAGS, instance_class="db.t4g.micro", allocated_storage_gb=20,
    max_allocated_storage_gb=50, backup_retention_days=1, multi_az=False, replica_count=0,
    deletion_protection=False)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Database("db", PROD), *OUTPUTS)


@pytest.fixture(scope="module")
def dev():
    return run_component(lambda: Database("db", DEV), *OUTPUTS)


def test_pure_parts() -> None:
    assert parameter_group_family("16") == "postgres16"
    assert parameter_group_family("17.2") == "postgres17"
    assert parameter_group_prefix("shop-prod-database", "17.2") == (
        "shop-prod-database-postgres17-")
    assert parameters(250) == [{"name": "rds.force_ssl", "value": "1"},
                               {"name": "log_min_duration_statement", "value": "250"}]
    assert master_secret_arn([{"secret_arn": "arn:s", "kms_key_id": "k"}]) == "arn:s"
    assert master_secret_arn(None) == "" and master_secret_arn([]) == ""


def test_primary_is_private_encrypted_and_resilient_in_prod(prod) -> None:
    primary = prod.one(INSTANCE, "db-primary").inputs
    key = prod.one("aws:kms/key:Key", "db-key").inputs
    assert key["enableKeyRotation"] is True
    assert primary["publiclyAccessible"] is False
    assert primary["storageEncrypted"] is True
    assert primary["kmsKeyId"] == prod.outputs["kms_key_arn"]
    assert primary["performanceInsightsEnabled"] is True
    assert primary["performanceInsightsKmsKeyId"] == prod.outputs["kms_key_arn"]
    assert (primary["engine"], primary["engineVersion"]) == ("postgres", "16")
    assert (primary["storageType"], primary["allocatedStorage"],
            primary["maxAllocatedStorage"]) == ("gp3", 100, 500)
    assert primary["multiAz"] is True
    assert primary["deletionProtection"] is True
    assert primary["skipFinalSnapshot"] is False
    assert primary["deleteAutomatedBackups"] is False
    assert primary["backupRetentionPeriod"] == 14
    assert primary["copyTagsToSnapshot"] is True
    assert primary["autoMinorVersionUpgrade"] is True
    assert primary["vpcSecurityGroupIds"] == [prod.outputs["security_group_id"]]
    assert primary["manageMasterUserPassword"] is True


def test_dev_is_single_az_and_disposable(dev) -> None:
    primary = dev.one(INSTANCE, "db-primary").inputs
    assert primary["multiAz"] is False
    assert primary["deletionProtection"] is False
    assert primary["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in primary
    assert dev.of_type(RANDOM_ID) == []
    assert primary["storageEncrypted"] is True and primary["publiclyAccessible"] is False
    assert [r.name for r in dev.of_type(INSTANCE)] == ["db-primary"]
    assert dev.outputs["reader_endpoint"] == dev.outputs["writer_endpoint"]
    assert dev.outputs["reader_endpoints"] == []


def test_instances_have_fixed_identifiers(prod) -> None:
    # Run as stack "dev" of project "shop": <project>-<stack>-<component name>.
    primary, replica = prod.one(INSTANCE, "db-primary"), prod.one(INSTANCE, "db-replica-1")
    assert primary.inputs["identifier"] == "shop-dev-db"
    assert replica.inputs["identifier"] == "shop-dev-db-replica-1"
    # The name is taken: a replacement deletes the old instance before creating the new one.
    assert primary.options.delete_before_replace is True
    assert replica.options.delete_before_replace is True
    named = dataclasses.replace(PROD, identifier="shop-production-pg")
    recorded = run_component(lambda: Database("db", named))
    assert recorded.one(INSTANCE, "db-primary").inputs["identifier"] == "shop-production-pg"


def test_exported_logs_land_in_retained_groups_made_first(prod) -> None:
    groups = {r.inputs["name"]: r for r in prod.of_type(LOG_GROUP)}
    assert set(groups) == {
        "/aws/rds/instance/shop-dev-db/postgresql", "/aws/rds/instance/shop-dev-db/upgrade",
        "/aws/rds/instance/shop-dev-db-replica-1/postgresql",
        "/aws/rds/instance/shop-dev-db-replica-1/upgrade"}
    assert {group.inputs["retentionInDays"] for group in groups.values()} == {90}
    for instance, identifier in (("db-primary", "shop-dev-db"),
                                 ("db-replica-1", "shop-dev-db-replica-1")):
        depends = prod.one(INSTANCE, instance).options.dependencies
        assert {groups[f"/aws/rds/instance/{identifier}/{kind}"].urn
                for kind in ("postgresql", "upgrade")} <= set(depends)
    shorter = dataclasses.replace(DEV, log_retention_days=30)
    recorded = run_component(lambda: Database("db", shorter))
    assert {g.inputs["retentionInDays"] for g in recorded.of_type(LOG_GROUP)} == {30}


def test_final_snapshot_is_named_anew_for_each_replaced_instance(prod) -> None:
    suffix = prod.one(RANDOM_ID)
    assert suffix.inputs["byteLength"] == 4
    assert suffix.inputs["keepers"] == {
        "identifier": "shop-dev-db", "engine": "postgres",
        "kmsKeyId": prod.outputs["kms_key_arn"],
        "dbSubnetGroupName": prod.one("aws:rds/subnetGroup:SubnetGroup").id,
        "storageEncrypted": "true", "username": "shop_admin", "dbName": "shop"}
    first = prod.one(INSTANCE, "db-primary").inputs["finalSnapshotIdentifier"]
    assert re.fullmatch(r"shop-dev-db-final-[0-9a-f]{8}", first)
    # A change that replaces the instance renews the suffix, so the next final snapshot
    # cannot collide with the one the replaced instance left.
    renamed = run_component(lambda: Database("db", dataclasses.replace(PROD, db_name="store")))
    second = renamed.one(INSTANCE, "db-primary").inputs["finalSnapshotIdentifier"]
    assert second.startswith("shop-dev-db-final-") and second != first
    # An in-place change keeps it.
    bigger = run_component(lambda: Database("db", dataclasses.replace(
        PROD, instance_class="db.m7g.xlarge")))
    assert bigger.one(INSTANCE, "db-primary").inputs["finalSnapshotIdentifier"] == first


def test_major_version_upgrades_move_to_a_group_of_the_new_family(prod) -> None:
    primary = prod.one(INSTANCE, "db-primary")
    assert primary.inputs["allowMajorVersionUpgrade"] is True
    group = prod.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["namePrefix"] == "shop-dev-db-postgres16-"
    # Created before the old group is deleted (no delete-before-replace): both exist while the
    # instance moves over.
    assert group.options.delete_before_replace is False
    upgraded = run_component(lambda: Database("db", dataclasses.replace(
        PROD, engine_version="17")))
    new_group = upgraded.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert (new_group["family"], new_group["namePrefix"]) == (
        "postgres17", "shop-dev-db-postgres17-")
    assert upgraded.one(INSTANCE, "db-primary").inputs["engineVersion"] == "17"


def test_read_replica_follows_the_primary(prod) -> None:
    replica = prod.one(INSTANCE, "db-replica-1").inputs
    assert replica["replicateSourceDb"] == "shop-dev-db"
    assert replica["storageEncrypted"] is True
    assert replica["kmsKeyId"] == prod.outputs["kms_key_arn"]
    assert replica["publiclyAccessible"] is False
    assert replica["deletionProtection"] is True
    assert "password" not in replica and "username" not in replica
    assert prod.outputs["reader_endpoint"].startswith("db-replica-1.")
    assert prod.outputs["reader_endpoints"] == [prod.outputs["reader_endpoint"]]
    assert prod.outputs["writer_endpoint"].startswith("db-primary.")
    assert prod.outputs["port"] == 5432


def test_only_the_nodes_reach_5432(prod) -> None:
    group = prod.one("aws:ec2/securityGroup:SecurityGroup", "db-sg").inputs
    assert group["vpcId"] == "vpc-0data"
    assert group["ingress"] == [{"description": "PostgreSQL clients", "protocol": "tcp",
                                 "fromPort": 5432, "toPort": 5432, "securityGroups": [NODE_SG]}]
    assert group["egress"] == []
    subnets = prod.one("aws:rds/subnetGroup:SubnetGroup").inputs
    assert subnets["subnetIds"] == ["subnet-iso-a", "subnet-iso-b", "subnet-iso-c"]


def test_parameter_group_forces_tls_and_logs_slow_statements(prod) -> None:
    group = prod.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert group["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in group["parameters"]} == {
        "rds.force_ssl": "1", "log_min_duration_statement": "500"}
    primary = prod.one(INSTANCE, "db-primary").inputs
    assert primary["parameterGroupName"].startswith("db-params-")
    assert primary["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]


def test_enhanced_monitoring_role(prod) -> None:
    role = prod.one("aws:iam/role:Role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                      "Principal": {"Service": "monitoring.rds.amazonaws.com"}}]
    attachment = prod.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")
    primary = prod.one(INSTANCE, "db-primary").inputs
    assert primary["monitoringInterval"] == 60
    assert primary["monitoringRoleArn"].startswith("arn:aws:iam::")


def test_rds_manages_and_rotates_the_password_with_the_database_key(prod, dev) -> None:
    for recorded in (prod, dev):
        primary = recorded.one(INSTANCE, "db-primary").inputs
        assert primary["manageMasterUserPassword"] is True
        assert primary["masterUserSecretKmsKeyId"] == recorded.outputs["kms_key_arn"]
        assert "password" not in primary and "passwordWo" not in primary
        # Nothing generates a password, and no secret of our own holds one.
        assert recorded.of_type("random:index/randomPassword:RandomPassword") == []
        assert recorded.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
        assert recorded.outputs["secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:")
        assert ":secret:rds!db-" in recorded.outputs["secret_arn"]
        rotation = recorded.one("aws:secretsmanager/secretRotation:SecretRotation",
                                "db-password-rotation").inputs
        assert rotation == {"secretId": recorded.outputs["secret_arn"],
                            "rotationRules": {"automaticallyAfterDays": 7},
                            "rotateImmediately": False}
    # Replicas share the primary's credentials: RDS refuses a managed password on them.
    replica = prod.one(INSTANCE, "db-replica-1").inputs
    assert "manageMasterUserPassword" not in replica
    assert_no_secret_values(prod)


def test_rotation_schedule_follows_the_args() -> None:
    monthly = run_component(lambda: Database("db", dataclasses.replace(
        DEV, password_rotation_days=30)))
    rotation = monthly.one("aws:secretsmanager/secretRotation:SecretRotation").inputs
    assert rotation["rotationRules"] == {"automaticallyAfterDays": 30}


def test_children_parented_and_tagged(prod, dev) -> None:
    for recorded, tags in ((prod, PROD_TAGS), (dev, DEV_TAGS)):
        # A log group's Name is the group's own name, not its resource name.
        groups = recorded.of_type(LOG_GROUP)
        assert all(g.inputs["tags"] == {**tags, "Name": g.inputs["name"]} for g in groups)
        others = Recorded([r for r in recorded.resources if r not in groups], recorded.outputs)
        assert_well_formed(others, "shop:database:Database", tags)


def test_satisfies_the_platform_policies(prod) -> None:
    stack = [Resource(urn=r.urn, type=r.type, name=r.name, inputs=r.inputs)
             for r in prod.resources]
    assert check(stack, Context(environment="prod")) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"engine_version": "9.6"}, "engine_version"),
    ({"instance_class": "m5.large"}, "instance_class"),
    ({"allocated_storage_gb": 10}, "allocated_storage_gb"),
    ({"max_allocated_storage_gb": 100}, "max_allocated_storage_gb"),
    ({"backup_retention_days": 0}, "backup_retention_days"),
    ({"replica_count": 6}, "replica_count"),
    ({"monitoring_interval_seconds": 0}, "monitoring_interval_seconds"),
    ({"subnet_ids": ["subnet-only-one"]}, "subnet_ids"),
    ({"allowed_security_group_ids": []}, "allowed_security_group_ids"),
    ({"db_name": "Shop-DB"}, "db_name"),
    ({"master_username": "postgres"}, "master_username"),
    ({"tags": {"Project": "shop"}}, "tags"),
    ({"log_retention_days": 10}, "log_retention_days"),
    ({"password_rotation_days": 0}, "password_rotation_days"),
    ({"password_rotation_days": 366}, "password_rotation_days"),
    ({"identifier": "Shop-DB"}, "identifier"),
    ({"identifier": "a" * 54}, "identifier length"),
])
def test_invalid_args_name_the_field_and_create_nothing(change, field) -> None:
    args = dataclasses.replace(PROD, **change)
    message = assert_refused(lambda: Database("db", args), field)
    assert field in message


@pytest.mark.parametrize("name", ["Shop-DB", "shop--db", "db-"])
def test_name_must_suit_the_derived_identifier(name) -> None:
    assert f"shop-dev-{name}" in assert_refused(lambda: Database(name, PROD), "identifier")
