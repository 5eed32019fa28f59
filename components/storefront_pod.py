"""The storefront's pods: the web Deployment's template and the migration Job's template.

Both run the same image with the same configuration and the same hardened security
context; they differ in command, probes and service account.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as kube
from components import secret_store

APP = "storefront"
CONTAINER = "storefront"
MIGRATE_ACCOUNT = "storefront-migrate"
HTTP_PORT = 8000
PORT_NAME = "http"
# Redis is optional for readiness: the app degrades without it (app/health.py), so a Redis
# outage must not take every pod out of the Service and the ALB.
READINESS_PATH = "/readyz?optional=redis"
TMP_VOLUME = "tmp"
METRICS_VOLUME = "prometheus-multiproc"
METRICS_DIR = "/var/run/prometheus"
WEB_LABELS = kube.labels(APP, "web")
MIGRATE_LABELS = kube.labels(APP, "migrate")
WEB_SELECTOR = kube.selector_labels(APP, "web")
# The ALB deregisters a target a few seconds after Kubernetes marks it terminating; serving
# through that window avoids 502s on every rollout.
DEREGISTRATION_GRACE_SECONDS = 15
_DIGEST = re.compile(r"@sha256:([0-9a-f]{64})$")


def migration_job_name(image_ref: str) -> str:
    """`storefront-migrate-<first 12 hex of the digest>`: a new image is a new Job, so its
    migrations run (and are awaited) before the Deployment rolls to it."""
    match = _DIGEST.search(image_ref)
    if not match:
        raise ValueError(f"image_ref must pin a sha256 digest (repo@sha256:...), got {image_ref!r}")
    return f"{APP}-migrate-{match.group(1)[:12]}"


def _volumes(password_class: pulumi.Input[str] | None) -> list[k8s.core.v1.VolumeArgs]:
    volumes = [
        kube.scratch_volume(TMP_VOLUME, "256Mi"),
        # prometheus_client's multiprocess mode mmaps one file per worker: memory-backed.
        kube.scratch_volume(METRICS_VOLUME, "64Mi", in_memory=True),
    ]
    if password_class is not None:
        volumes.append(secret_store.password_volume(password_class))
    return volumes


def _container(
    image: pulumi.Input[str], config_map: pulumi.Input[str], secret: pulumi.Input[str],
    resources: kube.Resources, password_class: pulumi.Input[str] | None, **extra: Any,
) -> k8s.core.v1.ContainerArgs:
    mounts = [kube.mount(TMP_VOLUME, "/tmp"),  # noqa: S108 - a private emptyDir
              kube.mount(METRICS_VOLUME, METRICS_DIR)]
    if password_class is not None:
        # The RDS-managed password as a file (components/secret_store.py).
        mounts.append(secret_store.password_mount())
    return k8s.core.v1.ContainerArgs(
        name=CONTAINER,
        image=image,
        image_pull_policy="IfNotPresent",
        env_from=[
            k8s.core.v1.EnvFromSourceArgs(
                config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=config_map)),
            k8s.core.v1.EnvFromSourceArgs(
                secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret)),
        ],
        resources=resources.to_args(),
        security_context=kube.container_security(),
        volume_mounts=mounts,
        **extra,
    )


def web_pod_template(
    image: pulumi.Input[str], config_map: pulumi.Input[str], secret: pulumi.Input[str],
    service_account: pulumi.Input[str], resources: kube.Resources, uid: int,
    password_class: pulumi.Input[str] | None = None,
) -> k8s.core.v1.PodTemplateSpecArgs:
    container = _container(
        image, config_map, secret, resources, password_class,
        ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=HTTP_PORT)],
        # Startup allows two minutes for a cold start; after it, liveness never consults the
        # database (a database outage must not restart healthy pods), readiness does.
        startup_probe=kube.http_probe("/healthz", PORT_NAME, period=5, failures=24),
        liveness_probe=kube.http_probe("/healthz", PORT_NAME, period=10, failures=3),
        readiness_probe=kube.http_probe(READINESS_PATH, PORT_NAME, period=5, failures=3, timeout=3),
        lifecycle=k8s.core.v1.LifecycleArgs(pre_stop=k8s.core.v1.LifecycleHandlerArgs(
            sleep=k8s.core.v1.SleepActionArgs(seconds=DEREGISTRATION_GRACE_SECONDS))),
    )
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=WEB_LABELS),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=service_account,
            # IRSA's token is projected by EKS's webhook; the pod never calls the Kubernetes API.
            automount_service_account_token=False,
            security_context=kube.pod_security(uid, uid),
            # gunicorn's graceful timeout (25 s) fits after the pre-stop pause.
            termination_grace_period_seconds=DEREGISTRATION_GRACE_SECONDS + 30,
            containers=[container],
            volumes=_volumes(password_class),
            topology_spread_constraints=_spread(),
        ),
    )


def _spread() -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Across zones strictly (a zone outage leaves capacity), across nodes when possible.
    `pod-template-hash` makes each ReplicaSet spread on its own, so a rollout isn't blocked
    by where the old pods sit."""
    def constraint(key: str, when: str) -> k8s.core.v1.TopologySpreadConstraintArgs:
        return k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1, topology_key=key, when_unsatisfiable=when,
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=WEB_SELECTOR),
            match_label_keys=["pod-template-hash"],
        )
    return [constraint("topology.kubernetes.io/zone", "DoNotSchedule"),
            constraint("kubernetes.io/hostname", "ScheduleAnyway")]


def migration_pod_template(
    image: pulumi.Input[str], config_map: pulumi.Input[str], secret: pulumi.Input[str],
    resources: kube.Resources, uid: int, service_account: pulumi.Input[str] | None = None,
    password_class: pulumi.Input[str] | None = None,
) -> k8s.core.v1.PodTemplateSpecArgs:
    """`flask db upgrade` once. Its service account's IAM role (when the password comes from
    Secrets Manager) reads that secret and nothing else; otherwise the namespace's default
    account, with no role."""
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=MIGRATE_LABELS),
        spec=k8s.core.v1.PodSpecArgs(
            restart_policy="Never",
            service_account_name=service_account,
            automount_service_account_token=False,
            security_context=kube.pod_security(uid, uid),
            containers=[_container(image, config_map, secret, resources, password_class,
                                   command=["flask", "db", "upgrade"])],
            volumes=_volumes(password_class),
        ),
    )
