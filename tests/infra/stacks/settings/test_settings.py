"""Stack settings: presets, overrides, secrets, and a message naming key, value and what is
allowed for every wrong one - before any resource exists."""

from __future__ import annotations

import pulumi
import pytest

from stacks import compose
from stacks.plan.mocks import run_under_mocks
from stacks.settings import (
    Secret,
    Settings,
    SettingsError,
    SmtpSettings,
    load,
    load_from_mapping,
    missing_secrets,
)

# The least a dev or prod stack needs beyond its preset (prod routes its alerts somewhere, and
# names who may reach its private cluster API).
CLUSTER_ROLES = {"shop:clusterAdminRoleArn": "arn:aws:iam::123456789012:role/shop-admin",
                 "shop:clusterDeployRoleArn": "arn:aws:iam::123456789012:role/shop-deploy"}
RUNBOOKS = "https://github.com/acme/shop/blob/main/"
BASE = {"aws:region": "us-east-1", "shop:domain": "shop.example.com",
        "shop:hostedZoneId": "Z0123456789ABC", "shop:runbookBaseUrl": RUNBOOKS,
        "shop:slackWebhookUrl": {"secure": "https://hooks.slack.com/services/T/B/base"},
        **CLUSTER_ROLES}
ORIGIN_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a"
# Alert e-mail and the relay it goes through, but for the password.
SMTP = {"shop:alertEmail": "oncall@example.com",
        "shop:alertSmtpSmarthost": "email-smtp.eu-central-1.amazonaws.com:587",
        "shop:alertSmtpFrom": "alerts@shop.example.com", "shop:alertSmtpUsername": "smtp-user"}
SMTP_PASSWORD = {"shop:alertSmtpPassword": {"secure": "seeded-smtp-password"}}


def settings(stack: str = "dev", **overrides: object) -> Settings:
    return load_from_mapping(stack, {**BASE, **{f"shop:{k}": v for k, v in overrides.items()}})


def problems(stack: str, config: dict[str, object]) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_from_mapping(stack, {**BASE, **config})
    return raised.value.problems


def test_dev_preset_is_cheap(dev_settings: Settings) -> None:
    assert dev_settings.environment == "dev"
    assert (dev_settings.network.az_count, dev_settings.network.nat_mode) == (2, "single")
    assert (dev_settings.database.multi_az, dev_settings.database.replica_count) == (False, 0)
    assert dev_settings.cache.node_count == 1
    assert dev_settings.edge.waf_enabled is False
    assert dev_settings.deletion_protection is False
    assert dev_settings.cluster.node_instance_type == "t3.medium"
    assert dev_settings.tags == {"Project": "shop", "Environment": "dev",
                                 "Owner": "platform-team", "CostCenter": "shop-dev"}


def test_prod_preset_is_highly_available(prod_settings: Settings) -> None:
    assert (prod_settings.network.az_count, prod_settings.network.nat_mode) == (3, "perAz")
    assert prod_settings.database.multi_az is True
    assert prod_settings.database.replica_count == 1
    assert prod_settings.cache.node_count == 2
    assert prod_settings.edge.waf_enabled is True
    assert prod_settings.deletion_protection is True
    assert prod_settings.cluster.public_access_cidrs == ()
    assert prod_settings.cluster.name == "shop-prod"
    assert prod_settings.edge.origin_domain == "origin.shop.example.com"
    assert prod_settings.edge.origin_certificate_arn == ""  # issued in the zone


def test_yaml_values_override_the_preset() -> None:
    chosen = settings("dev", azCount=3, natMode="perAz", nodeInstanceType="m7g.large",
                      clusterPublicAccessCidrs=["203.0.113.0/24"], originDomain="lb.example.org",
                      originCertificateArn=ORIGIN_CERTIFICATE)
    assert (chosen.network.az_count, chosen.network.nat_mode) == (3, "perAz")
    assert chosen.cluster.node_instance_type == "m7g.large"
    assert chosen.cluster.public_access_cidrs == ("203.0.113.0/24",)
    assert chosen.edge.origin_domain == "lb.example.org"
    assert chosen.edge.origin_certificate_arn == ORIGIN_CERTIFICATE


