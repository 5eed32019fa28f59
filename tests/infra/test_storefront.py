"""The storefront workload under the mock engine: the exact Kubernetes objects and IAM role
it asks for, the order they roll out in, and that no credential shows in clear."""

from __future__ import annotations

import dataclasses
import json
import re

import pulumi
import pytest

from components.endpoints import DataEndpoints
from components.irsa import OidcProvider
from components.k8s import Resources
from components.storefront import Storefront, StorefrontArgs, app_settings
from components.storefront_network import origin_condition
from components.storefront_pod import migration_job_name
from stacks.plan.mocks import ACCOUNT_ID, SECRET
from stacks.policy import Context, check
from tests.infra.component_support import (
    PROD_TAGS,
    all_inputs,
    assert_no_secret_values,
    assert_refused,
    assert_well_formed,
    run_component,
)

TOKEN = "shop:storefront:Storefront"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DIGEST = "0123456789abcdef" * 4
IMAGE = f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/shop-prod/storefront@sha256:{DIGEST}"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER}"
BUCKET_ARN = "arn:aws:s3:::shop-prod-assets"
KNOWN_SECRETS = ("KNOWN-DB-PASSWORD", "KNOWN-REDIS-PASSWORD", "KNOWN-REPLICA-PASSWORD",
                 "known-origin-secret")
WEB = {"app.kubernetes.io/name": "storefront", "app.kubernetes.io/component": "web"}
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"
ALB_SG = "sg-0cloudfront000000"
OUTPUTS = ("namespace", "service_name", "alb_hostname", "role_arn", "migration_job",
           "deployment_name")


def managed_endpoints() -> DataEndpoints:
    """What the RDS/ElastiCache path hands over, with passwords the tests can grep for."""
    return DataEndpoints(
        database_url=pulumi.Output.from_input(
            "postgresql://shop:KNOWN-DB-PASSWORD@db.example.internal:5432/shop?sslmode=require"),
        redis_url=pulumi.Output.from_input(
            "rediss://:KNOWN-REDIS-PASSWORD@cache.example.internal:6379/0"),
        database_replica_url=pulumi.Output.from_input(
            "postgresql://shop:KNOWN-REPLICA-PASSWORD@replica.example.internal:5432/shop"),
    )


def storefront_args(**overrides) -> StorefrontArgs:
    args = StorefrontArgs(
        image_ref=IMAGE, data=managed_endpoints(),
        oidc=OidcProvider(arn=OIDC_ARN, issuer_url=f"https://{ISSUER}"),
        assets_bucket_arn=BUCKET_ARN, assets_bucket_name="shop-prod-assets",
        vpc_cidr="10.20.0.0/16", load_balancer_cidrs=["10.20.0.0/22", "10.20.4.0/22"],
        public_base_url="https://shop.example.com", region="eu-west-1", tags=PROD_TAGS,
        asset_base_url="https://cdn.example.com", certificate_arn=CERT,
        load_balancer_security_group_id=ALB_SG, min_replicas=3, max_replicas=12,
        origin_verify_secret=pulumi.Output.secret("known-origin-secret"))
    return dataclasses.replace(args, **overrides)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Storefront("storefront", storefront_args()), *OUTPUTS)


def spec(recorded, token, name):
    return recorded.one(token, name).inputs["spec"]


def pod(recorded, token=DEPLOYMENT, name="storefront-deployment"):
    return spec(recorded, token, name)["template"]["spec"]


def test_component_shape(prod):
    assert_well_formed(prod, TOKEN, PROD_TAGS)
    assert prod.outputs["namespace"] == "shop"
    assert prod.outputs["service_name"] == "storefront"
    assert prod.outputs["deployment_name"] == "storefront"
    # The hostname the load balancer controller reports back: the CDN's origin.
    assert re.fullmatch(r"k8s-[\w.-]+\.elb\.amazonaws\.com", prod.outputs["alb_hostname"])


def test_meets_the_platform_policies(prod):
    registry = IMAGE.split("/", 1)[0]
    assert check(prod.resources, Context(environment="prod", registry_host=registry)) == []


