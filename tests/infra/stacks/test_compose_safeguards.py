"""What compose hands the network ACLs, the security logs and the recovery copies, per stack."""

from __future__ import annotations

from stacks.compose import hosts_previews
from stacks.compose_safeguards import network_acl_ports
from stacks.plan.mocks import Recorded
from stacks.settings import Settings


def test_prod_opens_https_and_the_smtp_relay_and_guardduty_endpoints(
        prod_settings: Settings) -> None:
    assert network_acl_ports(prod_settings, hosts_previews(prod_settings)) == {
        "listener_ports": (443,), "workload_ports": (8000,), "egress_ports": (443, 587),
        "data_ports": (5432, 6379), "managed_endpoint_ports": (443,)}


def test_dev_listens_on_http_too_for_the_previews_it_hosts(dev_settings: Settings) -> None:
    ports = network_acl_ports(dev_settings, hosts_previews(dev_settings))
    assert ports["listener_ports"] == (443, 80)
    assert ports["egress_ports"] == (443,)  # dev mails no alert
    assert ports["managed_endpoint_ports"] == ()  # no GuardDuty in dev by default


def test_the_prod_plan_wires_alert_addresses_and_exports_what_ops_reads(
        prod_plan: Recorded) -> None:
    (subscription,) = prod_plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["endpoint"] == "platform-alerts@example.com"
    assert prod_plan.one("aws:cloudtrail/trail:Trail").inputs["name"] == "shop-prod"
    for output in ("securityAlertTopicArn", "cloudTrailArn", "cloudTrailBucketName",
                   "guardDutyDetectorId", "recoveryRegion", "databaseRecoveryBackupArn",
                   "mediaReplicaBucketName", "mediaReplicaDomainName"):
        assert prod_plan.outputs[output], output


def test_dev_has_no_security_logs_by_default(dev_plan: Recorded) -> None:
    assert dev_plan.of_type("shop:security:SecurityLogs") == []
    assert "cloudTrailArn" not in dev_plan.outputs