def test_values_as_the_pulumi_runtime_gives_them() -> None:
    """The runtime hands every value over as a string, lists JSON-encoded."""
    chosen = settings("prod", azCount="2", dbMultiAz="false",
                      clusterPublicAccessCidrs='["198.51.100.0/24"]')
    assert chosen.network.az_count == 2
    assert chosen.database.multi_az is False
    assert chosen.cluster.public_access_cidrs == ("198.51.100.0/24",)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("azCount", 5, "shop:azCount must be 2 or 3, got 5"),
    ("azCount", "three", "shop:azCount must be 2 or 3, got 'three'"),
    ("natMode", "double", "shop:natMode must be single or perAz, got 'double'"),
    ("vpcCidr", "8.8.0.0/16",
     "shop:vpcCidr must be a private IPv4 network from /16 to /20, like '10.10.0.0/16', "
     "got '8.8.0.0/16'"),
    ("vpcCidr", "10.0.0.0/24", "shop:vpcCidr must be a private IPv4 network from /16 to /20"),
    ("kubernetesVersion", "1.20", "shop:kubernetesVersion must be one of 1.31, 1.32, 1.33, "
                                  "1.34, got '1.20'"),
    ("nodeMaxSize", 0, "shop:nodeMaxSize must be a whole number from 1 to 100, got 0"),
    ("dbMultiAz", "maybe", "shop:dbMultiAz must be true or false, got 'maybe'"),
    ("nodeAutoscaler", "keda",
     "shop:nodeAutoscaler must be clusterAutoscaler or karpenter, got 'keda'"),
    ("podIdentity", "kiam", "shop:podIdentity must be irsa or podIdentity, got 'kiam'"),
    ("dbPasswordRotationDays", 0,
     "shop:dbPasswordRotationDays must be a whole number from 1 to 365, got 0"),
    ("dbBackupRetentionDays", 0, "shop:dbBackupRetentionDays must be a whole number from 1 to "
                                 "35, got 0"),
    ("dbInstanceClass", "m5.large", "shop:dbInstanceClass must be an RDS class like "
                                    "'db.t4g.micro', got 'm5.large'"),
    ("cacheNodeCount", 7, "shop:cacheNodeCount must be a whole number from 1 to 6, got 7"),
    ("logRetentionDays", 10, "shop:logRetentionDays must be one of 1, 3, 5, 7, 14"),
    ("clusterPublicAccessCidrs", ["10.0.0.1/8"], "shop:clusterPublicAccessCidrs must be a list "
                                                 "of IPv4 CIDRs"),
    ("clusterAdminRoleArn", "admin", "shop:clusterAdminRoleArn must be an IAM role ARN"),
    ("domain", "Shop.Example.com", "shop:domain must be a lowercase DNS name"),
    ("originCertificateArn", "arn:aws:iam::123456789012:server-certificate/x",
     "shop:originCertificateArn must be an ACM certificate ARN"),
    ("alertEmail", "nobody", "shop:alertEmail must be an e-mail address, or several separated "
                             "by commas, got 'nobody'"),
    ("alertEmail", "a@example.com;b@example.com", "shop:alertEmail must be an e-mail address"),
    ("runbookBaseUrl", "http://github.com/acme/shop",
     "shop:runbookBaseUrl must be an https:// URL ending in '/' where README.md lives, like "
     "'https://github.com/acme/shop/blob/main/', got 'http://github.com/acme/shop'"),
    ("metricsRetentionDays", 0, "shop:metricsRetentionDays must be a whole number from 1 to 365, "
                                "got 0"),
    ("prometheusVolumeGb", 5, "shop:prometheusVolumeGb must be a whole number from 10 to 16384, "
                              "got 5"),
    ("monitoringReplicas", 4, "shop:monitoringReplicas must be a whole number from 1 to 3, got 4"),
    ("alertSmtpSmarthost", "email-smtp.us-east-1.amazonaws.com",
     "shop:alertSmtpSmarthost must be an SMTP relay's host:port, like "
     "'email-smtp.us-east-1.amazonaws.com:587', got 'email-smtp.us-east-1.amazonaws.com'"),
    ("alertSmtpFrom", "alerts", "shop:alertSmtpFrom must be an e-mail address, got 'alerts'"),
    ("alertSmtpUsername", "two words", "shop:alertSmtpUsername must be the relay's user name, "
                                       "without spaces, got 'two words'"),
    ("alertSmtpPassword", "hunter2", "shop:alertSmtpPassword must be set as a secret (pulumi "
                                     "config set --secret shop:alertSmtpPassword ...), never in "
                                     "clear"),
    ("alertSmtpUsername", {"secure": "AAEAAQ=="},
     "shop:alertSmtpUsername is not a secret setting; set it in clear"),
    ("cdnPriceClass", "PriceClass_1", "shop:cdnPriceClass must be one of PriceClass_100, "
                                      "PriceClass_200, PriceClass_All, got 'PriceClass_1'"),
    ("owner", "", "shop:owner must be a tag value"),
    ("slackWebhookUrl", "https://hooks.slack.com/services/T/B/X",
     "shop:slackWebhookUrl must be set as a secret"),
    ("azCount", {"secure": "AAEAAQ=="}, "shop:azCount is not a secret setting; set it in clear"),
])
def test_each_invalid_setting_names_key_value_and_what_is_allowed(
        key: str, value: object, message: str) -> None:
    found = problems("prod", {f"shop:{key}": value})
    assert len(found) == 1
    assert found[0].startswith(message)


