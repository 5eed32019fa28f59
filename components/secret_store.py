"""The database password from Secrets Manager into the storefront's pods, through the Secrets
Store CSI driver and its AWS provider (ASCP).

RDS owns the master password (manage_master_user_password): it creates the secret, encrypts
it with the database's KMS key and rotates it. Nothing of it passes through Pulumi. Each pod
that needs it (the web Deployment, the migration Job) mounts a CSI volume backed by one
SecretProviderClass; ASCP fetches the secret with the pod's own IAM role (IRSA: the service
account's annotation; Pod Identity: its association) and writes only its `password` field to
a file. The driver re-fetches every rotation poll interval and rewrites the file, and the app
reads the file for each new connection (app/db_credentials.py), so a rotation needs no
restart. No Kubernetes Secret holds a copy (the driver's sync is off).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as kube

CSI_DRIVER = "secrets-store.csi.k8s.io"
SPC_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
VOLUME = "database-password"
MOUNT_DIR = "/var/run/secrets/database"
PASSWORD_FILE = f"{MOUNT_DIR}/password"
# How soon a rotated password reaches the pods' files (the old one stays valid meanwhile:
# RDS rotation changes it once, and open connections are not cut).
ROTATION_POLL_INTERVAL = "2m"


@dataclass(frozen=True)
class ManagedPassword:
    """An RDS-managed master password: the secret RDS keeps it in and the key encrypting it."""

    secret_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


def provider_values() -> dict[str, Any]:
    """ASCP with the driver as its subchart: rotation on, no sync to Kubernetes Secrets, and
    the driver asking for tokens of both audiences (IRSA's and Pod Identity's)."""
    return {
        "secrets-store-csi-driver": {
            "install": True,
            "enableSecretRotation": True,
            "rotationPollInterval": ROTATION_POLL_INTERVAL,
            "syncSecret": {"enabled": False},
            "tokenRequests": [{"audience": "sts.amazonaws.com"},
                              {"audience": "pods.eks.amazonaws.com"}],
        },
    }


def secret_read_policy(secret_arn: str, kms_key_arn: str, region: str) -> str:
    """Read that one secret, and decrypt with its key only on Secrets Manager's behalf."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadDatabasePassword", "Effect": "Allow",
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
         "Resource": [secret_arn]},
        {"Sid": "DecryptDatabasePassword", "Effect": "Allow", "Action": ["kms:Decrypt"],
         "Resource": [kms_key_arn],
         "Condition": {"StringEquals": {
             "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
    ]}, sort_keys=True, separators=(",", ":"))


def combined_policy(*documents: str) -> str:
    """One document with every statement of `documents` (a role keeps one inline policy)."""
    statements = [s for document in documents for s in json.loads(document)["Statement"]]
    return json.dumps({"Version": "2012-10-17", "Statement": statements},
                      sort_keys=True, separators=(",", ":"))


def provider_objects(secret_arn: str) -> str:
    """ASCP's `objects` parameter: only the secret's `password` field, as the file
    `password` (RDS's secret is {"username": ..., "password": ...})."""
    return json.dumps([{"objectName": secret_arn, "objectType": "secretsmanager",
                        "jmesPath": [{"path": "password", "objectAlias": "password"}]}])


def provider_parameters(secret_arn: str, region: str, pod_identity: bool) -> dict[str, str]:
    parameters = {"objects": provider_objects(secret_arn), "region": region}
    if pod_identity:
        parameters["usePodIdentity"] = "true"
    return parameters


def secret_provider_class(name: str, namespace: pulumi.Input[str], password: ManagedPassword,
                          region: str, pod_identity: bool, labels: dict[str, str],
                          parent: pulumi.Resource) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name,
        api_version=SPC_API_VERSION,
        kind="SecretProviderClass",
        metadata=kube.metadata(VOLUME, namespace, labels),
        spec={"provider": "aws",
              "parameters": pulumi.Output.from_input(password.secret_arn).apply(
                  lambda arn: provider_parameters(arn, region, pod_identity))},
        opts=pulumi.ResourceOptions(parent=parent))


def password_volume(provider_class: pulumi.Input[str]) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(name=VOLUME, csi=k8s.core.v1.CSIVolumeSourceArgs(
        driver=CSI_DRIVER, read_only=True,
        volume_attributes={"secretProviderClass": provider_class}))


def password_mount() -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=VOLUME, mount_path=MOUNT_DIR, read_only=True)