def test_no_credential_in_clear_anywhere(prod):
    text = all_inputs(prod) + json.dumps(prod.outputs)
    for secret in KNOWN_SECRETS:
        assert secret not in text
    assert_no_secret_values(prod)
    secret = prod.one("kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == SECRET
    config = prod.one("kubernetes:core/v1:ConfigMap").inputs["data"]
    assert not {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "JWT_SECRET_KEY"} & set(config)


def test_config_map_holds_the_non_secret_settings(prod):
    assert prod.one("kubernetes:core/v1:ConfigMap").inputs["data"] == {
        "APP_ENV": "production", "FLASK_APP": "app",
        "PUBLIC_BASE_URL": "https://shop.example.com", "ASSET_BASE_URL": "https://cdn.example.com",
        "LOG_LEVEL": "INFO", "TRUSTED_PROXY_COUNT": "2", "MEDIA_BUCKET": "shop-prod-assets",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "PROMETHEUS_MULTIPROC_DIR": "/var/run/prometheus",
    }
    assert "ASSET_BASE_URL" not in app_settings(storefront_args(asset_base_url=None))


def test_secret_keys_come_from_generated_passwords(prod):
    passwords = {r.name: r.inputs
                 for r in prod.of_type("random:index/randomPassword:RandomPassword")}
    assert set(passwords) == {"storefront-secret-key", "storefront-jwt-secret-key"}
    assert all(p["length"] == 64 and p["special"] is False for p in passwords.values())
    dependencies = prod.one("kubernetes:core/v1:Secret").options.dependencies
    assert all(any(d.endswith(f"::{name}") for d in dependencies) for name in passwords)


@pytest.mark.parametrize("name", ["storefront-deployment", "storefront-migrate"])
def test_pods_are_hardened(prod, name):
    token = DEPLOYMENT if name.endswith("deployment") else JOB
    spec_ = pod(prod, token, name)
    assert spec_["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
        "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec_["automountServiceAccountToken"] is False
    container, = spec_["containers"]
    assert container["securityContext"] == {
        "runAsNonRoot": True, "allowPrivilegeEscalation": False, "privileged": False,
        "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}
    # The read-only root needs writable scratch space: /tmp and the metrics directory.
    assert container["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "prometheus-multiproc", "mountPath": "/var/run/prometheus"}]
    assert spec_["volumes"] == [
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        {"name": "prometheus-multiproc", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}]
    assert container["image"] == IMAGE


def test_web_container_probes_port_and_resources(prod):
    container, = pod(prod)["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    http = {"port": "http"}
    assert container["readinessProbe"] == {"httpGet": {"path": "/readyz?optional=redis", **http},
                                           "periodSeconds": 5, "failureThreshold": 3,
                                           "timeoutSeconds": 3}
    assert container["livenessProbe"] == {"httpGet": {"path": "/healthz", **http},
                                          "periodSeconds": 10, "failureThreshold": 3,
                                          "timeoutSeconds": 2}
    assert container["startupProbe"] == {"httpGet": {"path": "/healthz", **http},
                                         "periodSeconds": 5, "failureThreshold": 24,
                                         "timeoutSeconds": 2}
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "384Mi"},
                                      "limits": {"cpu": "1", "memory": "768Mi"}}
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 15}}}
    assert pod(prod)["terminationGracePeriodSeconds"] == 45


def test_both_pods_read_the_same_config_and_secret(prod):
    web, = pod(prod)["containers"]
    job, = pod(prod, JOB, "storefront-migrate")["containers"]
    assert web["envFrom"] == job["envFrom"]
    config_ref, secret_ref = web["envFrom"]
    assert config_ref["configMapRef"]["name"].startswith("storefront-config-")
    assert secret_ref["secretRef"]["name"].startswith("storefront-secrets-")


