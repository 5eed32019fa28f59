"""How a platform stack is put together from its components:

    network -> cluster -> database + cache -> registry -> edge (certificate, WAF) -> cdn -> dns
            -> origin (the ALB's certificate and CloudFront-only security group)
    then on the cluster: add-ons -> monitoring -> image -> data endpoints -> storefront
            -> origin's DNS record

Settings flow down as each component's Args; outputs flow up and the ones operators need are
exported. Nothing here reads Pulumi config: `build` takes the settings `stacks.settings` loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi

from components.addons import AddonsArgs, ClusterAddons
from components.cache import Cache, CacheArgs
from components.cdn import Cdn, CdnArgs
from components.cluster import Cluster, ClusterArgs
from components.database import Database, DatabaseArgs
from components.dns import AliasRecords, AliasRecordsArgs, Edge, EdgeArgs
from components.endpoints import DataEndpoints, managed_endpoints
from components.image import ImageArgs, MirrorArgs, MirroredImage, StorefrontImage
from components.in_cluster_data import (
    POSTGRES_SOURCE,
    REDIS_SOURCE,
    InClusterData,
    InClusterDataArgs,
)
from components.irsa import OidcProvider
from components.monitoring import CloudWatchAccess, Monitoring, MonitoringArgs, SmtpRelay
from components.network import Network, NetworkArgs
from components.origin import Origin, OriginArgs, OriginRecord, OriginRecordArgs
from components.registry import Registry, RegistryArgs
from components.storefront import Storefront, StorefrontArgs
from components.storefront_pod import HTTP_PORT
from components.subnets import plan_subnets
from stacks import protection
from stacks.compose_safeguards import build_safeguards, network_acl_ports
from stacks.node_autoscaling import karpenter
from stacks.previews import environment as preview
from stacks.settings import Settings, SmtpSettings


@dataclass(frozen=True)
class Platform:
    """The stack's components, for what later layers (workloads, monitoring) build on."""

    network: Network
    cluster: Cluster
    database: Database
    cache: Cache
    registry: Registry
    edge: Edge
    cdn: Cdn
    origin: Origin


def build(settings: Settings) -> Platform | preview.PreviewEnvironment:
    if settings.environment == "preview":
        # No platform of its own: a namespace on its base stack's cluster.
        return preview.build(settings)
    protection.register(settings)
    platform = build_platform(settings)
    build_safeguards(settings, platform)
    workloads = build_workloads(settings, platform)
    export_platform(platform, settings.region)
    export_workloads(workloads)
    if hosts_previews(settings):
        export_preview_base(settings, platform, workloads)
    return platform


def hosts_previews(settings: Settings) -> bool:
    """A stack with shop:previewDomain runs pull requests' preview environments."""
    return settings.environment != "preview" and bool(settings.preview.domain)


def build_platform(settings: Settings) -> Platform:
    network = _network(settings)
    cluster = _cluster(settings, network)
    nodes = [cluster.node_security_group_id]
    database = Database("database", DatabaseArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.isolated_subnet_ids,
        allowed_security_group_ids=nodes,
        tags=settings.tags,
        engine_version=settings.database.engine_version,
        instance_class=settings.database.instance_class,
        allocated_storage_gb=settings.database.allocated_storage_gb,
        max_allocated_storage_gb=settings.database.max_allocated_storage_gb,
        backup_retention_days=settings.database.backup_retention_days,
        multi_az=settings.database.multi_az,
        replica_count=settings.database.replica_count,
        password_rotation_days=settings.database.password_rotation_days,
        deletion_protection=settings.deletion_protection,
        log_retention_days=settings.log_retention_days,
    ))
    cache = Cache("cache", CacheArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.isolated_subnet_ids,
        allowed_security_group_ids=nodes,
        tags=settings.tags,
        node_type=settings.cache.node_type,
        node_count=settings.cache.node_count,
        snapshot_retention_days=settings.cache.snapshot_retention_days,
        deletion_protection=settings.deletion_protection,
    ))
    registry = Registry("registry", RegistryArgs(
        repository_name=f"{settings.name_prefix}/storefront",
        tags=settings.tags,
        force_delete=not settings.deletion_protection,
    ))
    edge, cdn = _edge_and_cdn(settings)
    origin = _origin(settings, network)
    return Platform(network, cluster, database, cache, registry, edge, cdn, origin)


