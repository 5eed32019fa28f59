"""The storefront's PostgreSQL: RDS in the isolated subnets, reachable from the cluster nodes
only, encrypted with its own KMS key. RDS manages the master password itself
(manage_master_user_password): it keeps it in Secrets Manager, encrypted with that key, and
rotates it on the schedule set here, so no password is ever in Pulumi's state or a plan. The
storefront's pods read it from there (components/secret_store.py).

Raising the major version (shop:dbEngineVersion 16 -> 17): the primary may upgrade
(allow_major_version_upgrade) and moves to a parameter group of the new family in the same
modification. The group's name carries its family and a unique suffix, so Pulumi creates the
new group before it deletes the old one. Procedure: snapshot first (`python -m stacks ops
snapshot`), rehearse on a copy (`ops restore-pitr`), then `pulumi up`; RDS applies the upgrade
in the next maintenance window. Read replicas follow their primary's major version but cannot
take the new family's group ahead of it: set shop:dbReplicaCount to 0, upgrade, then restore
the count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import (
    require_choice,
    require_pattern,
    require_range,
    with_name,
)
from components.data_security import (
    IsolatedStoreArgs,
    encryption_key,
    final_snapshot_name,
    isolated_placement,
    validate_isolated,
)
from components.log_groups import require_retention, retained_log_group
from components.policies_json import service_assume_role_policy

POSTGRES_PORT = 5432
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
LOG_EXPORTS = ("postgresql", "upgrade")
MAX_REPLICAS = 5
_REPLICA_SUFFIX = f"-replica-{MAX_REPLICAS}"
# RDS identifiers: a letter, then letters, digits and single hyphens, at most 63 characters.
_IDENTIFIER = re.compile(r"[a-z](?:-?[a-z0-9])*")
_ENGINE_VERSION = re.compile(r"(1[4-8])(\.\d+)?")
_INSTANCE_CLASS = re.compile(r"db\.[a-z0-9]+\.[a-z0-9]+")
_PG_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class DatabaseArgs(IsolatedStoreArgs):
    """Where it sits (IsolatedStoreArgs: the groups admitted on 5432, subnets in at least two
    AZs as RDS requires), then PostgreSQL itself."""

    # A major version ("16") lets automatic minor upgrades happen without showing as drift.
    engine_version: str = "16"
    instance_class: str = "db.t4g.micro"
    allocated_storage_gb: int = 20
    max_allocated_storage_gb: int = 100
    backup_retention_days: int = 7
    multi_az: bool = False
    replica_count: int = 0
    # Deletion protection, a final snapshot and backups kept after deletion: on outside dev.
    deletion_protection: bool = True
    monitoring_interval_seconds: int = 60
    slow_statement_ms: int = 500
    db_name: str = "shop"
    master_username: str = "shop_admin"
    # The instance identifier, unique in the account and region; it names the log groups and
    # final snapshots too. None: `<project>-<stack>-<component name>`.
    identifier: str | None = None
    log_retention_days: int = 90
    # Days between the rotations Secrets Manager runs on the RDS-managed master password.
    password_rotation_days: int = 7


def instance_identifier(configured: str | None, name: str, project: str, stack: str) -> str:
    return configured if configured is not None else f"{project}-{stack}-{name}"


def validate_identifier(identifier: str) -> None:
    """The replicas append `-replica-<n>`, so the identifier leaves room for it."""
    require_pattern("identifier", identifier, _IDENTIFIER,
                    "lowercase letters, digits and single hyphens, starting with a letter")
    require_range("identifier length", len(identifier), 1, 63 - len(_REPLICA_SUFFIX))


def validate(args: DatabaseArgs) -> None:
    validate_isolated(args, minimum_subnets=2)
    require_pattern("engine_version", args.engine_version, _ENGINE_VERSION,
                    "a PostgreSQL major 14-18, optionally with a minor, like '16' or '16.4'")
    require_pattern("instance_class", args.instance_class, _INSTANCE_CLASS,
                    "an RDS instance class like 'db.t4g.micro'")
    require_range("allocated_storage_gb", args.allocated_storage_gb, 20, 65536)
    require_range("max_allocated_storage_gb", args.max_allocated_storage_gb,
                  args.allocated_storage_gb + 1, 65536)
    require_range("backup_retention_days", args.backup_retention_days, 1, 35)
    require_range("replica_count", args.replica_count, 0, MAX_REPLICAS)
    require_choice("monitoring_interval_seconds", args.monitoring_interval_seconds,
                   MONITORING_INTERVALS)
    require_range("slow_statement_ms", args.slow_statement_ms, 0, 3_600_000)
    require_pattern("db_name", args.db_name, _PG_IDENTIFIER,
                    "lowercase letters, digits and underscores, starting with a letter")
    require_pattern("master_username", args.master_username, _PG_IDENTIFIER,
                    "lowercase letters, digits and underscores, starting with a letter")
    if args.master_username in ("postgres", "rdsadmin", "rdsrepladmin"):
        raise ValueError(f"master_username must not be a reserved role, got "
                         f"{args.master_username!r}")
    require_retention("log_retention_days", args.log_retention_days)
    require_range("password_rotation_days", args.password_rotation_days, 1, 365)


def parameter_group_family(engine_version: str) -> str:
    """'16.4' -> 'postgres16'."""
    return f"postgres{engine_version.split('.')[0]}"


def parameter_group_prefix(identifier: str, engine_version: str) -> str:
    """`shop-prod-database-postgres16-`: AWS appends a unique suffix, so a group of a new family
    (or any other replacement) can exist beside the old one while the instance moves over."""
    return f"{identifier}-{parameter_group_family(engine_version)}-"


def log_group_name(identifier: str, kind: str) -> str:
    """Where RDS publishes an instance's exported log of one kind."""
    return f"/aws/rds/instance/{identifier}/{kind}"


