"""What holds data that a replacement or deletion would lose, and the rules about it.

One definition for three users: stacks/protection.py protects these resources in prod
(Pulumi's `protect`), the `prod-stateful-protected` rule checks it (in the plan and in the
CrossGuard pack, which sees each resource's options), and `python -m stacks diff` turns a
replacement or deletion of one into a finding (CrossGuard cannot see replacements; the diff
can), mandatory in prod.

Stateful: databases that own their data (an RDS primary, not a read replica, which is rebuilt
from its source), ElastiCache replication groups (sessions, guest carts), every S3 bucket (a
replaced bucket is a new, empty one, under another name), KMS keys (a deleted key makes
everything encrypted with it unreadable: snapshots, backups), the EKS cluster (its
PersistentVolumes, secrets and every workload), and PersistentVolumeClaims.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from stacks.policy.facts import Context

STATEFUL_TYPES = frozenset({
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key",
    "eks:index:Cluster",
    "aws:eks/cluster:Cluster",
    "kubernetes:core/v1:PersistentVolumeClaim",
})
SETTING = "shop:unprotectStateful"


def is_stateful(type_: str, inputs: Mapping[str, Any]) -> bool:
    if type_ not in STATEFUL_TYPES:
        return False
    # A read replica copies its source: replacing it loses nothing the primary lacks.
    return not (type_ == "aws:rds/instance:Instance" and inputs.get("replicateSourceDb"))


def unprotected_in_prod(resources: Sequence[Any], ctx: Context) -> Iterator[tuple[Any, str]]:
    """Stack rule: in prod, every stateful resource carries `protect`, unless the operator
    lifted it for a deliberate replacement (then the pack is told so by its config)."""
    if ctx.environment != "prod" or ctx.unprotect_stateful:
        return
    for resource in resources:
        if is_stateful(resource.type, resource.inputs) and resource.protect is False:
            yield resource, (f"stateful {resource.type} is not protected in prod: set "
                             f"protect=True (stacks/protection.py), lifted only by {SETTING}")


def change_findings(changes: Sequence[Any], environment: str) -> Iterator[tuple[Any, str, str]]:
    """(change, message, enforcement) for every stateful or protected resource a diff replaces
    or deletes: mandatory in prod, advisory elsewhere."""
    enforcement = "mandatory" if environment == "prod" else "advisory"
    for change in changes:
        if change.destructive:
            verb = "replaced (deleted, then created empty)" if change.operation == "replace" \
                else "deleted"
            protected = " protected" if change.protected else ""
            yield change, (f"{protected.strip() or 'stateful'} {change.type} would be {verb}"
                           f"; its data is lost unless restored from a snapshot"), enforcement


DESTRUCTIVE_RULE = "no-stateful-replacement"
DESTRUCTIVE_DESCRIPTION = ("A plan diff replaces or deletes no stateful or protected resource "
                           "(mandatory in prod; CrossGuard cannot see replacements, "
                           "`stacks diff` can).")
