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
from components.storefront_pod import APP, HTTP_PORT, PORT_NAME, READINESS_PATH, WEB_SELECTOR

HTTPS_PORT = 443
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
# The ALB answers /metrics itself, so the scrape endpoint never reaches the internet.
DENY_METRICS_ACTION = "deny-metrics"
# With an origin secret, what the ALB answers a request that lacks it.
FORBIDDEN_ACTION = "forbidden"
# The header CloudFront adds to every request it sends the storefront (components/cdn.py).
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Above the live channel's 15 s heartbeat, so an open stream never looks idle; below
# gunicorn's 75 s keep-alive, so the balancer closes idle connections first (no 502s).
ALB_IDLE_TIMEOUT_SECONDS = 60


def _fixed_response(status: str, body: str) -> str:
    return json.dumps({"type": "fixed-response", "fixedResponseConfig": {
        "contentType": "text/plain", "statusCode": status, "messageBody": body}})


def ingress_annotations(
    certificate_arn: pulumi.Input[str] | None, tags: Mapping[str, str],
    security_group_id: pulumi.Input[str] | None = None,
) -> dict[str, pulumi.Input[str]]:
    """An internet-facing ALB sending to pod IPs, health-checked on readiness; with a
    certificate, on HTTPS only; with a security group, reachable only as that group admits."""
    annotations: dict[str, pulumi.Input[str]] = {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": READINESS_PATH,
        "alb.ingress.kubernetes.io/success-codes": "200",
        "alb.ingress.kubernetes.io/load-balancer-attributes":
            "routing.http.drop_invalid_header_fields.enabled=true,"
            f"idle_timeout.timeout_seconds={ALB_IDLE_TIMEOUT_SECONDS}",
        # Shorter than the pods' grace period, so a target drains before its pod exits.
        "alb.ingress.kubernetes.io/target-group-attributes":
            "deregistration_delay.timeout_seconds=30",
        "alb.ingress.kubernetes.io/tags": ",".join(f"{k}={v}" for k, v in sorted(tags.items())),
        f"alb.ingress.kubernetes.io/actions.{DENY_METRICS_ACTION}":
            _fixed_response("404", "Not Found"),
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


def origin_condition(secret: str) -> str:
    """The controller's rule condition: the header carries exactly the secret (the ALB
    compares case-insensitively and reads * and ? as wildcards, which the secret never holds)."""
    return json.dumps([{"field": "http-header", "httpHeaderConfig": {
        "httpHeaderName": ORIGIN_VERIFY_HEADER, "values": [secret]}}])


def origin_verify_annotations(service_name: str, secret: pulumi.Input[str],
                              ) -> dict[str, pulumi.Input[str]]:
    """The ALB forwards to the service only requests carrying CloudFront's secret header; the
    rest meet the listener's default action, a 403 (see `ingress_spec`). The security group
    already admits CloudFront's addresses alone, but those are shared by every distribution:
    without the header, anyone's distribution could reach the ALB around our web ACL.

    The value ends up in the Ingress's annotations, in the cluster: readable by whoever may
    read Ingresses in the namespace, and in etcd without the envelope encryption Secrets get
    (the controller reads conditions from annotations only). Acceptable: it opens no data and
    no system, it only marks a request as having passed our CloudFront and its web ACL, and
    whoever can read the Ingress can reach the pods from inside the cluster anyway. In Pulumi
    it stays a secret. Rotate it by replacing the Cdn's generated value."""
    return {
        f"alb.ingress.kubernetes.io/conditions.{service_name}":
            pulumi.Output.secret(secret).apply(origin_condition),
        f"alb.ingress.kubernetes.io/actions.{FORBIDDEN_ACTION}":
            _fixed_response("403", "Forbidden"),
    }


def _action_backend(action: str) -> k8s.networking.v1.IngressBackendArgs:
    """The controller's convention: port "use-annotation" runs the action of that name."""
    return k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=action, port=k8s.networking.v1.ServiceBackendPortArgs(name="use-annotation")))


def ingress_spec(service_name: pulumi.Input[str], host: str | None = None,
                 verified_origin: bool = False) -> k8s.networking.v1.IngressSpecArgs:
    """With `verified_origin`, the listener's default action (what no rule matched, including
    a request without the origin header) is a 403 instead of the controller's 404."""
    def path(prefix: str, backend: k8s.networking.v1.IngressBackendArgs,
             ) -> k8s.networking.v1.HTTPIngressPathArgs:
        return k8s.networking.v1.HTTPIngressPathArgs(path=prefix, path_type="Prefix",
                                                     backend=backend)
    service = k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=service_name, port=k8s.networking.v1.ServiceBackendPortArgs(name=PORT_NAME)))
    return k8s.networking.v1.IngressSpecArgs(
        ingress_class_name="alb",
        default_backend=_action_backend(FORBIDDEN_ACTION) if verified_origin else None,
        rules=[k8s.networking.v1.IngressRuleArgs(
            host=host,
            http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[
                path("/metrics", _action_backend(DENY_METRICS_ACTION)),
                path("/", service),
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


def _ip_peer(cidr: pulumi.Input[str]) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))


def https_peers(vpc_cidr: pulumi.Input[str], s3_cidrs: pulumi.Input[Sequence[str]],
                ) -> pulumi.Output[list[k8s.networking.v1.NetworkPolicyPeerArgs]]:
    """Where the pods' AWS calls go. The VPC: the interface endpoints (STS for IRSA, and the
    others) have addresses in the private subnets, which change with their network
    interfaces. S3: the gateway endpoint routes S3's public addresses, listed in AWS's prefix
    list; a NetworkPolicy cannot name a prefix list, so its CIDRs are copied in, read again at
    every preview and update. (The alternative, 0.0.0.0/0 minus private ranges, would let the
    pods reach the whole internet through the NAT gateways.)"""
    return pulumi.Output.all(vpc_cidr, s3_cidrs).apply(
        lambda known: [_ip_peer(cidr) for cidr in [known[0], *sorted(set(known[1]))]])


def egress_policy(
    vpc_cidr: pulumi.Input[str], data_namespace: str | None,
    s3_cidrs: pulumi.Input[Sequence[str]] | None = None,
) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """Out of every storefront pod (web and migrations): DNS, PostgreSQL and Redis inside
    the VPC (or the in-cluster data's namespace), and, for pods with AWS access (`s3_cidrs`
    given), HTTPS to the VPC's endpoints and S3. Nothing else: no internet."""
    data_peers = [_ip_peer(vpc_cidr)]
    if data_namespace is not None:
        data_peers.append(kube.namespace_peer(data_namespace))
    rules = [
        kube.dns_egress(),
        k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            to=data_peers,
            ports=[kube.policy_port(POSTGRES_PORT), kube.policy_port(REDIS_PORT)]),
    ]
    if s3_cidrs is not None:
        rules.append(k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            to=https_peers(vpc_cidr, s3_cidrs), ports=[kube.policy_port(HTTPS_PORT)]))
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={"app.kubernetes.io/name": APP}),
        policy_types=["Egress"],
        egress=rules,
    )
