"""The media replication's role and rule as pure functions (components/recovery.py)."""

from __future__ import annotations

import json
from typing import Any

# S3 Replication Time Control: 99.99% of objects replicated within this, with metrics.
REPLICATION_MINUTES = 15


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def replication_trust_policy(account_id: str, source_bucket_arn: str) -> str:
    """Only S3, replicating this account's source bucket, may assume the role."""
    return _dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn": source_bucket_arn}}}]})


def replication_policy(source_bucket_arn: str, replica_bucket_arn: str) -> str:
    """Read the source's replication configuration and object versions; write replicas (and
    their tags) to the replica bucket. No ReplicateDelete: delete markers are not replicated,
    so a deletion in the primary region leaves the recovery copy whole."""
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadSourceConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
         "Resource": source_bucket_arn},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging"],
         "Resource": f"{source_bucket_arn}/*"},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
         "Resource": f"{replica_bucket_arn}/*"},
    ]})
