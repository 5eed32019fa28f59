"""Replacements that follow from other replacements, where no input value shows them.

The mock engine gives a replaced resource a new id (stacks/plan/ids.py), so a dependent that
reads the id in a ForceNew input (a subnet's `vpcId`) shows its own replacement. Three kinds
of dependent do not, because they point at what is replaced by a name that stays the same, or
because the provider decides at run time; each rule here says why a real `pulumi up` replaces
them:

- a subnet group all of whose subnets are replaced: AWS refuses to move an existing RDS or
  ElastiCache subnet group into other subnets of another VPC ("The new Subnets are not in the
  same Vpc as the existing subnet group"), and a subnet in use cannot be deleted; so the group
  is replaced (its autoname changes), and with it
- a database or cache that names a replaced subnet group or source instance
  (`dbSubnetGroupName` and `subnetGroupName` force replacement, and a read replica cannot follow
  a new primary);
- a Kubernetes provider whose EKS cluster is replaced: pulumi-kubernetes replaces every object
  it manages when its kubeconfig points at another cluster.

`follow(changes, before, after)` applies the rules until nothing more follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from stacks.review.diff_model import PropertyChange, ResourceChange

# Inputs listing ids: the resource is replaced once every id it listed is replaced.
ALL_REPLACED: Mapping[str, str] = {
    "aws:rds/subnetGroup:SubnetGroup": "subnetIds",
    "aws:elasticache/subnetGroup:SubnetGroup": "subnetIds",
}
# Inputs naming one resource: the resource is replaced when that one is.
NAMED_REPLACED: Mapping[str, tuple[str, ...]] = {
    "aws:rds/instance:Instance": ("dbSubnetGroupName", "replicateSourceDb"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("subnetGroupName",),
}
# Providers replaced with the cluster they depend on.
CLUSTER_PROVIDERS = ("pulumi:providers:kubernetes",)
CLUSTER_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
# What another resource may name a resource by.
_NAME_INPUTS = ("name", "identifier", "replicationGroupId")


def follow(changes: list[ResourceChange], before: Mapping[str, Mapping[str, Any]],
           after: Mapping[str, Mapping[str, Any]]) -> list[ResourceChange]:
    """`changes` with every replacement that follows from another one; `before` and
    `after` are the plans' resources by URN."""
    by_urn = {change.urn: change for change in changes}
    while True:
        replaced = {urn for urn, change in by_urn.items() if change.operation == "replace"}
        names = _identities(before[urn] for urn in replaced if urn in before)
        found = {}
        for urn, record in after.items():
            if urn in replaced or urn not in before:
                continue
            reason = _reason(before[urn], record, replaced, names)
            if reason is not None:
                found[urn] = _replacing(by_urn.get(urn), record, reason)
        if not found:
            return sorted(by_urn.values(), key=lambda c: c.sort_key)
        by_urn.update(found)


def _reason(old: Mapping[str, Any], new: Mapping[str, Any], replaced: set[str],
            names: dict[str, str]) -> PropertyChange | None:
    type_, inputs = new["type"], old.get("inputs") or {}
    listed = ALL_REPLACED.get(type_)
    if listed is not None:
        ids = [value for value in inputs.get(listed) or () if isinstance(value, str)]
        if ids and all(value in names for value in ids):
            return _follows(listed, old, new, "its subnets are all replaced")
    for key in NAMED_REPLACED.get(type_, ()):
        value = inputs.get(key)
        if isinstance(value, str) and value in names:
            return _follows(key, old, new, f"{names[value]} is replaced")
    if type_ in CLUSTER_PROVIDERS:
        clusters = [urn for urn in _dependencies(new) if urn in replaced
                    and urn.rsplit("::", 2)[-2].endswith(CLUSTER_TYPES)]
        if clusters:
            return PropertyChange("(cluster)", "", "", True,
                                  f"{clusters[0].rsplit('::', 1)[-1]} is replaced")
    provider = (new.get("options") or {}).get("provider")
    if provider in replaced:
        return PropertyChange("(options).provider", provider, provider, True,
                              f"{provider.rsplit('::', 1)[-1]} is replaced")
    return None


def _follows(key: str, old: Mapping[str, Any], new: Mapping[str, Any], why: str,
             ) -> PropertyChange:
    return PropertyChange(key, (old.get("inputs") or {}).get(key),
                          (new.get("inputs") or {}).get(key), True, why)


def _replacing(change: ResourceChange | None, record: Mapping[str, Any],
               reason: PropertyChange) -> ResourceChange:
    if change is None:
        return ResourceChange("replace", record["urn"], record["type"], record["name"],
                              (reason,), str(record.get("parent") or ""))
    kept = tuple(c for c in change.changes if c.path != reason.path)
    return replace(change, operation="replace", changes=(reason, *kept))


def _identities(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Every id and name of the replaced resources, with the resource's name."""
    names: dict[str, str] = {}
    for record in records:
        inputs = record.get("inputs") or {}
        for value in (record.get("id"), *(inputs.get(key) for key in _NAME_INPUTS)):
            if isinstance(value, str) and value:
                names[value] = record["name"]
    return names


def _dependencies(record: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple((record.get("options") or {}).get("dependencies", ()))