def _network(settings: Settings) -> Network:
    return Network("network", NetworkArgs(
        vpc_cidr=settings.network.vpc_cidr,
        az_count=settings.network.az_count,
        nat_mode=settings.network.nat_mode,
        region=settings.region,
        cluster_name=settings.cluster.name,
        tags=settings.tags,
        flow_log_retention_days=settings.log_retention_days,
        **network_acl_ports(settings, hosts_previews(settings)),
    ))


def _cluster(settings: Settings, network: Network) -> Cluster:
    c = settings.cluster
    return Cluster("cluster", ClusterArgs(
        cluster_name=c.name,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        kubernetes_version=c.kubernetes_version,
        tags=settings.tags,
        node_instance_type=c.node_instance_type,
        node_min_size=c.node_min_size,
        node_desired_size=c.node_desired_size,
        node_max_size=c.node_max_size,
        public_access_cidrs=c.public_access_cidrs,
        admin_role_arn=c.admin_role_arn,
        deploy_role_arn=c.deploy_role_arn,
        log_retention_days=settings.log_retention_days,
        deletion_protection=settings.deletion_protection,
    ))


def _edge_and_cdn(settings: Settings) -> tuple[Edge, Cdn]:
    e = settings.edge
    edge = Edge("edge", EdgeArgs(
        tags=settings.tags,
        domain_name=e.domain or None,
        hosted_zone_id=e.hosted_zone_id or None,
        waf_enabled=e.waf_enabled,
        rate_limit_per_5_minutes=e.waf_rate_limit,
    ))
    cdn = Cdn("cdn", CdnArgs(
        origin_domain_name=e.origin_domain,
        tags=settings.tags,
        aliases=edge.aliases,
        certificate_arn=edge.certificate_arn,
        web_acl_arn=edge.web_acl_arn,
        price_class=e.cdn_price_class,
        log_retention_days=settings.log_retention_days,
        force_destroy=not settings.deletion_protection,
    ))
    if edge.aliases:
        AliasRecords("dns", AliasRecordsArgs(
            hosted_zone_id=e.hosted_zone_id,
            names=edge.aliases,
            target_domain_name=cdn.domain_name,
            target_hosted_zone_id=cdn.hosted_zone_id,
        ))
    return edge, cdn


def _origin(settings: Settings, network: Network) -> Origin:
    """The name CloudFront connects to: the stack issues its certificate when the name lies in
    shop:domain's zone, else shop:originCertificateArn brings one (settings/loader.py)."""
    e = settings.edge
    return Origin("origin", OriginArgs(
        domain_name=e.origin_domain,
        vpc_id=network.vpc_id,
        vpc_cidr=settings.network.vpc_cidr,
        target_port=HTTP_PORT,
        region=settings.region,
        tags=settings.tags,
        hosted_zone_id=None if e.origin_certificate_arn else e.hosted_zone_id,
        certificate_arn=e.origin_certificate_arn or None,
    ))


def _origin_record(settings: Settings, platform: Platform, storefront: Storefront) -> None:
    """The origin's name -> the ALB, once the controller reported its hostname; a name outside
    the zone is the operator's to point (at the loadBalancerHostname output)."""
    if settings.edge.origin_certificate_arn:
        return
    OriginRecord("origin-dns", OriginRecordArgs(
        hosted_zone_id=settings.edge.hosted_zone_id,
        domain_name=platform.origin.domain_name,
        load_balancer_hostname=storefront.alb_hostname,
        region=settings.region,
    ))


STOREFRONT_NAMESPACE = "shop"
DATA_NAMESPACE = "shop-data"


@dataclass(frozen=True)
class DataImages:
    """PostgreSQL and Redis copied into the stack's registry, by digest."""

    postgres: pulumi.Output[str]
    redis: pulumi.Output[str]


@dataclass(frozen=True)
class Workloads:
    addons: ClusterAddons
    monitoring: Monitoring
    image: StorefrontImage
    storefront: Storefront
    data_images: DataImages | None