@pytest.mark.parametrize(("stack", "config", "message"), [
    ("dev", {"shop:nodeMinSize": 3, "shop:nodeDesiredSize": 2},
     "shop:nodeMinSize <= shop:nodeDesiredSize <= shop:nodeMaxSize must hold, got 3, 2, 3"),
    ("dev", {"shop:dbAllocatedStorageGb": 100},
     "shop:dbMaxAllocatedStorageGb must be above shop:dbAllocatedStorageGb (100), got 50"),
    ("dev", {"shop:storefrontMinReplicas": 5},
     "shop:storefrontMinReplicas must not exceed shop:storefrontMaxReplicas (3), got 5"),
    ("dev", {"shop:hostedZoneId": ""}, "shop:domain and shop:hostedZoneId must be set together"),
    ("dev", {"shop:domain": "", "shop:hostedZoneId": ""},
     "shop:domain (or shop:originDomain) must be set"),
    ("dev", {"shop:originDomain": "lb.example.org"},
     "shop:originDomain 'lb.example.org' lies outside shop:domain 'shop.example.com', so the "
     "stack can issue neither its certificate nor its DNS record: set "
     "shop:originCertificateArn to an issued ACM certificate for it in us-east-1"),
    ("prod", {"shop:domain": "", "shop:hostedZoneId": "", "shop:originDomain": "lb.example.org"},
     "shop:originDomain 'lb.example.org' lies in no zone of this stack"),
    ("dev", {"shop:originDomain": "lb.example.org", "shop:originCertificateArn":
             "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"},
     "shop:originCertificateArn must be a certificate in aws:region us-east-1, where the load "
     "balancer is, got one in eu-west-1"),
    ("dev", {"shop:originCertificateArn": ORIGIN_CERTIFICATE},
     "shop:originCertificateArn must be empty for an origin inside shop:domain"),
    ("dev", {"shop:originDomain": "shop.example.com"},
     "shop:originDomain must differ from shop:domain ('shop.example.com')"),
    ("prod", {"shop:inClusterData": True}, "shop:inClusterData must be false in prod"),
    ("prod", {"shop:clusterPublicAccessCidrs": ["0.0.0.0/0"]},
     "shop:clusterPublicAccessCidrs must not contain 0.0.0.0/0 in prod"),
    ("preview-42", {}, "shop:baseStack must name the stack whose cluster a preview runs on"),
])
def test_settings_that_contradict_each_other(stack: str, config: dict, message: str) -> None:
    assert any(problem.startswith(message) for problem in problems(stack, config))


def test_an_origin_is_issued_in_the_zone_or_brought_from_outside_it() -> None:
    inside = settings("prod", originDomain="lb.origin.shop.example.com")
    assert (inside.edge.origin_domain, inside.edge.origin_certificate_arn) == (
        "lb.origin.shop.example.com", "")
    elsewhere = settings("prod", domain="", hostedZoneId="", originDomain="lb.example.org",
                         originCertificateArn=ORIGIN_CERTIFICATE)
    assert elsewhere.edge.origin_certificate_arn == ORIGIN_CERTIFICATE


