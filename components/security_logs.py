"""The account's security logs: a multi-region CloudTrail trail into a locked bucket, GuardDuty
with EKS protection, and their alerts.

- The trail records every region's management events, validates its log files (digest
  files), encrypts them with the stack's security key and writes them to a bucket that only
  CloudTrail may write: versioned, all public access blocked, TLS only, to Glacier after 30
  days and expired after the retention. A protected stack also locks the bucket: Object Lock
  (governance mode, the retention) and a policy that denies every deletion.
- GuardDuty watches the stack's region, the EKS audit logs and, through the agent GuardDuty
  manages as an EKS add-on, the nodes' runtime.
- Findings of medium severity and above, and any call that stops or narrows the trail or the
  detector, go by EventBridge to an encrypted SNS topic that e-mails the alert addresses
  (shop:alertEmail) and, with shop:slackWebhookUrl, to Slack through an API destination:
  the same people the Alertmanager pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import security_policies as policies
from components.arg_checks import require_pattern, require_range, require_tags, with_name
from components.buckets import private_bucket
from components.policies_json import service_assume_role_policy

GLACIER_AFTER_DAYS = 30
GUARDDUTY_FEATURES = {
    "EKS_AUDIT_LOGS": (),
    # GuardDuty installs and updates its security agent as an EKS add-on.
    "RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT",),
}
_TRAIL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,127}")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[a-z]{2,}")
# What a rule's Slack message is made of: (input paths, input template) of its target.
SlackMessage = tuple[Mapping[str, str], str]


@dataclass(frozen=True)
class SecurityLogsArgs:
    trail_name: str  # "shop-prod"; also names the bucket's objects' prefix in the trail ARN
    region: str
    tags: Mapping[str, str]
    cloudtrail: bool = True
    guardduty: bool = True
    retention_days: int = 365
    # Object Lock and the deny-delete policy; off lets `pulumi destroy` empty the bucket.
    protect: bool = True
    alert_emails: Sequence[str] = ()
    slack_webhook_url: pulumi.Input[str] | None = None  # a secret
    min_severity: float = policies.MEDIUM_SEVERITY


def validate(args: SecurityLogsArgs) -> None:
    require_tags(args.tags)
    require_pattern("trail_name", args.trail_name, _TRAIL_NAME,
                    "3-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    require_pattern("region", args.region, _REGION, "an AWS region like 'us-east-1'")
    require_range("retention_days", args.retention_days, 90, 3650)
    for address in args.alert_emails:
        require_pattern("alert_emails", address, _EMAIL, "e-mail addresses")
    if not (args.cloudtrail or args.guardduty):
        raise ValueError("cloudtrail or guardduty must be on: with neither there is nothing "
                         "to log")
    policies.guardduty_findings_pattern(args.min_severity)  # refuses a severity out of range


class SecurityLogs(pulumi.ComponentResource):
    trail_arn: pulumi.Output[str] | None
    log_bucket_name: pulumi.Output[str] | None
    detector_id: pulumi.Output[str] | None
    alert_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecurityLogsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:security:SecurityLogs", name, None, opts)
        self._name, self._args = name, args
        account_id = aws.get_caller_identity().account_id
        trail = policies.trail_arn(args.region, account_id, args.trail_name)
        key = aws.kms.Key(
            f"{name}-key", description="Encrypts the CloudTrail log files and security alerts",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=policies.security_key_policy(account_id, trail),
            tags=with_name(args.tags, f"{name}-key"), opts=self._child())

        self.trail_arn = self.log_bucket_name = self.detector_id = None
        if args.cloudtrail:
            self.log_bucket_name, self.trail_arn = self._trail(key, account_id, trail)
        if args.guardduty:
            self.detector_id = self._guardduty()
        self.alert_topic_arn = self._alerts(key, account_id)
        self.register_outputs({"trail_arn": self.trail_arn,
                               "log_bucket_name": self.log_bucket_name,
                               "detector_id": self.detector_id,
                               "alert_topic_arn": self.alert_topic_arn})

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _trail(self, key: aws.kms.Key, account_id: str, trail: str,
               ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        name, args = self._name, self._args
        logs = private_bucket(
            f"{name}-trail", parent=self, tags=args.tags, force_destroy=not args.protect,
            object_ownership="BucketOwnerEnforced", versioned=True,
            expire_after_days=args.retention_days, glacier_after_days=GLACIER_AFTER_DAYS,
            object_lock=args.protect)
        companions = list(logs.companions)
        if args.protect:
            companions.append(aws.s3.BucketObjectLockConfiguration(
                f"{name}-trail-lock", bucket=logs.bucket.id,
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode="GOVERNANCE", days=args.retention_days)),
                opts=self._child(depends_on=logs.companions)))
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-trail-policy", bucket=logs.bucket.id,
            policy=logs.bucket.arn.apply(lambda arn: policies.cloudtrail_bucket_policy(
                arn, trail, account_id, deny_deletes=args.protect)),
            opts=self._child(depends_on=companions))
        created = aws.cloudtrail.Trail(
            f"{name}-trail", name=args.trail_name, s3_bucket_name=logs.bucket.id,
            is_multi_region_trail=True, include_global_service_events=True,
            enable_log_file_validation=True, enable_logging=True, kms_key_id=key.arn,
            tags=with_name(args.tags, f"{name}-trail"),
            # CloudTrail checks it may write before it accepts the bucket.
            opts=self._child(depends_on=[bucket_policy]))
        return logs.bucket.bucket, created.arn

    def _guardduty(self) -> pulumi.Output[str]:
        name, args = self._name, self._args
        detector = aws.guardduty.Detector(
            f"{name}-guardduty", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
            tags=with_name(args.tags, f"{name}-guardduty"), opts=self._child())
        for feature, extras in GUARDDUTY_FEATURES.items():
            aws.guardduty.DetectorFeature(
                f"{name}-guardduty-{feature.lower().replace('_', '-')}",
                detector_id=detector.id, name=feature, status="ENABLED",
                additional_configurations=[
                    aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                        name=extra, status="ENABLED") for extra in extras] or None,
                opts=self._child())
        return detector.id

    def _alerts(self, key: aws.kms.Key, account_id: str) -> pulumi.Output[str]:
        name, args = self._name, self._args
        topic = aws.sns.Topic(
            f"{name}-alerts", kms_master_key_id=key.arn,
            tags=with_name(args.tags, f"{name}-alerts"), opts=self._child())
        rules = self._rules()
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy", arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, *[rule.arn for rule, _ in rules.values()]).apply(
                lambda arns: policies.alert_topic_policy(arns[0], account_id, arns[1:])),
            opts=self._child())
        for role, (rule, _) in rules.items():
            aws.cloudwatch.EventTarget(f"{name}-{role}-to-topic", rule=rule.name,
                                       arn=topic.arn, opts=self._child())
        for address in args.alert_emails:
            aws.sns.TopicSubscription(
                f"{name}-alerts-{_slug(address)}", topic=topic.arn, protocol="email",
                endpoint=address, opts=self._child())
        if args.slack_webhook_url is not None:
            self._slack(rules)
        return topic.arn

    def _rules(self) -> dict[str, tuple[aws.cloudwatch.EventRule, SlackMessage]]:
        """Each rule with the Slack message it becomes: {role: (rule, (paths, template))}."""
        name, args = self._name, self._args
        wanted: dict[str, tuple[str, str, SlackMessage]] = {}
        if args.guardduty:
            wanted["findings"] = ("GuardDuty findings of medium severity and above",
                                  policies.guardduty_findings_pattern(args.min_severity),
                                  (policies.SLACK_FINDING_PATHS, policies.SLACK_FINDING_TEMPLATE))
        if args.cloudtrail:  # API calls reach EventBridge only while a trail records them
            sources = ["aws.cloudtrail", *(["aws.guardduty"] if args.guardduty else [])]
            wanted["tampering"] = ("Calls that stop or narrow the security logs",
                                   policies.tampering_pattern(sources),
                                   (policies.SLACK_TAMPERING_PATHS,
                                    policies.SLACK_TAMPERING_TEMPLATE))
        return {role: (aws.cloudwatch.EventRule(
            f"{name}-{role}", description=description, event_pattern=pattern,
            tags=with_name(args.tags, f"{name}-{role}"), opts=self._child()), slack)
            for role, (description, pattern, slack) in wanted.items()}

    def _slack(self, rules: Mapping[str, tuple[aws.cloudwatch.EventRule, SlackMessage]],
               ) -> None:
        """Slack's incoming webhooks take a POST with a JSON `text`; EventBridge needs a
        connection with some authorization, so it sends a harmless header the webhook
        ignores: the webhook URL is the secret."""
        name, args = self._name, self._args
        connection = aws.cloudwatch.EventConnection(
            f"{name}-slack", authorization_type="API_KEY",
            description="Slack incoming webhook (the URL is the credential)",
            auth_parameters=aws.cloudwatch.EventConnectionAuthParametersArgs(
                api_key=aws.cloudwatch.EventConnectionAuthParametersApiKeyArgs(
                    key="X-Shop-Alert-Source", value="eventbridge")),
            opts=self._child())
        destination = aws.cloudwatch.EventApiDestination(
            f"{name}-slack", connection_arn=connection.arn, http_method="POST",
            invocation_endpoint=pulumi.Output.secret(args.slack_webhook_url),
            invocation_rate_limit_per_second=1, opts=self._child())
        role = aws.iam.Role(
            f"{name}-slack", description="Lets EventBridge post security alerts to Slack",
            assume_role_policy=service_assume_role_policy("events.amazonaws.com"),
            tags=with_name(args.tags, f"{name}-slack"), opts=self._child())
        aws.iam.RolePolicy(f"{name}-slack", role=role.id,
                           policy=destination.arn.apply(policies.api_destination_policy),
                           opts=self._child())
        for rule_role, (rule, (paths, template)) in rules.items():
            aws.cloudwatch.EventTarget(
                f"{name}-{rule_role}-to-slack", rule=rule.name, arn=destination.arn,
                role_arn=role.arn, input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths=paths, input_template=template),
                opts=self._child())




def _slug(address: str) -> str:
    """A stable resource-name suffix for an e-mail address."""
    return re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")