def snapshot_keepers(identifier: str, kms_key_arn: pulumi.Input[str],
                     subnet_group: pulumi.Input[str], args: DatabaseArgs,
                     ) -> dict[str, pulumi.Input[str]]:
    """The primary's inputs whose change makes AWS replace it (stacks/review/replacements.py): a new
    instance, so a new final snapshot name, never the one its predecessor left behind."""
    return {"identifier": identifier, "engine": "postgres", "kmsKeyId": kms_key_arn,
            "dbSubnetGroupName": subnet_group, "storageEncrypted": "true",
            "username": args.master_username, "dbName": args.db_name}


def parameters(slow_statement_ms: int) -> list[aws.rds.ParameterGroupParameterArgsDict]:
    """TLS for every connection, and statements slower than the threshold logged."""
    return [
        {"name": "rds.force_ssl", "value": "1"},
        {"name": "log_min_duration_statement", "value": str(slow_statement_ms)},
    ]


def master_secret_arn(secrets: Sequence[Any] | None) -> str:
    """The ARN of the secret RDS keeps the master password in (empty while unknown)."""
    for secret in secrets or []:
        arn = secret.get("secret_arn") if isinstance(secret, dict) else secret.secret_arn
        if arn:
            return str(arn)
    return ""


class Database(pulumi.ComponentResource):
    writer_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    reader_endpoints: pulumi.Output[list[str]]
    port: pulumi.Output[int]
    db_name: pulumi.Output[str]
    master_username: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    instance_arn: pulumi.Output[str]  # the primary's, for cross-region backup replication

    def __init__(self, name: str, args: DatabaseArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        identifier = instance_identifier(args.identifier, name, pulumi.get_project(),
                                         pulumi.get_stack())
        validate_identifier(identifier)
        validate(args)
        super().__init__("shop:database:Database", name, None, opts)
        self._name, self._args, self._identifier = name, args, identifier
        child = pulumi.ResourceOptions(parent=self)

        key = encryption_key(name, "the storefront database, its snapshots and secret",
                             args.tags, self, args.deletion_protection)
        group, subnets = isolated_placement(name, args, port=POSTGRES_PORT, purpose="PostgreSQL",
                                            store="database", subnet_group=aws.rds.SubnetGroup,
                                            parent=self)
        params = aws.rds.ParameterGroup(
            f"{name}-params",
            name_prefix=parameter_group_prefix(identifier, args.engine_version),
            family=parameter_group_family(args.engine_version),
            description="Forces TLS, logs slow statements",
            parameters=parameters(args.slow_statement_ms),
            tags=with_name(args.tags, f"{name}-params"),
            # Replaced create-before-delete (the default): the old group goes only once the
            # instances moved to its successor.
            opts=child)
        monitoring_role = self._monitoring_role()

        shared = self._shared_settings(key, group, params, monitoring_role)
        primary = self._primary(subnets, key, shared)
        replicas = [self._replica(index, primary, shared)
                    for index in range(1, args.replica_count + 1)]

        self.writer_endpoint = primary.address
        self.reader_endpoints = pulumi.Output.all(*(r.address for r in replicas))
        self.reader_endpoint = replicas[0].address if replicas else primary.address
        self.port = primary.port
        self.db_name = pulumi.Output.from_input(args.db_name)
        self.master_username = pulumi.Output.from_input(args.master_username)
        self.security_group_id = group.id
        self.kms_key_arn = key.arn
        self.instance_arn = primary.arn
        self.secret_arn = primary.master_user_secrets.apply(master_secret_arn)
        aws.secretsmanager.SecretRotation(
            f"{name}-password-rotation",
            secret_id=self.secret_arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=args.password_rotation_days),
            # RDS rotates its own secret (no Lambda); the first rotation waits its turn.
            rotate_immediately=False,
            opts=child)

        self.register_outputs({
            "writer_endpoint": self.writer_endpoint,
            "reader_endpoint": self.reader_endpoint,
            "reader_endpoints": self.reader_endpoints,
            "port": self.port,
            "db_name": self.db_name,
            "master_username": self.master_username,
            "secret_arn": self.secret_arn,
            "security_group_id": self.security_group_id,
            "kms_key_arn": self.kms_key_arn,
            "instance_arn": self.instance_arn,
        })

    def _monitoring_role(self) -> aws.iam.Role:
        """The role RDS enhanced monitoring publishes OS metrics with."""
        name = self._name
        role = aws.iam.Role(
            f"{name}-monitoring-role",
            description="RDS enhanced monitoring of the storefront database",
            assume_role_policy=service_assume_role_policy("monitoring.rds.amazonaws.com"),
            tags=with_name(self._args.tags, f"{name}-monitoring-role"),
            opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy", role=role.name,
            policy_arn=aws.iam.ManagedPolicy.AMAZON_RDS_ENHANCED_MONITORING_ROLE,
            opts=pulumi.ResourceOptions(parent=self))
        return role

    def _shared_settings(self, key: aws.kms.Key, group: aws.ec2.SecurityGroup,
                         params: aws.rds.ParameterGroup, role: aws.iam.Role,
                         ) -> dict[str, Any]:
        """What the writer and its replicas have in common."""
        args = self._args
        return {
            "instance_class": args.instance_class,
            "storage_type": "gp3",
            "max_allocated_storage": args.max_allocated_storage_gb,
            "storage_encrypted": True,
            "kms_key_id": key.arn,
            "publicly_accessible": False,
            "vpc_security_group_ids": [group.id],
            "parameter_group_name": params.name,
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "deletion_protection": args.deletion_protection,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": key.arn,
            "performance_insights_retention_period": 7,
            "monitoring_interval": args.monitoring_interval_seconds,
            "monitoring_role_arn": role.arn,
            "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
        }

    def _log_groups(self, role: str, identifier: str) -> list[aws.cloudwatch.LogGroup]:
        """Created before the instance: the groups RDS would make itself keep logs forever."""
        return [retained_log_group(f"{self._name}-{role}-{kind}-logs",
                                   log_group_name(identifier, kind),
                                   self._args.log_retention_days, self._args.tags, self)
                for kind in LOG_EXPORTS]

    def _final_snapshot(self, key: aws.kms.Key, subnets: aws.rds.SubnetGroup,
                        ) -> pulumi.Output[str] | None:
        if not self._args.deletion_protection:
            return None
        keepers = snapshot_keepers(self._identifier, key.arn, subnets.name, self._args)
        return final_snapshot_name(self._name, self._identifier, keepers, self)

    def _primary(self, subnets: aws.rds.SubnetGroup, key: aws.kms.Key, shared: dict[str, Any],
                 ) -> aws.rds.Instance:
        args, name, identifier = self._args, self._name, self._identifier
        protected = args.deletion_protection
        return aws.rds.Instance(
            f"{name}-primary",
            identifier=identifier,
            engine="postgres",
            engine_version=args.engine_version,
            allocated_storage=args.allocated_storage_gb,
            db_name=args.db_name,
            username=args.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            db_subnet_group_name=subnets.name,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            allow_major_version_upgrade=True,
            skip_final_snapshot=not protected,
            final_snapshot_identifier=self._final_snapshot(key, subnets),
            delete_automated_backups=not protected,
            tags=with_name(args.tags, f"{name}-primary"),
            # A fixed identifier: a replacement must delete the old instance (and take its
            # final snapshot) before its successor can take the name. That is safe only because
            # it cannot happen by accident: in prod the instance carries deletion protection
            # (AWS refuses the delete) and Pulumi's protect (stacks/protection.py: the engine
            # refuses the replacement), and `stacks diff` fails the pull request that would
            # replace it. A deliberate one lifts both (shop:deletionProtection and
            # shop:unprotectStateful); the final snapshot and the kept backups restore it.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True,
                                        depends_on=self._log_groups("primary", identifier)),
            **shared,
        )

    def _replica(self, index: int, primary: aws.rds.Instance, shared: dict[str, Any],
                 ) -> aws.rds.Instance:
        # A replica inherits engine, credentials and subnets from its source; it holds no data
        # of its own, so it needs no final snapshot.
        name = f"{self._name}-replica-{index}"
        identifier = f"{self._identifier}-replica-{index}"
        return aws.rds.Instance(
            name,
            identifier=identifier,
            replicate_source_db=primary.identifier,
            skip_final_snapshot=True,
            tags=with_name(self._args.tags, name),
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True,
                depends_on=self._log_groups(f"replica-{index}", identifier)),
            **shared,
        )