def test_unknown_keys_are_errors_with_a_likely_meant_name() -> None:
    found = problems("dev", {"shop:azcount": 3, "shop:nodesMax": 4, "shop:colour": "blue"})
    assert found == [
        "shop:azcount is not a setting; did you mean shop:azCount?",
        "shop:nodesMax is not a setting; did you mean shop:nodeMaxSize?",
        "shop:colour is not a setting",
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = problems("dev", {"shop:azCount": 9, "shop:natMode": "x", "aws:region": "moon"})
    assert [p.split(" ")[0] for p in found] == ["shop:azCount", "shop:natMode", "aws:region"]


def test_the_region_is_required() -> None:
    with pytest.raises(SettingsError, match="^aws:region must be set, like 'eu-west-1'$"):
        load_from_mapping("dev", {"shop:domain": "shop.example.com",
                                  "shop:hostedZoneId": "Z0123456789ABC"})


def test_other_namespaces_are_left_alone() -> None:
    chosen = load_from_mapping("dev", {**BASE, "aws:region": "eu-west-1", "aws:profile": "x",
                                       "kubernetes:context": "y"})
    assert chosen.region == "eu-west-1"


def test_environment_comes_from_the_setting_or_the_stack_name() -> None:
    assert settings("staging", environment="prod").environment == "prod"
    preview = load_from_mapping("preview-42", {"aws:region": "us-east-1",
                                               "shop:baseStack": "acme/shop/dev"})
    assert (preview.environment, preview.in_cluster_data) == ("preview", True)
    assert preview.preview.base_stack == "acme/shop/dev"
    assert problems("staging", {}) == [
        "shop:environment must be set for stack 'staging': dev, prod or preview"]
    assert problems("dev", {"shop:environment": "qa"}) == [
        "shop:environment must be one of dev, prod, preview, got 'qa'"]


def test_a_secret_setting_stays_secret() -> None:
    chosen = settings("prod", slackWebhookUrl={"secure": "https://hooks.slack.com/T/B/seeded"})
    webhook = chosen.monitoring.slack_webhook_url
    assert webhook == Secret("https://hooks.slack.com/T/B/seeded")
    assert "seeded" not in repr(chosen)
    assert "seeded" not in str(chosen)


def test_settings_are_frozen(dev_settings: Settings) -> None:
    with pytest.raises(AttributeError):
        dev_settings.network.az_count = 3  # type: ignore[misc]


def test_load_reads_the_running_programs_config() -> None:
    """`pulumi up` hands config over as strings, secrets decrypted and listed by key."""
    pulumi.runtime.set_all_config(
        {"shop:environment": "prod", "shop:azCount": "2", "shop:domain": "shop.example.com",
         "shop:hostedZoneId": "Z0123456789ABC", "shop:slackWebhookUrl": "https://hooks/x",
         "shop:runbookBaseUrl": RUNBOOKS, "aws:region": "eu-central-1", **SMTP, **CLUSTER_ROLES,
         "shop:alertSmtpPassword": "runtime-smtp-password"},
        ["shop:slackWebhookUrl", "shop:alertSmtpPassword"])
    loaded: list[Settings] = []
    try:
        run_under_mocks(lambda: loaded.append(load()), stack="prod")
    finally:
        pulumi.runtime.set_all_config({}, [])
    (chosen,) = loaded
    assert (chosen.stack, chosen.environment, chosen.region) == ("prod", "prod", "eu-central-1")
    assert chosen.network.az_count == 2
    assert chosen.monitoring.slack_webhook_url == Secret("https://hooks/x")
    assert chosen.monitoring.smtp == SmtpSettings(
        "email-smtp.eu-central-1.amazonaws.com:587", "alerts@shop.example.com", "smtp-user",
        Secret("runtime-smtp-password"))


@pytest.mark.parametrize("config", [
    {"shop:azCount": 5},
    {"shop:natmode": "single"},
    {"shop:dbMultiAz": "sometimes"},
    {"shop:nodeMinSize": 4, "shop:nodeMaxSize": 3},
])
def test_a_wrong_setting_defines_no_resource(config: dict[str, object]) -> None:
    raised: list[SettingsError] = []

    def program() -> None:
        try:
            compose.build(load_from_mapping("prod", {**BASE, **config}))
        except SettingsError as error:
            raised.append(error)

    recorded = run_under_mocks(program, stack="prod")
    assert len(raised) == 1
    assert recorded.resources == []


# --- monitoring: what alerts link to and where they go -------------------------------------

SMTP_HINT = " (the password as a secret: pulumi config set --secret shop:alertSmtpPassword ...)"


@pytest.mark.parametrize(("stack", "config", "message"), [
    ("dev", {"shop:runbookBaseUrl": ""},
     "shop:runbookBaseUrl must be set: every alert links to its runbook at "
     "<runbookBaseUrl>README.md#<alert>, like 'https://github.com/acme/shop/blob/main/'"),
    ("prod", {"shop:alertEmail": "oncall@example.com"},
     "shop:alertEmail needs the SMTP relay Alertmanager sends through: set "
     "shop:alertSmtpSmarthost, shop:alertSmtpFrom, shop:alertSmtpUsername, "
     f"shop:alertSmtpPassword{SMTP_HINT}"),
    ("prod", SMTP, "shop:alertEmail needs the SMTP relay Alertmanager sends through: set "
                   f"shop:alertSmtpPassword{SMTP_HINT}"),
    ("prod", {**SMTP, **SMTP_PASSWORD, "shop:alertSmtpUsername": ""},
     "shop:alertEmail needs the SMTP relay Alertmanager sends through: set "
     "shop:alertSmtpUsername"),
    ("dev", {"shop:alertSmtpSmarthost": "email-smtp.us-east-1.amazonaws.com:587",
             **SMTP_PASSWORD},
     "shop:alertSmtpSmarthost, shop:alertSmtpPassword set without shop:alertEmail: set it to "
     "the addresses alerts go to, or remove the SMTP settings"),
    ("prod", {"shop:slackWebhookUrl": None},
     "shop:alertEmail or shop:slackWebhookUrl must be set in prod: its alerts must reach "
     "someone, not only Alertmanager's UI"),
])
def test_alerting_settings_that_do_not_go_together_define_no_resource(
        stack: str, config: dict[str, object], message: str) -> None:
    raised: list[SettingsError] = []

    def program() -> None:
        try:
            compose.build(load_from_mapping(stack, {**BASE, **config}))
        except SettingsError as error:
            raised.append(error)

    recorded = run_under_mocks(program, stack=stack)
    assert [error.problems for error in raised] == [[message]]
    assert recorded.resources == []


def test_alert_email_with_its_relay_and_a_secret_password() -> None:
    chosen = load_from_mapping("prod", {**BASE, **SMTP, **SMTP_PASSWORD,
                                        "shop:alertEmail": "a@example.com,b@example.org"})
    assert chosen.monitoring.alert_email == "a@example.com,b@example.org"
    assert chosen.monitoring.smtp == SmtpSettings(
        "email-smtp.eu-central-1.amazonaws.com:587", "alerts@shop.example.com", "smtp-user",
        Secret("seeded-smtp-password"))
    assert "seeded-smtp-password" not in repr(chosen)
    assert settings("prod").monitoring.smtp is None  # Slack only (BASE)


def test_a_preview_needs_no_runbook_link_dev_watches_it() -> None:
    preview = load_from_mapping("preview-42", {"aws:region": "us-east-1",
                                               "shop:baseStack": "acme/shop/dev"})
    assert preview.monitoring.runbook_base_url == ""


def test_stack_files_size_monitoring_per_environment(
        dev_settings: Settings, prod_settings: Settings) -> None:
    dev, prod = dev_settings.monitoring, prod_settings.monitoring
    assert (dev.metrics_retention_days, dev.prometheus_volume_gb, dev.replicas) == (7, 20, 1)
    assert (prod.metrics_retention_days, prod.prometheus_volume_gb, prod.replicas) == (30, 100, 2)
    assert dev.runbook_base_url == prod.runbook_base_url == RUNBOOKS
    # dev routes nothing; prod mails through its relay.
    assert (dev.alert_email, dev.smtp, dev.slack_webhook_url) == ("", None, None)
    assert prod.alert_email == "platform-alerts@example.com"
    assert prod.smtp is not None
    assert prod.smtp.smarthost == "email-smtp.us-east-1.amazonaws.com:587"


def test_only_a_required_secret_is_missing() -> None:
    assert missing_secrets({**SMTP}) == ["shop:alertSmtpPassword"]
    assert missing_secrets({**SMTP, **SMTP_PASSWORD}) == []
    assert missing_secrets({"shop:slackChannel": "#x"}) == []  # the webhook is optional


def test_database_password_rotation_per_environment() -> None:
    assert settings("dev").database.password_rotation_days == 30
    assert settings("prod").database.password_rotation_days == 7
    assert settings("prod", dbPasswordRotationDays=14).database.password_rotation_days == 14


def test_pod_identity_is_one_choice_for_the_stack() -> None:
    assert settings("prod").cluster.identity_mode == "irsa"
    assert settings("dev", podIdentity="podIdentity").cluster.identity_mode == "podIdentity"


def test_prod_scales_nodes_with_karpenter_dev_with_the_cluster_autoscaler() -> None:
    assert settings("prod").cluster.node_autoscaler == "karpenter"
    assert settings("dev").cluster.node_autoscaler == "clusterAutoscaler"
    assert settings("dev", nodeAutoscaler="karpenter").cluster.node_autoscaler == "karpenter"
