"""The security logs under the mock engine: the exact inputs CloudTrail, its bucket, GuardDuty
and the alert routing get; and their policy documents as pure functions."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components import security_policies as policies
from components.security_logs import SecurityLogs, SecurityLogsArgs
from stacks.plan.mocks import ACCOUNT_ID, SECRET
from tests.infra.component_support import (
    DEV_TAGS,
    PROD_TAGS,
    assert_no_secret_values,
    assert_refused,
    assert_well_formed,
    run_component,
)
from tests.infra.mock_outputs import output

TOKEN = "shop:security:SecurityLogs"
OUTPUTS = ("trail_arn", "log_bucket_name", "detector_id", "alert_topic_arn")
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/shop-prod"
PROD = SecurityLogsArgs(trail_name="shop-prod", region="us-east-1", tags=PROD_TAGS,
                        alert_emails=("oncall@example.com", "sec@example.com"),
                        slack_webhook_url="https://hooks.slack.com/services/T/B/x")
DEV = dataclasses.replace(PROD, tags=DEV_TAGS, protect=False, guardduty=False, alert_emails=(),
                          slack_webhook_url=None, retention_days=90)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: SecurityLogs("security", PROD), *OUTPUTS)


@pytest.fixture(scope="module")
def dev():
    return run_component(lambda: SecurityLogs("security", DEV), *OUTPUTS)


def statements(document: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def test_the_trail_records_every_region_validated_and_encrypted(prod) -> None:
    trail = prod.one("aws:cloudtrail/trail:Trail").inputs
    key = prod.one("aws:kms/key:Key")
    bucket = prod.one("aws:s3/bucket:Bucket")
    assert trail == {
        "name": "shop-prod", "s3BucketName": bucket.id, "isMultiRegionTrail": True,
        "includeGlobalServiceEvents": True, "enableLogFileValidation": True,
        "enableLogging": True, "kmsKeyId": output(key, "arn"),
        "tags": {**PROD_TAGS, "Name": "security-trail"}}
    policy = prod.one("aws:s3/bucketPolicy:BucketPolicy")
    assert policy.urn in prod.one("aws:cloudtrail/trail:Trail").options.dependencies


def test_the_key_lets_only_this_trail_encrypt_and_rotates(prod) -> None:
    key = prod.one("aws:kms/key:Key").inputs
    assert key["enableKeyRotation"] is True
    found = statements(key["policy"])
    assert found["CloudTrailEncrypts"]["Condition"]["StringEquals"] == {
        "aws:SourceArn": TRAIL_ARN}
    assert found["AccountAdministers"]["Principal"] == {
        "AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert found["AccountReadsLogs"]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": ACCOUNT_ID}
    assert found["EventBridgePublishes"]["Principal"] == {"Service": "events.amazonaws.com"}


def test_the_log_bucket_is_locked_in_prod(prod) -> None:
    bucket = prod.one("aws:s3/bucket:Bucket").inputs
    assert bucket["objectLockEnabled"] is True and bucket["forceDestroy"] is False
    lock = prod.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 365}}
    assert prod.one("aws:s3/bucketVersioning:BucketVersioning").inputs[
        "versioningConfiguration"] == {"status": "Enabled"}
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy",
                                        "ignorePublicAcls", "restrictPublicBuckets"))
    (rule,) = prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
                       ).inputs["rules"]
    assert rule["transitions"] == [{"days": 30, "storageClass": "GLACIER"}]
    assert rule["expiration"] == {"days": 365}
    found = statements(prod.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert set(found) == {"DenyInsecureTransport", "CloudTrailAclCheck", "CloudTrailWrite",
                          "DenyLogDeletion"}
    allowed = [s for s in found.values() if s["Effect"] == "Allow"]
    assert {json.dumps(s["Principal"]) for s in allowed} == {
        '{"Service": "cloudtrail.amazonaws.com"}'}
    assert found["CloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    assert "s3:DeleteObjectVersion" in found["DenyLogDeletion"]["Action"]


def test_dev_can_tear_its_log_bucket_down(dev) -> None:
    bucket = dev.one("aws:s3/bucket:Bucket").inputs
    assert bucket["forceDestroy"] is True and "objectLockEnabled" not in bucket
    assert dev.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration") == []
    assert "DenyLogDeletion" not in statements(
        dev.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert dev.of_type("aws:guardduty/detector:Detector") == []
    assert dev.outputs["detector_id"] is None


def test_guardduty_protects_eks_audit_logs_and_runtime(prod) -> None:
    detector = prod.one("aws:guardduty/detector:Detector")
    assert detector.inputs["enable"] is True
    features = {f.inputs["name"]: f.inputs for f in prod.of_type(
        "aws:guardduty/detectorFeature:DetectorFeature")}
    assert set(features) == {"EKS_AUDIT_LOGS", "RUNTIME_MONITORING"}
    assert {f["detectorId"] for f in features.values()} == {detector.id}
    assert {f["status"] for f in features.values()} == {"ENABLED"}
    assert features["RUNTIME_MONITORING"]["additionalConfigurations"] == [
        {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}]


def test_findings_and_tampering_reach_the_alert_addresses_and_slack(prod) -> None:
    rules = {r.name: r for r in prod.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert json.loads(rules["security-findings"].inputs["eventPattern"]) == {
        "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 4]}]}}
    tampering = json.loads(rules["security-tampering"].inputs["eventPattern"])
    assert {"StopLogging", "DeleteTrail", "DeleteDetector"} <= set(tampering["detail"]["eventName"])
    topic = prod.one("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == output(prod.one("aws:kms/key:Key"), "arn")
    targets = {t.name: t.inputs for t in prod.of_type("aws:cloudwatch/eventTarget:EventTarget")}
    assert targets["security-findings-to-topic"] == {"rule": rules["security-findings"].id,
                                                     "arn": output(topic, "arn")}
    emails = {s.inputs["endpoint"]: s.inputs for s in prod.of_type(
        "aws:sns/topicSubscription:TopicSubscription")}
    assert set(emails) == {"oncall@example.com", "sec@example.com"}
    assert {s["protocol"] for s in emails.values()} == {"email"}
    published = statements(prod.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert sorted(published["SecurityRulesPublish"]["Condition"]["ArnEquals"][
        "aws:SourceArn"]) == sorted(output(r, "arn") for r in rules.values())
    destination = prod.one("aws:cloudwatch/eventApiDestination:EventApiDestination")
    assert destination.inputs["invocationEndpoint"] == SECRET
    slack = targets["security-findings-to-slack"]
    assert slack["arn"] == output(destination, "arn")
    assert slack["inputTransformer"]["inputPaths"] == policies.SLACK_FINDING_PATHS
    assert json.loads(prod.one("aws:iam/rolePolicy:RolePolicy").inputs[
        "policy"])["Statement"] == [{"Effect": "Allow", "Action": "events:InvokeApiDestination",
                                      "Resource": output(destination, "arn")}]
    assert_no_secret_values(prod)


def test_without_a_trail_no_tampering_rule_is_made() -> None:
    recorded = run_component(lambda: SecurityLogs("security", dataclasses.replace(
        PROD, cloudtrail=False)), *OUTPUTS)
    assert [r.name for r in recorded.of_type("aws:cloudwatch/eventRule:EventRule")] == [
        "security-findings"]
    assert recorded.of_type("aws:cloudtrail/trail:Trail") == []


def test_children_are_parented_and_tagged(prod, dev) -> None:
    assert_well_formed(prod, TOKEN, PROD_TAGS)
    assert_well_formed(dev, TOKEN, DEV_TAGS)


def test_slack_templates_are_json_once_filled() -> None:
    filled = policies.SLACK_FINDING_TEMPLATE
    for name in policies.SLACK_FINDING_PATHS:
        filled = filled.replace(f"<{name}>", "x")
    assert json.loads(filled) == {"text": "GuardDuty finding, severity x: x. x (account x, x)"}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"trail_name": "a b"}, "trail_name"),
    ({"region": "mars"}, "region"),
    ({"retention_days": 30}, "retention_days"),
    ({"alert_emails": ("nobody",)}, "alert_emails"),
    ({"cloudtrail": False, "guardduty": False}, "cloudtrail or guardduty"),
    ({"min_severity": 11}, "min_severity"),
    ({"tags": {"Project": "shop"}}, "tags"),
])
def test_bad_arguments_are_refused_before_any_resource(overrides: dict, field: str) -> None:
    assert_refused(lambda: SecurityLogs("security", dataclasses.replace(PROD, **overrides)),
                   field)


def test_tampering_pattern_refuses_unknown_sources() -> None:
    with pytest.raises(ValueError, match="sources must be some of"):
        policies.tampering_pattern(["aws.s3"])