def build_workloads(settings: Settings, platform: Platform) -> Workloads:
    """Add-ons first: the load balancer controller's webhooks must answer before any pod of
    the storefront's namespace is admitted, and the gp3 class must exist before a volume.
    Then monitoring: the storefront's ServiceMonitor needs the Prometheus Operator's CRDs."""
    cluster, registry = platform.cluster, platform.registry
    # shop:podIdentity: every role below takes the shape it chooses (components/irsa.py).
    oidc = replace(cluster.oidc, mode=settings.cluster.identity_mode,
                   cluster_name=cluster.cluster_name)
    addons_args = AddonsArgs(
        cluster_name=cluster.cluster_name,
        kubernetes_version=settings.cluster.kubernetes_version,
        vpc_id=platform.network.vpc_id,
        region=settings.region,
        oidc=oidc,
        tags=settings.tags,
        log_retention_days=settings.log_retention_days,
        cluster_autoscaler=settings.cluster.node_autoscaler == "clusterAutoscaler",
    )
    addons = ClusterAddons("addons", addons_args,
                           opts=pulumi.ResourceOptions(providers=[cluster.provider]))
    if not addons_args.cluster_autoscaler:
        karpenter(settings, platform.network, platform.cluster, oidc, addons)
    on_cluster = pulumi.ResourceOptions(providers=[cluster.provider], depends_on=[addons])
    monitoring = _monitoring(settings, oidc, addons_args.storage_class, on_cluster)
    image = StorefrontImage("storefront-image", ImageArgs(
        repository_url=registry.repository_url,
        registry_id=registry.registry_id,
        version=settings.storefront.image_version,
        platforms=cluster.image_platforms,
    ))
    data_images = _data_images(settings, registry, cluster.image_platforms)
    storefront = Storefront("storefront", StorefrontArgs(
        image_ref=image.ref,
        data=_data_endpoints(settings, platform, data_images, on_cluster),
        oidc=oidc,
        assets_bucket_arn=platform.cdn.assets_bucket_arn,
        assets_bucket_name=platform.cdn.assets_bucket_name,
        vpc_cidr=settings.network.vpc_cidr,
        load_balancer_cidrs=load_balancer_cidrs(settings, platform),
        public_base_url=(f"https://{settings.edge.domain}" if settings.edge.domain
                         else pulumi.Output.concat("https://", platform.cdn.domain_name)),
        region=settings.region,
        tags=settings.tags,
        namespace=STOREFRONT_NAMESPACE,
        certificate_arn=platform.origin.certificate_arn,
        load_balancer_security_group_id=platform.origin.security_group_id,
        origin_verify_secret=platform.cdn.origin_verify_secret,
        min_replicas=settings.storefront.min_replicas,
        max_replicas=settings.storefront.max_replicas,
    ), opts=pulumi.ResourceOptions(providers=[cluster.provider],
                                   depends_on=[addons, monitoring]))
    _origin_record(settings, platform, storefront)
    return Workloads(addons, monitoring, image, storefront, data_images)


def _monitoring(settings: Settings, oidc: OidcProvider, storage_class: str,
                on_cluster: pulumi.ResourceOptions) -> Monitoring:
    """Prometheus, Alertmanager and Grafana, their volumes on the add-ons' gp3 class; Grafana
    reads the data tier's CloudWatch metrics through its own IAM role. dev's Prometheus also
    scrapes the preview environments on its cluster (previews/environment.py)."""
    m = settings.monitoring
    return Monitoring("monitoring", MonitoringArgs(
        cluster_name=settings.cluster.name,
        environment=settings.environment,
        kubernetes_version=settings.cluster.kubernetes_version,
        storage_class=storage_class,
        runbook_base_url=m.runbook_base_url,
        tags=settings.tags,
        retention_days=m.metrics_retention_days,
        prometheus_volume_gib=m.prometheus_volume_gb,
        prometheus_replicas=m.replicas,
        alertmanager_replicas=m.replicas,
        slack_webhook_url=m.slack_webhook_url.as_output() if m.slack_webhook_url else None,
        slack_channel=m.slack_channel,
        alert_email=m.alert_email,
        smtp=_smtp_relay(m.smtp),
        grafana_enabled=m.grafana_enabled,
        cloudwatch=CloudWatchAccess(oidc, settings.region),
    ), opts=on_cluster)


def _smtp_relay(smtp: SmtpSettings | None) -> SmtpRelay | None:
    if smtp is None:
        return None
    return SmtpRelay(smtp.smarthost, smtp.sender, smtp.username, smtp.password.as_output())


def load_balancer_cidrs(settings: Settings, platform: Platform) -> list[str]:
    """The public subnets: the ALB's nodes sit there and reach the pods' IPs directly."""
    return [plan.cidr for plan in plan_subnets(
        settings.network.vpc_cidr, platform.network.availability_zones)
        if plan.tier == "public"]


