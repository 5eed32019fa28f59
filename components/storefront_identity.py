"""Who the storefront's pods are to AWS: their service accounts, the IAM roles behind them and
what those roles may do, and the SecretProviderClass that mounts the database password.

The web pods' role reads and writes the assets bucket and, for a managed database, reads the
password's secret; the migration Job has an account and role of its own that read that
secret and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import k8s as kube
from components import secret_store
from components.irsa import IrsaRoleArgs, OidcProvider, irsa_role, role_annotations
from components.storefront_pod import APP, MIGRATE_ACCOUNT, MIGRATE_LABELS, WEB_LABELS
from components.workload_policies import assets_bucket_policy

if TYPE_CHECKING:
    from components.storefront import StorefrontArgs


def service_account(name: str, account: str, ns: pulumi.Input[str], labels: Mapping[str, str],
                    role: aws.iam.Role | None, oidc: OidcProvider | None,
                    parent: pulumi.Resource) -> k8s.core.v1.ServiceAccount:
    """IRSA's annotations when the account has a role of that shape; with Pod Identity none
    (irsa_role made the association)."""
    annotations = (role_annotations(oidc, role.arn)
                   if role is not None and oidc is not None else None)
    return k8s.core.v1.ServiceAccount(
        name,
        metadata=kube.metadata(account, ns, labels, annotations or None),
        automount_service_account_token=False, opts=pulumi.ResourceOptions(parent=parent))


def password_policy(args: StorefrontArgs) -> pulumi.Output[str] | None:
    password = args.data.database_password
    if password is None:
        return None
    return pulumi.Output.all(password.secret_arn, password.kms_key_arn).apply(
        lambda v: secret_store.secret_read_policy(v[0], v[1], args.region))


def password_class(name: str, args: StorefrontArgs, ns: pulumi.Input[str],
                   parent: pulumi.Resource) -> pulumi.Output[str] | None:
    """The SecretProviderClass both pods mount, or None when the URLs carry the password."""
    if args.data.database_password is None:
        return None
    provider_class = secret_store.secret_provider_class(
        f"{name}-database-password", ns, args.data.database_password, args.region,
        pod_identity=args.oidc is not None and args.oidc.pod_identity, labels=WEB_LABELS,
        parent=parent)
    # pulumi_kubernetes' CustomResource declares no output properties, yet the SDK sets
    # `metadata` on it at runtime (an Output of the object's metadata): the stubs are wrong.
    metadata: pulumi.Output[Any] = provider_class.metadata  # type: ignore[attr-defined]
    return metadata["name"]


def web_role(name: str, args: StorefrontArgs, parent: pulumi.Resource) -> aws.iam.Role | None:
    """The assets bucket and, for a managed database, its password's secret."""
    if args.oidc is None or args.assets_bucket_arn is None:
        return None
    assets = pulumi.Output.from_input(args.assets_bucket_arn).apply(assets_bucket_policy)
    password = password_policy(args)
    policy = assets if password is None else pulumi.Output.all(assets, password).apply(
        lambda documents: secret_store.combined_policy(*documents))
    return irsa_role(f"{name}-assets", IrsaRoleArgs(
        oidc=args.oidc, namespace=args.namespace, service_account=APP, tags=args.tags,
        inline_policy=policy), parent)


def migrate_account(name: str, args: StorefrontArgs, ns: pulumi.Input[str],
                    parent: pulumi.Resource) -> pulumi.Output[str] | None:
    """Migrations read the password's secret and nothing else: their own account and role,
    not the web pods' (which also write the assets bucket). None: the default account."""
    policy = password_policy(args)
    if policy is None or args.oidc is None:
        return None
    role = irsa_role(f"{name}-migrate", IrsaRoleArgs(
        oidc=args.oidc, namespace=args.namespace, service_account=MIGRATE_ACCOUNT,
        tags=args.tags, inline_policy=policy), parent)
    return service_account(f"{name}-migrate-service-account", MIGRATE_ACCOUNT, ns,
                           MIGRATE_LABELS, role, args.oidc, parent).metadata.name
