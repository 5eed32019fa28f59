"""Rules over Kubernetes objects: the pods' containers and the EBS StorageClasses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stacks.policy.facts import Context, dig, is_true, items

# Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
EBS_PROVISIONERS = frozenset({"ebs.csi.aws.com", "kubernetes.io/aws-ebs"})
REQUIRED_LIMITS = ("cpu", "memory")


def pod_spec(type_: str, inputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    path = POD_SPEC_PATHS.get(type_)
    spec = dig(inputs, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def containers(type_: str, inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Init containers and containers alike: both run the pod's code."""
    spec = pod_spec(type_, inputs) or {}
    return [*items(spec.get("initContainers")), *items(spec.get("containers"))]


def non_root(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    pod_context = dig(pod_spec(type_, inputs), "securityContext") or {}
    for container in containers(type_, inputs):
        own = container.get("securityContext") or {}
        # The container's setting wins over the pod's, as in Kubernetes.
        non_root_flag = own.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        user = own.get("runAsUser", pod_context.get("runAsUser"))
        if not is_true(non_root_flag) or user == 0:
            yield (f"container {container.get('name')} may run as root: set "
                   "securityContext.runAsNonRoot: true (and no runAsUser: 0)")


def resource_limits(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for container in containers(type_, inputs):
        limits = dig(container, "resources", "limits") or {}
        missing = [kind for kind in REQUIRED_LIMITS if not limits.get(kind)]
        if missing:
            yield f"container {container.get('name')} has no {' or '.join(missing)} limit"


def unprivileged(type_: str, inputs: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for container in containers(type_, inputs):
        if is_true(dig(container, "securityContext", "privileged")):
            yield f"container {container.get('name')} runs privileged"


def storage_class_unencrypted(inputs: Mapping[str, Any]) -> Iterator[str]:
    if (inputs.get("provisioner") in EBS_PROVISIONERS
            and not is_true(dig(inputs, "parameters", "encrypted"))):
        yield 'EBS volumes are not encrypted: set parameters.encrypted: "true"'
