"""The security logs' policy documents and event patterns, as pure functions: plain values in,
deterministic JSON out (components/security_logs.py feeds them resolved values).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# GuardDuty's severities: low 1.0-3.9, medium 4.0-6.9, high 7.0-8.9, critical 9.0-10.0.
MEDIUM_SEVERITY = 4
# API calls that blind the security logs: each one is an alert of its own.
TAMPERING_CALLS = {
    "aws.cloudtrail": ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors",
                       "PutInsightSelectors"),
    "aws.guardduty": ("DeleteDetector", "UpdateDetector", "DisassociateFromMasterAccount",
                      "DisassociateFromAdministratorAccount", "CreateFilter", "UpdateFilter"),
}


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def trail_arn(region: str, account_id: str, trail_name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def cloudtrail_bucket_policy(bucket_arn: str, trail: str, account_id: str,
                             deny_deletes: bool) -> str:
    """TLS only; CloudTrail (for this trail only) may check the ACL and write this account's
    log files, and nobody else gets anything. With `deny_deletes`, no principal may delete a
    log file or a version of one (lifecycle expiry is S3's own, not subject to the policy)."""
    source = {"StringEquals": {"aws:SourceArn": trail}}
    statements: list[dict[str, Any]] = [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "CloudTrailAclCheck", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": bucket_arn, "Condition": source},
        {"Sid": "CloudTrailWrite", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail,
                                        "s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]
    if deny_deletes:
        statements.append({
            "Sid": "DenyLogDeletion", "Effect": "Deny", "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion",
                       "s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration"],
            "Resource": [bucket_arn, f"{bucket_arn}/*"]})
    return _dumps({"Version": "2012-10-17", "Statement": statements})


def security_key_policy(account_id: str, trail: str) -> str:
    """The account administers the key; CloudTrail encrypts this trail's log files with it;
    the account's principals (with IAM permission) decrypt them; EventBridge encrypts what it
    publishes to the alert topic."""
    account = f"arn:aws:iam::{account_id}:root"
    trail_context = {"kms:EncryptionContext:aws:cloudtrail:arn":
                     f"arn:aws:cloudtrail:*:{account_id}:trail/*"}
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": account},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudTrailEncrypts", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*",
         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail},
                                        "StringLike": trail_context}},
        {"Sid": "CloudTrailDescribes", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:DescribeKey",
         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail}}},
        {"Sid": "AccountReadsLogs", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account_id},
                       "StringLike": trail_context}},
        # EventBridge's documented grant for encrypted topics: it passes no source context
        # through SNS that a condition could test, and the topic policy names the rules.
        {"Sid": "EventBridgePublishes", "Effect": "Allow",
         "Principal": {"Service": "events.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ]})


def alert_topic_policy(topic_arn: str, account_id: str, rule_arns: Sequence[str]) -> str:
    """The account manages the topic; EventBridge may publish only for the given rules."""
    return _dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountManages", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic", "sns:Publish"], "Resource": topic_arn},
        {"Sid": "SecurityRulesPublish", "Effect": "Allow",
         "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
         "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}}},
    ]})


def api_destination_policy(destination_arn: str) -> str:
    """What EventBridge's role for the Slack destination may do: invoke that one destination."""
    return _dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "events:InvokeApiDestination",
        "Resource": destination_arn}]})


def guardduty_findings_pattern(min_severity: float = MEDIUM_SEVERITY) -> str:
    if not 1 <= min_severity <= 10:
        raise ValueError(f"min_severity must be from 1 to 10, got {min_severity}")
    return _dumps({"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
                   "detail": {"severity": [{"numeric": [">=", min_severity]}]}})


def tampering_pattern(sources: Sequence[str]) -> str:
    """CloudTrail's record of a call that stops or narrows the security logs."""
    unknown = set(sources) - set(TAMPERING_CALLS)
    if not sources or unknown:
        raise ValueError(f"sources must be some of {sorted(TAMPERING_CALLS)}, got "
                         f"{list(sources)}")
    return _dumps({"source": sorted(sources), "detail-type": ["AWS API Call via CloudTrail"],
                   "detail": {"eventName": sorted(name for source in sources
                                                  for name in TAMPERING_CALLS[source])}})


# EventBridge -> Slack: the finding's essentials as a Slack message. EventBridge escapes the
# values it puts between the quotes.
SLACK_FINDING_PATHS = {"severity": "$.detail.severity", "type": "$.detail.type",
                       "title": "$.detail.title", "account": "$.account", "region": "$.region"}
SLACK_FINDING_TEMPLATE = ('{"text": "GuardDuty finding, severity <severity>: <type>. <title> '
                          '(account <account>, <region>)"}')
SLACK_TAMPERING_PATHS = {"event": "$.detail.eventName", "who": "$.detail.userIdentity.arn",
                         "account": "$.account", "region": "$.region"}
SLACK_TAMPERING_TEMPLATE = ('{"text": "Security logs changed: <event> by <who> '
                            '(account <account>, <region>)"}')
