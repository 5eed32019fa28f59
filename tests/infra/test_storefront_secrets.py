"""The storefront with a managed database: the password comes from the secret RDS keeps in
Secrets Manager, mounted by the Secrets Store CSI driver into the web pods and the migration
Job, read with least-privilege IAM roles. The exact inputs each resource receives."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest

from components.endpoints import DataEndpoints, postgres_url
from components.secret_store import ManagedPassword, secret_read_policy
from components.storefront import Storefront
from tests.infra.component_support import assert_refused, run_component
from tests.infra.test_storefront import (
    DEPLOYMENT,
    JOB,
    OUTPUTS,
    managed_endpoints,
    storefront_args,
)

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c-AbCdEf"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-000000000000"
SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PASSWORD_FILE = "/var/run/secrets/database/password"
VOLUME = {"name": "database-password", "csi": {
    "driver": "secrets-store.csi.k8s.io", "readOnly": True,
    "volumeAttributes": {"secretProviderClass": "database-password"}}}
MOUNT = {"name": "database-password", "mountPath": "/var/run/secrets/database",
         "readOnly": True}


def secret_store_endpoints() -> DataEndpoints:
    return dataclasses.replace(
        managed_endpoints(),
        database_url=pulumi.Output.from_input(
            "postgresql://shop_admin@db.example.internal:5432/shop?sslmode=require"),
        database_password=ManagedPassword(SECRET_ARN, KEY_ARN))


@pytest.fixture(scope="module")
def managed():
    return run_component(lambda: Storefront("storefront", storefront_args(
        data=secret_store_endpoints())), *OUTPUTS)


def pod_spec(recorded, token, name):
    return recorded.one(token, name).inputs["spec"]["template"]["spec"]


def test_url_without_password():
    assert postgres_url("shop_admin", None, "db", 5432, "shop", tls=True) == (
        "postgresql://shop_admin@db:5432/shop?sslmode=require")
    assert postgres_url("u", "p@ss", "db", 5432, "shop", tls=False) == (
        "postgresql://u:p%40ss@db:5432/shop")


def test_secret_provider_class_reads_only_the_password_field(managed):
    spc = managed.one(SPC, "storefront-database-password").inputs
    assert spc["metadata"]["name"] == "database-password"
    assert spc["metadata"]["namespace"] == "shop"
    assert spc["spec"]["provider"] == "aws"
    assert spc["spec"]["parameters"]["region"] == "eu-west-1"
    assert "usePodIdentity" not in spc["spec"]["parameters"]
    assert json.loads(spc["spec"]["parameters"]["objects"]) == [{
        "objectName": SECRET_ARN, "objectType": "secretsmanager",
        "jmesPath": [{"path": "password", "objectAlias": "password"}]}]
    # The CRD types parameters as map[string]string.
    assert all(isinstance(v, str) for v in spc["spec"]["parameters"].values())


def test_web_pods_and_migration_mount_the_password_file(managed):
    config = managed.one("kubernetes:core/v1:ConfigMap").inputs["data"]
    assert config["DATABASE_PASSWORD_FILE"] == PASSWORD_FILE
    for token, name in ((DEPLOYMENT, "storefront-deployment"), (JOB, "storefront-migrate")):
        spec = pod_spec(managed, token, name)
        assert VOLUME in spec["volumes"], name
        container, = spec["containers"]
        assert MOUNT in container["volumeMounts"], name
    assert pod_spec(managed, JOB, "storefront-migrate")["serviceAccountName"] == (
        "storefront-migrate")


def test_roles_read_that_secret_and_its_key_only(managed):
    policies = {r.name: json.loads(r.inputs["policy"]) for r in managed.of_type(ROLE_POLICY)}
    password = json.loads(secret_read_policy(SECRET_ARN, KEY_ARN, "eu-west-1"))
    assert policies["storefront-migrate-policy"] == password
    assert password["Statement"] == [
        {"Sid": "ReadDatabasePassword", "Effect": "Allow",
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
         "Resource": [SECRET_ARN]},
        {"Sid": "DecryptDatabasePassword", "Effect": "Allow", "Action": ["kms:Decrypt"],
         "Resource": [KEY_ARN], "Condition": {"StringEquals": {
             "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}}]
    web = policies["storefront-assets-policy"]["Statement"]
    assert {s["Sid"] for s in web} == {"ListAssets", "ReadWriteAssets", "ReadDatabasePassword",
                                       "DecryptDatabasePassword"}
    roles = {r.name: json.loads(r.inputs["assumeRolePolicy"])
             for r in managed.of_type("aws:iam/role:Role")}
    condition = roles["storefront-migrate-role"]["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:shop:storefront-migrate" in condition.values()
    account = managed.one("kubernetes:core/v1:ServiceAccount",
                          "storefront-migrate-service-account").inputs["metadata"]
    assert account["name"] == "storefront-migrate"
    assert account["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "arn:aws:iam::123456789012:role/storefront-migrate-role-")


def test_password_in_the_url_keeps_todays_shape():
    plain = run_component(lambda: Storefront("storefront", storefront_args()))
    assert plain.of_type(SPC) == []
    job = pod_spec(plain, JOB, "storefront-migrate")
    assert "serviceAccountName" not in job
    assert all("csi" not in volume for volume in job["volumes"])
    assert "DATABASE_PASSWORD_FILE" not in plain.one(
        "kubernetes:core/v1:ConfigMap").inputs["data"]


def test_a_managed_password_needs_an_iam_identity():
    args = storefront_args(data=secret_store_endpoints(), oidc=None, assets_bucket_arn=None,
                           assets_bucket_name=None)
    assert_refused(lambda: Storefront("storefront", args), "database_password")