def _data_images(settings: Settings, registry: Registry,
                 platforms: tuple[str, ...]) -> DataImages | None:
    """Copies of PostgreSQL and Redis for the stack's own in-cluster data, and for the
    previews it hosts: those cannot push the same immutable tags themselves."""
    if not (settings.in_cluster_data or hosts_previews(settings)):
        return None

    def mirror(kind: str, source: str) -> pulumi.Output[str]:
        return MirroredImage(f"{kind}-image", MirrorArgs(
            source=source, repository_url=registry.repository_url,
            registry_id=registry.registry_id, platforms=platforms)).ref

    return DataImages(mirror("postgres", POSTGRES_SOURCE), mirror("redis", REDIS_SOURCE))


def _data_endpoints(settings: Settings, platform: Platform, images: DataImages | None,
                    on_cluster: pulumi.ResourceOptions) -> DataEndpoints:
    """RDS and ElastiCache, or (shop:inClusterData) PostgreSQL and Redis in the cluster, run
    from copies in the stack's registry."""
    if not settings.in_cluster_data or images is None:
        return managed_endpoints(platform.database, platform.cache)
    return InClusterData("data", InClusterDataArgs(
        namespace=DATA_NAMESPACE,
        client_namespace=STOREFRONT_NAMESPACE,
        postgres_image=images.postgres,
        redis_image=images.redis,
        keep_volume=settings.deletion_protection,
    ), opts=on_cluster).endpoints


def export_workloads(workloads: Workloads) -> None:
    pulumi.export("storefrontImage", workloads.image.ref)
    pulumi.export("storefrontNamespace", workloads.storefront.namespace)
    pulumi.export("loadBalancerHostname", workloads.storefront.alb_hostname)
    pulumi.export("containerLogGroup", workloads.addons.log_group_name)
    # Where operators find the monitoring stack; Grafana's password stays in that Secret.
    monitoring = workloads.monitoring
    pulumi.export("monitoringNamespace", monitoring.namespace)
    pulumi.export("grafanaService", monitoring.grafana_service)
    pulumi.export("grafanaAdminSecret", monitoring.grafana_admin_secret)
    pulumi.export("prometheusUrl", monitoring.prometheus_url)
    pulumi.export("alertmanagerUrl", monitoring.alertmanager_url)


def export_preview_base(settings: Settings, platform: Platform, workloads: Workloads) -> None:
    """What the preview stacks on this cluster read by StackReference (previews/environment.py),
    besides the kubeconfig and the repository."""
    assert workloads.data_images is not None  # hosts_previews implies them
    pulumi.export("vpcCidr", settings.network.vpc_cidr)
    pulumi.export("loadBalancerCidrs", load_balancer_cidrs(settings, platform))
    pulumi.export("postgresImage", workloads.data_images.postgres)
    pulumi.export("redisImage", workloads.data_images.redis)
    # What the previews build their image for: the architectures of this cluster's nodes.
    pulumi.export("imagePlatforms", list(platform.cluster.image_platforms))


def export_platform(platform: Platform, region: str) -> None:
    """What operators, `python -m stacks ops` and preview stacks (by StackReference) read."""
    exports = {
        "region": region,
        "vpcId": platform.network.vpc_id,
        "clusterName": platform.cluster.cluster_name,
        "kubeconfig": platform.cluster.kubeconfig,
        "oidcProviderArn": platform.cluster.oidc_provider_arn,
        "oidcProviderUrl": platform.cluster.oidc_provider_url,
        "nodeSecurityGroupId": platform.cluster.node_security_group_id,
        "databaseEndpoint": platform.database.writer_endpoint,
        "databaseReaderEndpoint": platform.database.reader_endpoint,
        # An RDS endpoint's first label is the instance identifier.
        "databaseIdentifier": platform.database.writer_endpoint.apply(
            lambda address: address.split(".")[0]),
        "databaseSecretArn": platform.database.secret_arn,
        "cacheEndpoint": platform.cache.primary_endpoint,
        "cacheSecretArn": platform.cache.secret_arn,
        "repositoryUrl": platform.registry.repository_url,
        "ecrRepositoryName": platform.registry.repository_name,
        "cloudfrontDomain": platform.cdn.domain_name,
        "cdnDistributionId": platform.cdn.distribution_id,
        "assetsBucketName": platform.cdn.assets_bucket_name,
    }
    for name, value in exports.items():
        pulumi.export(name, value)
