"""PostgreSQL and Redis in the cluster, under the mock engine: the objects they run as, the
URLs they hand the storefront, and that the storefront doesn't notice which data tier it got."""

from __future__ import annotations

import dataclasses
import json
import re

import pulumi
import pytest

from components.endpoints import postgres_url, redis_url
from components.in_cluster_data import InClusterData, InClusterDataArgs, service_host
from components.k8s import Resources
from components.storefront import Storefront
from stacks.plan.mocks import ACCOUNT_ID, SECRET, run_under_mocks
from stacks.policy import Context, check
from tests.infra.component_support import all_inputs, assert_no_secret_values, assert_refused
from tests.infra.test_storefront import managed_endpoints, storefront_args

TOKEN = "shop:in-cluster-data:InClusterData"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
REGISTRY = f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com"
POSTGRES_IMAGE = f"{REGISTRY}/shop-dev/storefront@sha256:{'1' * 64}"
REDIS_IMAGE = f"{REGISTRY}/shop-dev/storefront@sha256:{'2' * 64}"
ARGS = InClusterDataArgs(namespace="shop-data", client_namespace="shop",
                         postgres_image=POSTGRES_IMAGE, redis_image=REDIS_IMAGE)
PG = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}
REDIS = {"app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "cache"}
STOREFRONT_PODS = {"app.kubernetes.io/name": "storefront"}


def run_data(args: InClusterDataArgs = ARGS):
    """The component, with its URLs exported in clear so the test can read them."""
    def program() -> None:
        data = InClusterData("data", args)
        pulumi.export("database_url", pulumi.Output.unsecret(data.endpoints.database_url))
        pulumi.export("redis_url", pulumi.Output.unsecret(data.endpoints.redis_url))
        pulumi.export("namespace", data.namespace)

    return run_under_mocks(program)


@pytest.fixture(scope="module")
def data():
    return run_data()


def container(recorded, token, name):
    spec = recorded.one(token, name).inputs["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


def test_pure_parts() -> None:
    assert postgres_url("shop", "pw", "h", 5432, "db", tls=False) == (
        "postgresql://shop:pw@h:5432/db")
    assert postgres_url("shop", "p@ss/w", "h", 5432, "db", tls=True) == (
        "postgresql://shop:p%40ss%2Fw@h:5432/db?sslmode=require")
    assert redis_url("pw", "h", 6379, tls=False) == "redis://:pw@h:6379/0"
    assert redis_url("pw", "h", 6379, tls=True) == "rediss://:pw@h:6379/0"
    assert service_host("redis", "preview-7-data") == "redis.preview-7-data.svc.cluster.local"


def test_endpoints_point_at_the_services_with_generated_passwords(data):
    assert re.fullmatch(r"postgresql://shop:mock-secret-[0-9a-f]+"
                        r"@postgres\.shop-data\.svc\.cluster\.local:5432/shop",
                        data.outputs["database_url"])
    assert re.fullmatch(r"redis://:mock-secret-[0-9a-f]+"
                        r"@redis\.shop-data\.svc\.cluster\.local:6379/0",
                        data.outputs["redis_url"])
    assert data.outputs["namespace"] == "shop-data"


def test_credentials_live_in_secrets_only(data):
    assert "mock-secret-" not in all_inputs(data)
    secrets = {r.inputs["metadata"]["name"]: r.inputs
               for r in data.of_type("kubernetes:core/v1:Secret")}
    assert set(secrets) == {"postgres-credentials", "redis-credentials"}
    assert all(s["stringData"] == SECRET for s in secrets.values())


def test_postgres_statefulset_with_a_gp3_volume(data):
    stateful = data.one(STATEFUL_SET).inputs["spec"]
    assert stateful["serviceName"] == "postgres" and stateful["replicas"] == 1
    claim, = stateful["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                             "resources": {"requests": {"storage": "10Gi"}}}
    assert stateful["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete", "whenScaled": "Retain"}
    pod, postgres = container(data, STATEFUL_SET, "data-postgres")
    assert postgres["image"] == POSTGRES_IMAGE
    assert {e["name"]: e.get("value", e.get("valueFrom")) for e in postgres["env"]} == {
        "POSTGRES_USER": "shop", "POSTGRES_DB": "shop",
        "POSTGRES_PASSWORD": {"secretKeyRef": {"name": "postgres-credentials",
                                               "key": "password"}},
        "PGDATA": "/var/lib/postgresql/data/pgdata"}
    ready = {"exec": {"command": ["pg_isready", "-U", "shop", "-d", "shop", "-h", "127.0.0.1",
                                  "-p", "5432"]}}
    assert postgres["readinessProbe"] == {**ready, "periodSeconds": 10, "failureThreshold": 3,
                                          "timeoutSeconds": 3}
    assert postgres["livenessProbe"]["exec"] == ready["exec"]
    assert postgres["startupProbe"]["failureThreshold"] * postgres["startupProbe"][
        "periodSeconds"] == 300
    assert postgres["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"},
                                     "limits": {"cpu": "1", "memory": "1Gi"}}
    assert {m["mountPath"] for m in postgres["volumeMounts"]} == {
        "/var/lib/postgresql/data", "/var/run/postgresql", "/tmp", "/dev/shm"}
    assert pod["securityContext"]["runAsUser"] == 999


def test_keep_volume_retains_the_claim():
    recorded = run_data(dataclasses.replace(ARGS, keep_volume=True, storage_size="50Gi"))
    stateful = recorded.one(STATEFUL_SET).inputs["spec"]
    assert stateful["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    assert stateful["volumeClaimTemplates"][0]["spec"]["resources"] == {
        "requests": {"storage": "50Gi"}}


def test_redis_deployment_authenticates_without_a_password_in_its_spec(data):
    deployment = data.one(DEPLOYMENT).inputs["spec"]
    assert deployment["strategy"] == {"type": "Recreate"}
    _, redis = container(data, DEPLOYMENT, "data-redis")
    assert redis["image"] == REDIS_IMAGE
    assert redis["args"][:2] == ["--requirepass", "$(REDIS_PASSWORD)"]
    assert redis["args"][redis["args"].index("--maxmemory") + 1] == "192mb"
    from_secret = {"secretKeyRef": {"name": "redis-credentials", "key": "password"}}
    assert redis["env"] == [{"name": "REDIS_PASSWORD", "valueFrom": from_secret},
                            {"name": "REDISCLI_AUTH", "valueFrom": from_secret}]
    ping = ["sh", "-c", "redis-cli -h 127.0.0.1 ping | grep -q PONG"]
    assert all(redis[probe]["exec"]["command"] == ping
               for probe in ("startupProbe", "readinessProbe", "livenessProbe"))
    assert redis["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}


@pytest.mark.parametrize("name", ["data-postgres", "data-redis"])
def test_pods_are_hardened(data, name):
    pod, box = container(data, STATEFUL_SET if name.endswith("postgres") else DEPLOYMENT, name)
    assert pod["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 999, "runAsGroup": 999, "fsGroup": 999,
        "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}
    assert box["securityContext"]["readOnlyRootFilesystem"] is True
    assert box["securityContext"]["allowPrivilegeEscalation"] is False
    assert box["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["automountServiceAccountToken"] is False


def test_services(data):
    services = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in data.of_type("kubernetes:core/v1:Service")}
    assert services == {
        "postgres": {"type": "ClusterIP", "clusterIP": "None", "selector": PG, "ports": [
            {"name": "postgres", "port": 5432, "targetPort": "postgres", "protocol": "TCP"}]},
        "redis": {"type": "ClusterIP", "selector": REDIS, "ports": [
            {"name": "redis", "port": 6379, "targetPort": "redis", "protocol": "TCP"}]},
    }


def test_workloads_start_under_their_network_policies(data):
    policies = {p.urn for p in data.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert len(policies) == 3
    for token in (STATEFUL_SET, DEPLOYMENT):
        assert policies <= set(data.one(token).options.dependencies)


def test_only_storefront_pods_reach_the_data(data):
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in data.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    client = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
              "podSelector": {"matchLabels": STOREFRONT_PODS}}
    assert policies == {
        "default-deny": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        "postgres-ingress": {"podSelector": {"matchLabels": PG}, "policyTypes": ["Ingress"],
                             "ingress": [{"from": [client],
                                          "ports": [{"port": 5432, "protocol": "TCP"}]}]},
        "redis-ingress": {"podSelector": {"matchLabels": REDIS}, "policyTypes": ["Ingress"],
                          "ingress": [{"from": [client],
                                       "ports": [{"port": 6379, "protocol": "TCP"}]}]},
    }
    namespace = data.one("kubernetes:core/v1:Namespace").inputs["metadata"]
    assert namespace["name"] == "shop-data"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_meets_the_platform_policies(data):
    assert check(data.resources, Context(environment="dev", registry_host=REGISTRY)) == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"namespace": "shop"}, "namespace"),
    ({"client_namespace": "Shop"}, "client_namespace"),
    ({"postgres_image": "postgres:17.6-bookworm"}, "postgres_image"),
    ({"redis_image": f"{REGISTRY}/x:mirror-redis"}, "redis_image"),
    ({"storage_size": "10 GB"}, "storage_size"),
    ({"database_user": "Shop-User"}, "database_user"),
    ({"redis_max_memory_mb": 240}, "redis_max_memory_mb"),
    ({"postgres_resources": Resources("1", "2Gi", "1", "1Gi")}, "postgres_resources"),
])
def test_refuses_bad_arguments_before_any_resource(overrides, field):
    assert_refused(lambda: InClusterData("data", dataclasses.replace(ARGS, **overrides)), field)