def test_rolling_update_keeps_full_capacity_and_leaves_replicas_to_the_autoscaler(prod):
    deployment = spec(prod, DEPLOYMENT, "storefront-deployment")
    assert deployment["strategy"] == {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
    assert "replicas" not in deployment
    assert deployment["selector"] == {"matchLabels": WEB}
    assert pod(prod)["serviceAccountName"] == "storefront"


def test_pods_spread_across_zones(prod):
    zone, host = pod(prod)["topologySpreadConstraints"]
    assert zone == {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": WEB},
                    "matchLabelKeys": ["pod-template-hash"]}
    assert host["topologyKey"] == "kubernetes.io/hostname"
    assert host["whenUnsatisfiable"] == "ScheduleAnyway"


def test_migration_job_runs_before_the_deployment_rolls(prod):
    job = prod.one(JOB)
    assert job.inputs["metadata"]["name"] == f"storefront-migrate-{DIGEST[:12]}"
    assert job.inputs["metadata"]["annotations"] == {"pulumi.com/skipAwait": "false"}
    assert job.options.delete_before_replace is True
    job_spec = job.inputs["spec"]
    assert (job_spec["backoffLimit"], job_spec["ttlSecondsAfterFinished"]) == (2, 86400)
    assert job_spec["template"]["spec"]["restartPolicy"] == "Never"
    container, = job_spec["template"]["spec"]["containers"]
    assert container["command"] == ["flask", "db", "upgrade"]
    assert "serviceAccountName" not in job_spec["template"]["spec"]
    assert job.urn in prod.one(DEPLOYMENT).options.dependencies
    # Its pods start under their network policies, never before them.
    assert {p.urn for p in prod.of_type(POLICY)} <= set(job.options.dependencies)
    assert prod.outputs["migration_job"] == f"storefront-migrate-{DIGEST[:12]}"


def test_migration_job_name_follows_the_digest():
    assert migration_job_name(f"repo@sha256:{'f' * 64}") == "storefront-migrate-ffffffffffff"
    with pytest.raises(ValueError, match="digest"):
        migration_job_name("repo:v1.2.3")


def test_autoscaler_bounds_targets_and_scale_down_window(prod):
    hpa = spec(prod, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "storefront-autoscaler")
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "storefront"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert hpa["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 70}}},
        {"type": "Resource", "resource": {"name": "memory", "target": {
            "type": "Utilization", "averageUtilization": 80}}}]
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert hpa["behavior"]["scaleDown"]["policies"] == [
        {"type": "Percent", "value": 50, "periodSeconds": 60}]
    assert hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0


def test_disruption_budget(prod):
    assert spec(prod, "kubernetes:policy/v1:PodDisruptionBudget",
                "storefront-disruption-budget") == {
        "maxUnavailable": 1, "selector": {"matchLabels": WEB},
        "unhealthyPodEvictionPolicy": "AlwaysAllow"}


def test_service_and_service_monitor(prod):
    service = prod.one("kubernetes:core/v1:Service").inputs
    assert service["metadata"]["name"] == "storefront"  # Prometheus' job="storefront"
    assert service["spec"] == {"type": "ClusterIP", "selector": WEB, "ports": [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
    monitor = prod.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"] == {
        "selector": {"matchLabels": WEB}, "namespaceSelector": {"matchNames": ["shop"]},
        "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s",
                       "scrapeTimeout": "10s"}]}
    assert set(WEB.items()) <= set(service["metadata"]["labels"].items())


def test_ingress_is_an_internet_facing_https_alb_behind_its_own_security_group(prod):
    ingress = prod.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    notes = ingress["metadata"]["annotations"]
    assert {key.removeprefix("alb.ingress.kubernetes.io/"): value for key, value in notes.items()
            if not key.endswith(("tags", "attributes", "deny-metrics", "forbidden",
                                 "conditions.storefront"))} == {
        "scheme": "internet-facing", "target-type": "ip",
        "healthcheck-path": "/readyz?optional=redis",
        "success-codes": "200", "listen-ports": '[{"HTTPS": 443}]',
        "certificate-arn": CERT, "ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        # No controller-made group open to the internet; the pods still admit the ALB.
        "security-groups": ALB_SG, "manage-backend-security-group-rules": "true"}
    assert notes["alb.ingress.kubernetes.io/tags"] == (
        "CostCenter=shop,Environment=prod,Owner=platform-team,Project=shop")
    assert ingress["spec"]["ingressClassName"] == "alb"
    metrics, root = ingress["spec"]["rules"][0]["http"]["paths"]
    assert metrics["path"] == "/metrics"
    assert metrics["backend"]["service"] == {"name": "deny-metrics",
                                             "port": {"name": "use-annotation"}}
    assert json.loads(notes["alb.ingress.kubernetes.io/actions.deny-metrics"])[
        "fixedResponseConfig"]["statusCode"] == "404"
    assert root == {"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": "storefront", "port": {"name": "http"}}}}


def test_alb_forwards_only_requests_carrying_cloudfronts_secret_header(prod):
    ingress = prod.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    notes = ingress["metadata"]["annotations"]
    # Keyed by the backend service of the "/" rule, as the controller matches them.
    root_service = ingress["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]["name"]
    assert notes[f"alb.ingress.kubernetes.io/conditions.{root_service}"] == SECRET
    assert json.loads(origin_condition("s3cr3t")) == [{
        "field": "http-header",
        "httpHeaderConfig": {"httpHeaderName": "X-Origin-Verify", "values": ["s3cr3t"]}}]
    # Everything no rule matches (a request without the header) gets the listener's 403.
    assert ingress["spec"]["defaultBackend"] == {
        "service": {"name": "forbidden", "port": {"name": "use-annotation"}}}
    assert json.loads(notes["alb.ingress.kubernetes.io/actions.forbidden"]) == {
        "type": "fixed-response", "fixedResponseConfig": {
            "contentType": "text/plain", "statusCode": "403", "messageBody": "Forbidden"}}


def test_without_an_origin_secret_the_alb_checks_no_header():
    recorded = run_component(lambda: Storefront("storefront", storefront_args(
        origin_verify_secret=None)))
    ingress = recorded.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    assert not [key for key in ingress["metadata"]["annotations"]
                if "conditions." in key or key.endswith("forbidden")]
    assert "defaultBackend" not in ingress["spec"]


def test_ingress_without_certificate_serves_http_only():
    recorded = run_component(lambda: Storefront("storefront", storefront_args(
        certificate_arn=None, load_balancer_security_group_id=None)))
    notes = recorded.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["metadata"][
        "annotations"]
    assert notes["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTP": 80}]'
    assert not {"certificate-arn", "ssl-policy", "security-groups",
                "manage-backend-security-group-rules"} & {k.rsplit("/", 1)[1] for k in notes}


