"""PostgreSQL and Redis inside the cluster, for stacks that don't pay for RDS and ElastiCache
(preview environments, and dev when its settings say so).

They live in their own namespace, reachable only from the storefront's pods, and produce the
same `DataEndpoints` the managed services do. Traffic stays inside the cluster network and is
not TLS-encrypted: this path is for disposable environments, never for prod.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as kube
from components.arg_checks import require_pattern, require_range
from components.data_security import generated_password
from components.endpoints import (
    POSTGRES_PORT,
    REDIS_PORT,
    DataEndpoints,
    postgres_url,
    redis_url,
)
from components.image import is_digest_ref
from components.storefront_pod import APP as CLIENT_APP

POSTGRES = "postgres"
REDIS = "redis"
# The official images' built-in users (postgres and redis, both uid/gid 999).
IMAGE_UID = 999
# The upstream images, mirrored into the stack's ECR (components.image.MirroredImage) and
# run by digest. PostgreSQL 18 images moved PGDATA: a major upgrade is a deliberate change.
POSTGRES_SOURCE = "postgres:17.6-bookworm"
REDIS_SOURCE = "redis:8.2.1-bookworm"
_PG_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class InClusterDataArgs:
    # Where PostgreSQL and Redis run, e.g. "shop-data" or "preview-42-data".
    namespace: str
    # The storefront's namespace: the only one whose storefront pods are let in.
    client_namespace: str
    # The mirrors of POSTGRES_SOURCE and REDIS_SOURCE, by digest (repo@sha256:...).
    postgres_image: pulumi.Input[str]
    redis_image: pulumi.Input[str]
    storage_class: str = "gp3"
    storage_size: str = "10Gi"
    database_name: str = "shop"
    database_user: str = "shop"
    postgres_resources: kube.Resources = kube.Resources("250m", "512Mi", "1", "1Gi")
    redis_resources: kube.Resources = kube.Resources("100m", "128Mi", "500m", "256Mi")
    # Below the container's memory limit, leaving room for Redis's own overhead.
    redis_max_memory_mb: int = 192
    # Keep the volume when the stack is destroyed (dev) or drop it with the stack (previews).
    keep_volume: bool = False
    # Extra labels on the namespace, e.g. a preview's expiry.
    namespace_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)


def validate(args: InClusterDataArgs) -> None:
    kube.require_dns_label("namespace", args.namespace)
    kube.require_dns_label("client_namespace", args.client_namespace)
    if args.namespace == args.client_namespace:
        raise ValueError("namespace must differ from client_namespace: the data tier keeps its "
                         f"own network policies, got {args.namespace!r} for both")
    kube.require_dns_label("storage_class", args.storage_class)
    kube.require_quantity("storage_size", args.storage_size)
    for field in ("postgres_image", "redis_image"):
        image = getattr(args, field)
        if isinstance(image, str) and not is_digest_ref(image):
            raise ValueError(f"{field} must pin a digest (repo@sha256:...), got {image!r}")
    for field in ("database_name", "database_user"):
        require_pattern(field, getattr(args, field), _PG_IDENTIFIER,
                        "lowercase letters, digits and underscores, starting with a letter")
    args.postgres_resources.validate("postgres_resources")
    args.redis_resources.validate("redis_resources")
    limit_mb = int(kube.parse_quantity(args.redis_resources.memory_limit) // 2**20)
    require_range("redis_max_memory_mb", args.redis_max_memory_mb, 16, limit_mb - 32)


def service_host(service: str, namespace: str) -> str:
    return f"{service}.{namespace}.svc.cluster.local"


class InClusterData(pulumi.ComponentResource):
    """Outputs: `endpoints` (a DataEndpoints), `namespace`."""

    endpoints: DataEndpoints
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: InClusterDataArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:in-cluster-data:InClusterData", name, None, opts)
        namespace = kube.namespace(f"{name}-namespace", args.namespace,
                                   args.namespace_labels, self)
        ns = namespace.metadata.name

        pg_password = generated_password(name, "postgres-password", 40, self)
        redis_password = generated_password(name, "redis-password", 40, self)
        pg_secret = self._credentials(f"{name}-postgres-credentials", POSTGRES, ns,
                                      pg_password.result)
        redis_secret = self._credentials(f"{name}-redis-credentials", REDIS, ns,
                                         redis_password.result)
        # Pods start under their network policies: the default-deny never lands later.
        after_policies = pulumi.ResourceOptions(
            parent=self, depends_on=self._network_policies(name, args, ns))
        postgres = self._postgres(name, args, ns, pg_secret.metadata.name, after_policies)
        redis = self._redis(name, args, ns, redis_secret.metadata.name, after_policies)
        pg_service = self._service(f"{name}-postgres-service", POSTGRES, ns, POSTGRES_PORT,
                                   headless=True)
        redis_service = self._service(f"{name}-redis-service", REDIS, ns, REDIS_PORT,
                                      headless=False)

        # The URLs also carry the workloads' names so whatever consumes them waits until
        # PostgreSQL and Redis are ready (Pulumi awaits StatefulSet and Deployment rollouts).
        self.endpoints = DataEndpoints(
            database_url=pulumi.Output.all(pg_password.result, pg_service.metadata.name,
                                           postgres.metadata.name).apply(
                lambda v: postgres_url(args.database_user, v[0],
                                       service_host(v[1], args.namespace), POSTGRES_PORT,
                                       args.database_name, tls=False)),
            redis_url=pulumi.Output.all(redis_password.result, redis_service.metadata.name,
                                        redis.metadata.name).apply(
                lambda v: redis_url(v[0], service_host(v[1], args.namespace), REDIS_PORT,
                                    tls=False)),
            namespace=args.namespace,
        )
        self.namespace = ns
        self.register_outputs({"namespace": ns, "database_url": self.endpoints.database_url,
                               "redis_url": self.endpoints.redis_url})

    def _credentials(self, resource_name: str, app: str, ns: pulumi.Output[str],
                     password: pulumi.Output[str]) -> k8s.core.v1.Secret:
        # Bound first: inside the dict literal mypy infers the secret's type from string_data's
        # union of input forms, and gets it wrong.
        secret: pulumi.Output[str] = pulumi.Output.secret(password)
        return k8s.core.v1.Secret(
            resource_name,
            metadata=kube.metadata(f"{app}-credentials", ns, kube.labels(app, "credentials")),
            type="Opaque",
            string_data={"password": secret},
            opts=pulumi.ResourceOptions(parent=self))

    def _postgres(self, name: str, args: InClusterDataArgs, ns: pulumi.Output[str],
                  secret: pulumi.Output[str], opts: pulumi.ResourceOptions
                  ) -> k8s.apps.v1.StatefulSet:
        ready = ["pg_isready", "-U", args.database_user, "-d", args.database_name,
                 "-h", "127.0.0.1", "-p", str(POSTGRES_PORT)]
        container = k8s.core.v1.ContainerArgs(
            name=POSTGRES,
            image=args.postgres_image,
            ports=[k8s.core.v1.ContainerPortArgs(name=POSTGRES, container_port=POSTGRES_PORT)],
            env=[
                k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=args.database_user),
                k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=args.database_name),
                kube.secret_env("POSTGRES_PASSWORD", secret, "password"),
                # A subdirectory: the volume's root holds lost+found, which initdb refuses.
                k8s.core.v1.EnvVarArgs(name="PGDATA", value="/var/lib/postgresql/data/pgdata"),
            ],
            resources=args.postgres_resources.to_args(),
            security_context=kube.container_security(),
            # initdb on a fresh volume takes a while; afterwards a stuck server is restarted.
            startup_probe=kube.exec_probe(ready, period=5, failures=60),
            readiness_probe=kube.exec_probe(ready, period=10, failures=3),
            liveness_probe=kube.exec_probe(ready, period=20, failures=6, timeout=5),
            volume_mounts=[kube.mount("data", "/var/lib/postgresql/data"),
                           kube.mount("run", "/var/run/postgresql"),
                           kube.mount("tmp", "/tmp"),  # noqa: S108 - a private emptyDir
                           kube.mount("shm", "/dev/shm")],  # noqa: S108 - a private emptyDir
        )
        selector = kube.selector_labels(POSTGRES, "database")
        return k8s.apps.v1.StatefulSet(
            f"{name}-postgres",
            metadata=kube.metadata(POSTGRES, ns, kube.labels(POSTGRES, "database")),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=POSTGRES,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                persistent_volume_claim_retention_policy=(
                    k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                        when_deleted="Retain" if args.keep_volume else "Delete",
                        when_scaled="Retain")),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=kube.labels(POSTGRES, "database")),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=kube.pod_security(IMAGE_UID, IMAGE_UID),
                        termination_grace_period_seconds=60,
                        containers=[container],
                        volumes=[kube.scratch_volume("run", "16Mi"),
                                 kube.scratch_volume("tmp", "256Mi"),
                                 # Parallel queries need more shared memory than 64 MB.
                                 kube.scratch_volume("shm", "256Mi", in_memory=True)],
                    ),
                ),
                volume_claim_templates=[k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name="data", labels=kube.labels(POSTGRES, "database")),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=args.storage_class,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                            requests={"storage": args.storage_size})),
                )],
            ),
            opts=opts)

    def _redis(self, name: str, args: InClusterDataArgs, ns: pulumi.Output[str],
               secret: pulumi.Output[str], opts: pulumi.ResourceOptions
               ) -> k8s.apps.v1.Deployment:
        # REDISCLI_AUTH lets the probe authenticate without the password on a command line.
        ping = ["sh", "-c", "redis-cli -h 127.0.0.1 ping | grep -q PONG"]
        container = k8s.core.v1.ContainerArgs(
            name=REDIS,
            image=args.redis_image,
            command=["redis-server"],
            # $(REDIS_PASSWORD) is expanded by the kubelet from the Secret, never stored here.
            # A cache: no snapshots, least recently used keys with a TTL evicted first.
            args=["--requirepass", "$(REDIS_PASSWORD)", "--save", "", "--appendonly", "no",
                  "--maxmemory", f"{args.redis_max_memory_mb}mb",
                  "--maxmemory-policy", "volatile-lru"],
            ports=[k8s.core.v1.ContainerPortArgs(name=REDIS, container_port=REDIS_PORT)],
            env=[kube.secret_env("REDIS_PASSWORD", secret, "password"),
                 kube.secret_env("REDISCLI_AUTH", secret, "password")],
            resources=args.redis_resources.to_args(),
            security_context=kube.container_security(),
            startup_probe=kube.exec_probe(ping, period=2, failures=30),
            readiness_probe=kube.exec_probe(ping, period=10, failures=3),
            liveness_probe=kube.exec_probe(ping, period=20, failures=3),
            volume_mounts=[kube.mount("data", "/data"),
                           kube.mount("tmp", "/tmp")],  # noqa: S108 - a private emptyDir
        )
        return k8s.apps.v1.Deployment(
            f"{name}-redis",
            metadata=kube.metadata(REDIS, ns, kube.labels(REDIS, "cache")),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                # One instance: never two at once, each with half the keys.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=kube.selector_labels(REDIS, "cache")),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=kube.labels(REDIS, "cache")),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=kube.pod_security(IMAGE_UID, IMAGE_UID),
                        containers=[container],
                        volumes=[kube.scratch_volume("data", "64Mi"),
                                 kube.scratch_volume("tmp", "64Mi")],
                    ),
                ),
            ),
            opts=opts)

    def _service(self, resource_name: str, app: str, ns: pulumi.Output[str], port: int,
                 headless: bool) -> k8s.core.v1.Service:
        # PostgreSQL's Service is also the StatefulSet's governing (headless) Service.
        component = "database" if app == POSTGRES else "cache"
        return k8s.core.v1.Service(
            resource_name,
            metadata=kube.metadata(app, ns, kube.labels(app, component)),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None" if headless else None,
                type="ClusterIP",
                selector=kube.selector_labels(app, component),
                ports=[k8s.core.v1.ServicePortArgs(name=app, port=port, target_port=app,
                                                   protocol="TCP")]),
            opts=pulumi.ResourceOptions(parent=self))

    def _network_policies(self, name: str, args: InClusterDataArgs, ns: pulumi.Output[str]
                          ) -> list[k8s.networking.v1.NetworkPolicy]:
        """Nothing leaves these pods; only the storefront's pods come in, each on its port."""
        clients = kube.namespace_peer(args.client_namespace, {"app.kubernetes.io/name": CLIENT_APP})
        allowed = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{app}-ingress",
                metadata=kube.metadata(f"{app}-ingress", ns, kube.labels(app, component)),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(
                        match_labels=kube.selector_labels(app, component)),
                    policy_types=["Ingress"],
                    ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[clients], ports=[kube.policy_port(port)])]),
                opts=pulumi.ResourceOptions(parent=self))
            for app, component, port in ((POSTGRES, "database", POSTGRES_PORT),
                                         (REDIS, "cache", REDIS_PORT))
        ]
        return [kube.default_deny(f"{name}-default-deny", ns, self), *allowed]