def storefront_over(data_tier: str):
    """The same Storefront arguments over either data tier."""
    def program() -> None:
        if data_tier == "in-cluster":
            endpoints = InClusterData("data", ARGS).endpoints
        else:
            endpoints = managed_endpoints()
        Storefront("storefront", storefront_args(data=endpoints, namespace="shop"))

    return run_under_mocks(program)


def storefront_children(recorded):
    return {(r.type, r.name): r for r in recorded.resources if "Storefront$" in r.urn}


def test_the_data_tier_switches_cleanly():
    managed, in_cluster = storefront_over("managed"), storefront_over("in-cluster")
    before, after = storefront_children(managed), storefront_children(in_cluster)
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key].inputs != after[key].inputs}
    # Only the egress policy learns where the data lives; the Secret is masked in both.
    assert changed == {("kubernetes:networking.k8s.io/v1:NetworkPolicy", "storefront-egress")}
    egress = after[("kubernetes:networking.k8s.io/v1:NetworkPolicy", "storefront-egress")]
    assert egress.inputs["spec"]["egress"][1]["to"] == [
        {"ipBlock": {"cidr": "10.20.0.0/16"}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop-data"}}}]
    # The storefront's Secret waits for PostgreSQL and Redis to be rolled out, so the
    # migration Job never starts against a database that isn't there yet.
    secret = after[("kubernetes:core/v1:Secret", "storefront-secrets")]
    waited = {urn.rsplit("::", 1)[1] for urn in secret.options.dependencies}
    assert {"data-postgres", "data-redis", "data-postgres-service",
            "data-redis-service"} <= waited
    assert_no_secret_values(in_cluster)
    assert "mock-secret-" not in json.dumps(in_cluster.outputs)
