"""Rules about where credentials live: never in Pulumi's state or a plan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stacks.policy.facts import Context, is_true, text

RDS_PRIMARIES = frozenset({"aws:rds/instance:Instance", "aws:rds/cluster:Cluster"})
# The inputs through which a master password would enter the state (and a plan).
PASSWORD_INPUTS = ("password", "passwordWo", "masterPassword", "masterPasswordWo")


def rds_password_managed(type_: str, inputs: Mapping[str, Any], ctx: Context
                         ) -> Iterator[str]:
    """RDS keeps and rotates the master password in Secrets Manager, under a customer key.
    A read replica has no password of its own: it uses its source's."""
    if type_ not in RDS_PRIMARIES or inputs.get("replicateSourceDb"):
        return
    given = [key for key in PASSWORD_INPUTS if inputs.get(key)]
    if given:
        yield (f"the master password is an input ({', '.join(given)}), so it is in the state "
               "and the plan: remove it and set manageMasterUserPassword: true")
    if not is_true(inputs.get("manageMasterUserPassword")):
        yield ("RDS does not manage the master password: set manageMasterUserPassword: true "
               "(RDS keeps it in Secrets Manager and rotates it)")
    elif not text(inputs.get("masterUserSecretKmsKeyId")):
        yield ("the managed password's secret is encrypted with the AWS-managed key: set "
               "masterUserSecretKmsKeyId to the database's customer KMS key")
