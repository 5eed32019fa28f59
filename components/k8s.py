"""Kubernetes building blocks every workload of the platform shares: labels, the
"restricted" Pod Security profile, probes, resources and metadata.

One place decides how a hardened pod looks, so the storefront and the in-cluster data
cannot drift apart on security settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "shop"
MANAGED_BY = "pulumi"

# Namespace labels for Pod Security Admission: every namespace we create refuses pods that
# are not "restricted" (non-root, no privilege escalation, no capabilities, seccomp).
RESTRICTED_NAMESPACE_LABELS: Mapping[str, str] = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$")


def require_dns_label(field: str, value: str) -> None:
    """Kubernetes names of namespaces, services and containers are RFC 1123 labels."""
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(f"{field} must be a DNS label (lowercase letters, digits, '-', at most "
                         f"63 characters), got {value!r}")


def require_quantity(field: str, value: str) -> None:
    if not _QUANTITY.fullmatch(value):
        raise ValueError(f"{field} must be a Kubernetes quantity like '250m', '512Mi' or "
                         f"'10Gi', got {value!r}")


def selector_labels(app: str, component: str) -> dict[str, str]:
    """The immutable subset used by selectors: never add a label here that may change."""
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/component": component}


def labels(app: str, component: str) -> dict[str, str]:
    return {**selector_labels(app, component),
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY}


def metadata(
    name: str | None, namespace: pulumi.Input[str], object_labels: Mapping[str, str],
    annotations: Mapping[str, pulumi.Input[str]] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Object metadata; `name=None` lets Pulumi auto-name (a content change then rolls pods)."""
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(object_labels),
                                      annotations=dict(annotations) if annotations else None)


def namespace(
    resource_name: str, name: str, extra_labels: Mapping[str, str], parent: pulumi.Resource,
) -> k8s.core.v1.Namespace:
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            labels={**RESTRICTED_NAMESPACE_LABELS, "app.kubernetes.io/part-of": PART_OF,
                    "app.kubernetes.io/managed-by": MANAGED_BY, **extra_labels}),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def pod_security(uid: int, gid: int) -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=gid,
        fs_group=gid,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        privileged=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


@dataclass(frozen=True)
class Resources:
    """CPU and memory for one container, in Kubernetes quantities ("250m", "512Mi")."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def validate(self, field: str) -> None:
        for attribute in ("cpu_request", "memory_request", "cpu_limit", "memory_limit"):
            require_quantity(f"{field}.{attribute}", getattr(self, attribute))
        if parse_quantity(self.cpu_request) > parse_quantity(self.cpu_limit):
            raise ValueError(f"{field}.cpu_request must not exceed {field}.cpu_limit, got "
                             f"{self.cpu_request} > {self.cpu_limit}")
        if parse_quantity(self.memory_request) > parse_quantity(self.memory_limit):
            raise ValueError(f"{field}.memory_request must not exceed {field}.memory_limit, "
                             f"got {self.memory_request} > {self.memory_limit}")

    def to_args(self) -> k8s.core.v1.ResourceRequirementsArgs:
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu_request, "memory": self.memory_request},
            limits={"cpu": self.cpu_limit, "memory": self.memory_limit},
        )


_SUFFIXES = {"": 1.0, "m": 0.001, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}


def parse_quantity(quantity: str) -> float:
    """The value of a quantity in base units (cores or bytes), for comparisons only."""
    match = _QUANTITY.fullmatch(quantity)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {quantity!r}")
    suffix = match.group(2) or ""
    return float(quantity[: len(quantity) - len(suffix)]) * _SUFFIXES[suffix]


def http_probe(
    path: str, port: str, *, period: int, failures: int, timeout: int = 2,
) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
        period_seconds=period, failure_threshold=failures, timeout_seconds=timeout,
    )


def exec_probe(
    command: Sequence[str], *, period: int, failures: int, timeout: int = 3,
) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=list(command)),
        period_seconds=period, failure_threshold=failures, timeout_seconds=timeout,
    )


def scratch_volume(
    name: str, size_limit: str, in_memory: bool = False,
) -> k8s.core.v1.VolumeArgs:
    """A writable emptyDir for a read-only root filesystem (bounded, so it can't fill a node)."""
    return k8s.core.v1.VolumeArgs(
        name=name,
        empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
            medium="Memory" if in_memory else None, size_limit=size_limit),
    )


def mount(name: str, path: str) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=name, mount_path=path)


def secret_env(name: str, secret_name: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret_name, key=key)),
    )


def policy_port(port: int | str, protocol: str = "TCP") -> k8s.networking.v1.NetworkPolicyPortArgs:
    return k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol=protocol)


def namespace_peer(
    namespace_name: pulumi.Input[str], pod_labels: Mapping[str, str] | None = None,
) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """Pods (optionally with these labels) of one namespace, matched by the immutable
    `kubernetes.io/metadata.name` label the API server puts on every namespace."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={"kubernetes.io/metadata.name": namespace_name}),
        pod_selector=(k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pod_labels))
                      if pod_labels else None),
    )


def dns_egress() -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """Name resolution through CoreDNS in kube-system, UDP and TCP."""
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        to=[namespace_peer("kube-system", {"k8s-app": "kube-dns"})],
        ports=[policy_port(53, "UDP"), policy_port(53, "TCP")],
    )


def default_deny(
    resource_name: str, namespace_name: pulumi.Input[str], parent: pulumi.Resource,
) -> k8s.networking.v1.NetworkPolicy:
    """Every pod of the namespace: nothing in, nothing out, unless another policy allows it."""
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=namespace_name,
                                            labels={"app.kubernetes.io/part-of": PART_OF}),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(),
            policy_types=["Ingress", "Egress"],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
