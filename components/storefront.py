"""The storefront on Kubernetes: its namespace, configuration and secrets, the IAM role of its
service account, the migration Job, the Deployment and everything around it (Service, ALB
Ingress, autoscaler, disruption budget, network policies, ServiceMonitor).

The migration Job is named after the image digest and awaited by Pulumi; the Deployment
depends on it, so a new image rolls out only after its migrations succeeded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import k8s as kube
from components import secret_store
from components import storefront_identity as identity
from components import storefront_network as network
from components.arg_checks import (
    require_choice,
    require_hostnames,
    require_items,
    require_range,
    require_tags,
)
from components.data_security import generated_password
from components.endpoints import DataEndpoints
from components.irsa import OidcProvider
from components.storefront_pod import (
    APP,
    METRICS_DIR,
    MIGRATE_LABELS,
    PORT_NAME,
    WEB_LABELS,
    WEB_SELECTOR,
    migration_job_name,
    migration_pod_template,
    web_pod_template,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_BASE_URL = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")


@dataclass(frozen=True)
class StorefrontArgs:
    # The pushed image by digest (repo@sha256:...), e.g. StorefrontImage.ref.
    image_ref: pulumi.Input[str]
    data: DataEndpoints
    # The assets bucket, reached through an IAM role for the service account; all three None
    # for a storefront with no AWS access (a preview environment).
    oidc: OidcProvider | None
    assets_bucket_arn: pulumi.Input[str] | None
    assets_bucket_name: pulumi.Input[str] | None
    # Egress to PostgreSQL/Redis is limited to the VPC; ingress to the subnets of the ALB.
    vpc_cidr: pulumi.Input[str]
    load_balancer_cidrs: Sequence[pulumi.Input[str]]
    # The shop's public address (https://shop.example.com, or the CDN's own name).
    public_base_url: pulumi.Input[str]
    region: str
    tags: Mapping[str, str]
    namespace: str = "shop"
    # Extra labels on the namespace, e.g. a preview's expiry.
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    # The only host the Ingress answers; None: any (CloudFront in front chooses).
    host: str | None = None
    asset_base_url: pulumi.Input[str] | None = None
    # An ACM certificate in the cluster's region: the ALB listens on HTTPS only.
    certificate_arn: pulumi.Input[str] | None = None
    # The ALB's own security group (Origin's: CloudFront only); None: the controller makes one
    # open to the internet on the listen port.
    load_balancer_security_group_id: pulumi.Input[str] | None = None
    # The value CloudFront sends in X-Origin-Verify (Cdn.origin_verify_secret): the ALB then
    # forwards only requests carrying it, and answers the rest 403. None: no such check.
    origin_verify_secret: pulumi.Input[str] | None = None
    min_replicas: int = 2
    max_replicas: int = 6
    cpu_target_percent: int = 70
    memory_target_percent: int = 80
    scale_down_window_seconds: int = 300
    # gunicorn sizes its workers from the CPU limit (app/gunicorn_conf.py).
    resources: kube.Resources = kube.Resources("250m", "384Mi", "1", "768Mi")
    migration_resources: kube.Resources = kube.Resources("100m", "256Mi", "500m", "512Mi")
    log_level: str = "INFO"
    # Proxies appending to X-Forwarded-For before the pod: CloudFront, then the ALB. The
    # storefront keys its rate limits on the address they report.
    trusted_proxy_count: int = 2
    # The image's non-root user (see the Dockerfile).
    run_as_user: int = 10001
    monitoring_namespace: str = "monitoring"
    migration_ttl_seconds: int = 86400


def validate(args: StorefrontArgs) -> None:
    require_tags(args.tags)
    kube.require_dns_label("namespace", args.namespace)
    kube.require_dns_label("monitoring_namespace", args.monitoring_namespace)
    require_range("min_replicas", args.min_replicas, 1, 100)
    require_range("max_replicas", args.max_replicas, args.min_replicas, 200)
    require_range("cpu_target_percent", args.cpu_target_percent, 10, 100)
    require_range("memory_target_percent", args.memory_target_percent, 10, 100)
    require_range("scale_down_window_seconds", args.scale_down_window_seconds, 0, 3600)
    require_range("run_as_user", args.run_as_user, 1, 2**31 - 1)
    require_range("migration_ttl_seconds", args.migration_ttl_seconds, 60, 7 * 86400)
    require_range("trusted_proxy_count", args.trusted_proxy_count, 0, 5)
    require_choice("log_level", args.log_level, LOG_LEVELS)
    require_items("load_balancer_cidrs", args.load_balancer_cidrs)
    if len({args.oidc is None, args.assets_bucket_arn is None,
            args.assets_bucket_name is None}) > 1:
        raise ValueError("oidc, assets_bucket_arn and assets_bucket_name must be given together "
                         "(the assets bucket's IAM role) or all be None")
    if args.data.database_password is not None and args.oidc is None:
        raise ValueError("data.database_password (a password in Secrets Manager) needs oidc: "
                         "the pods read it with their own IAM role")
    if args.host is not None:
        require_hostnames("host", [args.host])
    if isinstance(args.public_base_url, str) and not _BASE_URL.fullmatch(args.public_base_url):
        raise ValueError("public_base_url must be an absolute http(s) URL like "
                         f"'https://shop.example.com', got {args.public_base_url!r}")
    args.resources.validate("resources")
    args.migration_resources.validate("migration_resources")


def app_settings(args: StorefrontArgs) -> dict[str, pulumi.Input[str]]:
    """The non-secret environment (app/config.py reads these); credentials go to the Secret."""
    settings: dict[str, pulumi.Input[str]] = {
        "APP_ENV": "production",
        "FLASK_APP": "app",
        "PUBLIC_BASE_URL": args.public_base_url,
        "LOG_LEVEL": args.log_level,
        "TRUSTED_PROXY_COUNT": str(args.trusted_proxy_count),
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
        "PROMETHEUS_MULTIPROC_DIR": METRICS_DIR,
    }
    if args.assets_bucket_name is not None:
        settings["MEDIA_BUCKET"] = args.assets_bucket_name
    if args.asset_base_url is not None:
        settings["ASSET_BASE_URL"] = args.asset_base_url
    if args.data.database_password is not None:
        settings["DATABASE_PASSWORD_FILE"] = secret_store.PASSWORD_FILE
    return settings


class Storefront(pulumi.ComponentResource):
    """Outputs: `namespace`, `service_name`, `alb_hostname` (the CDN's origin), `role_arn`,
    `migration_job`, `deployment_name`."""

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    alb_hostname: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    migration_job: pulumi.Output[str]
    deployment_name: pulumi.Output[str]

    def __init__(self, name: str, args: StorefrontArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:storefront:Storefront", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        namespace = kube.namespace(f"{name}-namespace", args.namespace, {
            # The ALB controller gates pod readiness on target health: a rollout waits until
            # the load balancer really sends traffic to the new pods.
            "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled", **args.namespace_labels},
            self)
        ns = namespace.metadata.name
        config = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=kube.metadata(None, ns, WEB_LABELS),
            data=app_settings(args), immutable=True, opts=child)
        secret = self._secret(name, args, ns)
        password_class = identity.password_class(name, args, ns, self)
        role = identity.web_role(name, args, self)
        account = identity.service_account(f"{name}-service-account", APP, ns, WEB_LABELS, role,
                                           args.oidc, self)
        migrate_account = identity.migrate_account(name, args, ns, self)

        # Pods start only once their network policies exist: a default-deny arriving mid-way
        # through a migration would cut its database connection.
        policies = self._network_policies(name, args, ns)
        job = self._migration_job(name, args, ns, config.metadata.name, secret.metadata.name,
                                  policies, migrate_account, password_class)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=kube.metadata(APP, ns, WEB_LABELS),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # No `replicas`: the HorizontalPodAutoscaler owns the count.
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=WEB_SELECTOR),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_unavailable=0, max_surge="25%")),
                min_ready_seconds=5,
                revision_history_limit=5,
                progress_deadline_seconds=600,
                template=web_pod_template(
                    args.image_ref, config.metadata.name, secret.metadata.name,
                    account.metadata.name, args.resources, args.run_as_user, password_class),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[job]),
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=kube.metadata(APP, ns, WEB_LABELS),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP", selector=WEB_SELECTOR,
                ports=[k8s.core.v1.ServicePortArgs(name=PORT_NAME, port=80,
                                                   target_port=PORT_NAME, protocol="TCP")]),
            opts=child)
        ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=kube.metadata(APP, ns, WEB_LABELS, self._ingress_annotations(args)),
            spec=network.ingress_spec(service.metadata.name, args.host,
                                      verified_origin=args.origin_verify_secret is not None),
            opts=child)
        self._scaling(name, args, ns, deployment)
        self._service_monitor(name, args, ns, service)

        self.namespace = ns
        self.service_name = service.metadata.name
        self.alb_hostname = ingress.status.apply(_load_balancer_hostname)
        self.role_arn = role.arn if role else pulumi.Output.from_input("")
        self.migration_job = job.metadata.name
        self.deployment_name = deployment.metadata.name
        self.register_outputs({
            "namespace": self.namespace, "service_name": self.service_name,
            "alb_hostname": self.alb_hostname, "role_arn": self.role_arn,
            "migration_job": self.migration_job, "deployment_name": self.deployment_name,
        })

    @staticmethod
    def _ingress_annotations(args: StorefrontArgs) -> dict[str, pulumi.Input[str]]:
        annotations = network.ingress_annotations(
            args.certificate_arn, args.tags, args.load_balancer_security_group_id)
        if args.origin_verify_secret is not None:
            # Keyed by the Service's name (APP), as the controller matches it to the rule.
            annotations.update(network.origin_verify_annotations(APP, args.origin_verify_secret))
        return annotations

    def _s3_cidrs(self, args: StorefrontArgs) -> pulumi.Output[list[str]] | None:
        """S3's addresses in the region, for pods with AWS access (the assets bucket)."""
        if args.oidc is None:
            return None
        s3 = aws.ec2.get_prefix_list_output(name=f"com.amazonaws.{args.region}.s3",
                                            region=args.region,
                                            opts=pulumi.InvokeOutputOptions(parent=self))
        return s3.cidr_blocks

    def _secret(self, name: str, args: StorefrontArgs, ns: pulumi.Output[str]
                ) -> k8s.core.v1.Secret:
        secret_key = generated_password(name, "secret-key", 64, self)
        jwt_key = generated_password(name, "jwt-secret-key", 64, self)
        values: dict[str, pulumi.Input[str]] = {
            "DATABASE_URL": args.data.database_url,
            "REDIS_URL": args.data.redis_url,
            "SECRET_KEY": secret_key.result,
            "JWT_SECRET_KEY": jwt_key.result,
        }
        if args.data.database_replica_url is not None:
            values["DATABASE_REPLICA_URL"] = args.data.database_replica_url
        return k8s.core.v1.Secret(
            f"{name}-secrets", metadata=kube.metadata(None, ns, WEB_LABELS), type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in values.items()},
            immutable=True, opts=pulumi.ResourceOptions(parent=self))

    def _migration_job(self, name: str, args: StorefrontArgs, ns: pulumi.Output[str],
                       config: pulumi.Output[str], secret: pulumi.Output[str],
                       policies: list[k8s.networking.v1.NetworkPolicy],
                       account: pulumi.Output[str] | None,
                       password_class: pulumi.Output[str] | None) -> k8s.batch.v1.Job:
        return k8s.batch.v1.Job(
            f"{name}-migrate",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=pulumi.Output.from_input(args.image_ref).apply(migration_job_name),
                namespace=ns, labels=MIGRATE_LABELS,
                # Pulumi waits for the Job to complete; a failed migration fails the update
                # before the Deployment is touched.
                annotations={"pulumi.com/skipAwait": "false"}),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=2,
                active_deadline_seconds=900,
                ttl_seconds_after_finished=args.migration_ttl_seconds,
                template=migration_pod_template(args.image_ref, config, secret,
                                                args.migration_resources, args.run_as_user,
                                                account, password_class)),
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True, depends_on=policies,
                custom_timeouts=pulumi.CustomTimeouts(create="15m", update="15m")),
        )

    def _scaling(self, name: str, args: StorefrontArgs, ns: pulumi.Output[str],
                 deployment: k8s.apps.v1.Deployment) -> None:
        v2 = k8s.autoscaling.v2

        def utilisation(resource: str, percent: int) -> k8s.autoscaling.v2.MetricSpecArgs:
            return v2.MetricSpecArgs(type="Resource", resource=v2.ResourceMetricSourceArgs(
                name=resource, target=v2.MetricTargetArgs(
                    type="Utilization", average_utilization=percent)))

        v2.HorizontalPodAutoscaler(
            f"{name}-autoscaler",
            metadata=kube.metadata(APP, ns, WEB_LABELS),
            spec=v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name),
                min_replicas=args.min_replicas,
                max_replicas=args.max_replicas,
                metrics=[utilisation("cpu", args.cpu_target_percent),
                         utilisation("memory", args.memory_target_percent)],
                behavior=v2.HorizontalPodAutoscalerBehaviorArgs(
                    # Up quickly on a spike; down slowly, half at most per minute, once the
                    # load stayed low for the whole window.
                    scale_up=v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=0, select_policy="Max", policies=[
                            v2.HPAScalingPolicyArgs(type="Percent", value=100, period_seconds=60),
                            v2.HPAScalingPolicyArgs(type="Pods", value=4, period_seconds=60)]),
                    scale_down=v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=args.scale_down_window_seconds,
                        select_policy="Min", policies=[
                            v2.HPAScalingPolicyArgs(type="Percent", value=50, period_seconds=60)]),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self))
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=kube.metadata(APP, ns, WEB_LABELS),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=WEB_SELECTOR),
                # A crash-looping pod must never block a node drain.
                unhealthy_pod_eviction_policy="AlwaysAllow"),
            opts=pulumi.ResourceOptions(parent=self))

    def _network_policies(self, name: str, args: StorefrontArgs, ns: pulumi.Output[str]
                          ) -> list[k8s.networking.v1.NetworkPolicy]:
        allowed = [k8s.networking.v1.NetworkPolicy(
            f"{name}-{role}",
            metadata=kube.metadata(f"{APP}-{role}", ns, WEB_LABELS),
            spec=spec, opts=pulumi.ResourceOptions(parent=self))
            for role, spec in (
                ("web-ingress", network.web_ingress_policy(args.load_balancer_cidrs,
                                                           args.monitoring_namespace)),
                ("egress", network.egress_policy(args.vpc_cidr, args.data.namespace,
                                                 self._s3_cidrs(args))))]
        return [kube.default_deny(f"{name}-default-deny", ns, self), *allowed]

    def _service_monitor(self, name: str, args: StorefrontArgs, ns: pulumi.Output[str],
                         service: k8s.core.v1.Service) -> None:
        # Prometheus names the job after the Service: job="storefront", as the alerts expect.
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=kube.metadata(APP, ns, WEB_LABELS),
            spec={
                "selector": {"matchLabels": WEB_SELECTOR},
                "namespaceSelector": {"matchNames": [args.namespace]},
                "endpoints": [{"port": PORT_NAME, "path": "/metrics", "interval": "30s",
                               "scrapeTimeout": "10s"}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]))


def _load_balancer_hostname(status: k8s.networking.v1.outputs.IngressStatus | None) -> str:
    """The ALB's DNS name once the controller reported it (empty during a preview)."""
    balancer = status.load_balancer if status else None
    entries = (balancer.ingress if balancer else None) or []
    return next((entry.hostname for entry in entries if entry.hostname), "")
