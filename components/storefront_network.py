"""Who may talk to the storefront, and to whom it may talk: the Ingress the AWS Load Balancer
Controller turns into an ALB, and the NetworkPolicies around the pods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as kube
from components.endpoints import POSTGRES_PORT, REDIS_PORT
from components.storefront_pod import APP, HTTP_PORT, PORT_NAME, WEB_SELECTOR

HTTPS_PORT = 443
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
# The ALB answers /metrics itself, so the scrape endpoint never reaches the internet.
DENY_METRICS_ACTION = "deny-metrics"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def ingress_annotations(
    certificate_arn: pulumi.Input[str] | None, tags: Mapping[str, str],
    security_group_id: pulumi.Input[str] | None = None,
) -> dict[str, pulumi.Input[str]]:
    """An internet-facing ALB sending to pod IPs, health-checked on /readyz; with a
    certificate, on HTTPS only; with a security group, reachable only as that group admits."""
    annotations: dict[str, pulumi.Input[str]] = {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
        "alb.ingress.kubernetes.io/success-codes": "200",
        "alb.ingress.kubernetes.io/load-balancer-attributes":
            "routing.http.drop_invalid_header_fields.enabled=true,idle_timeout.timeout_seconds=60",
        # Shorter than the pods' grace period, so a target drains before its pod exits.
        "alb.ingress.kubernetes.io/target-group-attributes":
            "deregistration_delay.timeout_seconds=30",
        "alb.ingress.kubernetes.io/tags": ",".join(f"{k}={v}" for k, v in sorted(tags.items())),
        f"alb.ingress.kubernetes.io/actions.{DENY_METRICS_ACTION}": json.dumps({
            "type": "fixed-response",
            "fixedResponseConfig": {"contentType": "text/plain", "statusCode": "404",
                                    "messageBody": "Not Found"},
        }),
    }
    if security_group_id is not None:
        annotations.update({
            "alb.ingress.kubernetes.io/security-groups": security_group_id,
            # The controller still opens the pods' security group to the ALB, through its
            # shared backend group, as it does for a group it made itself.
            "alb.ingress.kubernetes.io/manage-backend-security-group-rules": "true",
        })
    if certificate_arn is None:
        annotations["alb.ingress.kubernetes.io/listen-ports"] = json.dumps([{"HTTP": 80}])
        return annotations
    # No HTTP listener to redirect from: CloudFront, the only client, connects over HTTPS.
    annotations.update({
        "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTPS": HTTPS_PORT}]),
        "alb.ingress.kubernetes.io/certificate-arn": certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
    })
    return annotations


def ingress_spec(service_name: pulumi.Input[str], host: str | None = None,
                 ) -> k8s.networking.v1.IngressSpecArgs:
    def path(prefix: str, service: pulumi.Input[str], port: str
             ) -> k8s.networking.v1.HTTPIngressPathArgs:
        return k8s.networking.v1.HTTPIngressPathArgs(
            path=prefix, path_type="Prefix",
            backend=k8s.networking.v1.IngressBackendArgs(
                service=k8s.networking.v1.IngressServiceBackendArgs(
                    name=service, port=k8s.networking.v1.ServiceBackendPortArgs(name=port))),
        )
    return k8s.networking.v1.IngressSpecArgs(
        ingress_class_name="alb",
        rules=[k8s.networking.v1.IngressRuleArgs(
            host=host,
            http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[
                # The controller's convention: port "use-annotation" runs the named action.
                path("/metrics", DENY_METRICS_ACTION, "use-annotation"),
                path("/", service_name, PORT_NAME),
            ]))],
    )


def web_ingress_policy(
    load_balancer_cidrs: Sequence[pulumi.Input[str]], monitoring_namespace: str,
) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """Into the web pods, on the HTTP port only: from the ALB (its nodes live in the given
    subnets and reach pod IPs directly) and from Prometheus."""
    http = [kube.policy_port(HTTP_PORT)]
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=WEB_SELECTOR),
        policy_types=["Ingress"],
        ingress=[
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                from_=[k8s.networking.v1.NetworkPolicyPeerArgs(
                    ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))
                    for cidr in load_balancer_cidrs],
                ports=http),
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                from_=[kube.namespace_peer(monitoring_namespace, PROMETHEUS_POD_LABELS)],
                ports=http),
        ],
    )


def egress_policy(
    vpc_cidr: pulumi.Input[str], data_namespace: str | None,
) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """Out of every storefront pod (web and migrations): DNS, PostgreSQL and Redis inside
    the VPC (or the in-cluster data's namespace), and HTTPS for AWS APIs (S3, STS)."""
    data_peers = [k8s.networking.v1.NetworkPolicyPeerArgs(
        ip_block=k8s.networking.v1.IPBlockArgs(cidr=vpc_cidr))]
    if data_namespace is not None:
        data_peers.append(kube.namespace_peer(data_namespace))
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={"app.kubernetes.io/name": APP}),
        policy_types=["Egress"],
        egress=[
            kube.dns_egress(),
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=data_peers,
                ports=[kube.policy_port(POSTGRES_PORT), kube.policy_port(REDIS_PORT)]),
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[k8s.networking.v1.NetworkPolicyPeerArgs(
                    ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0"))],
                ports=[kube.policy_port(HTTPS_PORT)]),
        ],
    )