def test_network_policies_are_exact(prod):
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.of_type(POLICY)}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    http = [{"port": 8000, "protocol": "TCP"}]
    assert policies["storefront-web-ingress"] == {
        "podSelector": {"matchLabels": WEB}, "policyTypes": ["Ingress"], "ingress": [
            {"from": [{"ipBlock": {"cidr": "10.20.0.0/22"}}, {"ipBlock": {"cidr": "10.20.4.0/22"}}],
             "ports": http},
            {"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
             "ports": http}]}
    assert policies["storefront-egress"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "storefront"}},
        "policyTypes": ["Egress"], "egress": [
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
            {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
             "ports": [{"port": 5432, "protocol": "TCP"}, {"port": 6379, "protocol": "TCP"}]},
            # HTTPS to the VPC's interface endpoints and S3's addresses (eu-west-1's S3
            # prefix list, as the mocks answer it): never the internet at large.
            {"to": [{"ipBlock": {"cidr": cidr}} for cidr in (
                "10.20.0.0/16", "3.5.64.0/21", "52.218.0.0/17", "52.92.0.0/17")],
             "ports": [{"port": 443, "protocol": "TCP"}]}]}


def test_without_aws_access_the_pods_get_no_https_egress():
    recorded = run_component(lambda: Storefront("storefront", storefront_args(
        oidc=None, assets_bucket_arn=None, assets_bucket_name=None)))
    egress = next(r.inputs["spec"]["egress"] for r in recorded.of_type(POLICY)
                  if r.inputs["metadata"]["name"] == "storefront-egress")
    assert [rule["ports"][0]["port"] for rule in egress] == [53, 5432]


def test_service_account_role_may_only_use_the_assets_bucket(prod):
    account = prod.one("kubernetes:core/v1:ServiceAccount").inputs
    role = prod.one("aws:iam/role:Role")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        prod.outputs["role_arn"])
    assert prod.outputs["role_arn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Federated": OIDC_ARN},
                      "Action": "sts:AssumeRoleWithWebIdentity",
                      "Condition": {"StringEquals": {
                          f"{ISSUER}:sub": "system:serviceaccount:shop:storefront",
                          f"{ISSUER}:aud": "sts.amazonaws.com"}}}]
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"] == [
        {"Sid": "ListAssets", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [BUCKET_ARN]},
        {"Sid": "ReadWriteAssets", "Effect": "Allow",
         "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
         "Resource": [f"{BUCKET_ARN}/*"]}]
    assert prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []


def test_namespace_enforces_restricted_pods_and_alb_readiness_gates(prod):
    labels = prod.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    assert all(r.inputs["metadata"]["namespace"] == "shop" for r in prod.resources
               if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"min_replicas": 4, "max_replicas": 3}, "max_replicas"),
    ({"min_replicas": 0}, "min_replicas"),
    ({"namespace": "Shop_Prod"}, "namespace"),
    ({"log_level": "LOUD"}, "log_level"),
    ({"public_base_url": "shop.example.com"}, "public_base_url"),
    ({"cpu_target_percent": 5}, "cpu_target_percent"),
    ({"trusted_proxy_count": -1}, "trusted_proxy_count"),
    ({"load_balancer_cidrs": []}, "load_balancer_cidrs"),
    ({"resources": Resources("2", "1Gi", "1", "2Gi")}, "resources.cpu_request"),
    ({"resources": Resources("1", "1Gb", "1", "2Gi")}, "resources.memory_request"),
    ({"tags": {"Project": "shop"}}, "tags"),
])
def test_refuses_bad_arguments_before_any_resource(overrides, field):
    message = assert_refused(lambda: Storefront("storefront", storefront_args(**overrides)),
                             re.escape(field))
    assert field in message
