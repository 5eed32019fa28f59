"""Rules over message queues (Karpenter's interruption queue, and any later one)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stacks.policy.facts import Context, is_true, text

SQS_QUEUE = "aws:sqs/queue:Queue"


def sqs_encrypted(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    """SSE-SQS or a KMS key: either encrypts the messages at rest."""
    if type_ != SQS_QUEUE:
        return
    if not (is_true(inputs.get("sqsManagedSseEnabled")) or text(inputs.get("kmsMasterKeyId"))):
        yield ("queue is not encrypted at rest: set sqsManagedSseEnabled: true or "
               "kmsMasterKeyId")
