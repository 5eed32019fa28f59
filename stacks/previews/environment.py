"""Preview environments: a pull request's storefront on the dev cluster, for a few days.

A stack named `preview-<id>` (shop:environment preview) has no platform of its own: no VPC,
cluster, database or CDN, and no AWS resource at all. It reads its base stack (shop:baseStack,
e.g. `acme/shop/dev`) through a StackReference and deploys into that stack's cluster:

- namespace `preview-<id>`: the storefront, its image built from this checkout and pushed to
  the base stack's registry as `preview-<id>-<imageVersion>`, answering at
  `pr-<id>.<previewDomain>`;
- namespace `preview-<id>-data`: PostgreSQL and Redis, from the copies the base stack keeps in
  its registry (pushing them again per preview would collide on the immutable tags);
- both namespaces labelled `shop/preview=<id>` and `shop/expires-at=<time>`, computed from
  shop:previewCreatedAt + shop:previewTtlDays so that a plan stays deterministic, for a reaper
  (and `python -m stacks preview list`) to find what is overdue.

`python -m stacks plan preview-<id>` works offline without a stack file: `generated_config`
derives the config from the base stack's file, as `python -m stacks preview up` does.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.image import DEFAULT_PLATFORMS, ImageArgs, StorefrontImage
from components.in_cluster_data import InClusterData, InClusterDataArgs
from components.storefront import Storefront, StorefrontArgs
from stacks.settings import Settings, SettingsError
from stacks.settings.fields import TIMESTAMP_FORMAT

STACK_PREFIX = "preview-"
# Preview ids become DNS labels (`pr-<id>`, `preview-<id>-data`): short, lowercase.
ID_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?")
PREVIEW_LABEL = "shop/preview"
EXPIRES_AT_LABEL = "shop/expires-at"
# Label values allow no ':'; ISO 8601's basic format needs none.
LABEL_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
# The stack whose file offline plans derive a preview's config from.
BASE_STACK = "dev"
# Offline plans of a preview use a fixed creation time, so they are byte-identical.
OFFLINE_CREATED_AT = "2000-01-01T00:00:00Z"
# shop:azCount is 2 or 3: the base VPC has at most three public subnets.
MAX_AZS = 3
# Copied from the base stack's config: where the preview runs, and who pays for it.
INHERITED_KEYS = ("aws:region", "shop:owner", "shop:costCenter", "shop:previewDomain")


def preview_id(stack: str) -> str | None:
    """`preview-42` -> `42`; None for a name that is not a preview stack."""
    if not stack.startswith(STACK_PREFIX):
        return None
    candidate = stack.removeprefix(STACK_PREFIX)
    return candidate if ID_PATTERN.fullmatch(candidate) else None


def stack_name(id_: str) -> str:
    if not ID_PATTERN.fullmatch(id_):
        raise ValueError(f"a preview id must be 1-20 lowercase letters, digits or '-' (not at "
                         f"either end), like a pull request number, got {id_!r}")
    return f"{STACK_PREFIX}{id_}"


def host(id_: str, domain: str) -> str:
    return f"pr-{id_}.{domain}"


def expires_at(created_at: str, ttl_days: int) -> datetime.datetime:
    created = datetime.datetime.strptime(created_at, TIMESTAMP_FORMAT)
    return created.replace(tzinfo=datetime.UTC) + datetime.timedelta(days=ttl_days)


def namespace_labels(id_: str, created_at: str, ttl_days: int) -> dict[str, str]:
    expiry = expires_at(created_at, ttl_days).strftime(LABEL_TIME_FORMAT)
    return {PREVIEW_LABEL: id_, EXPIRES_AT_LABEL: expiry}


def image_version(id_: str, version: str) -> str:
    """The tag in the base stack's registry: never one the base stack itself pushes."""
    return f"{STACK_PREFIX}{id_}-{version}"


def generated_config(stack: str, base_config: Mapping[str, Any], base_stack: str,
                     created_at: str = OFFLINE_CREATED_AT) -> dict[str, Any]:
    """A preview stack's config, from its base stack's config (Pulumi.<base>.yaml)."""
    if preview_id(stack) is None:
        raise ValueError(f"{stack!r} is not a preview stack: preview-<id>, with an id of 1-20 "
                         "lowercase letters, digits or '-', like preview-42")
    inherited = {key: base_config[key] for key in INHERITED_KEYS if key in base_config}
    return {**inherited, "shop:environment": "preview", "shop:baseStack": base_stack,
            "shop:previewCreatedAt": created_at}


@dataclass(frozen=True)
class PreviewEnvironment:
    id: str
    url: str
    namespace: str
    created_at: str
    expires_at: str
    image: StorefrontImage
    data: InClusterData
    storefront: Storefront


def build(settings: Settings) -> PreviewEnvironment:
    """The preview's resources on its base stack's cluster, and its exports."""
    id_ = _checked_id(settings)
    preview = settings.preview
    base = pulumi.StackReference("base", stack_name=preview.base_stack)
    # Every Kubernetes object goes to the base stack's cluster, nowhere else.
    on_cluster = pulumi.ResourceOptions(providers=[k8s.Provider(
        "base-cluster", kubeconfig=base.require_output("kubeconfig"))])
    labels = namespace_labels(id_, preview.created_at, preview.ttl_days)
    image = _image(id_, settings, base)
    data = InClusterData("data", InClusterDataArgs(
        namespace=f"{stack_name(id_)}-data",
        client_namespace=stack_name(id_),
        postgres_image=base.require_output("postgresImage"),
        redis_image=base.require_output("redisImage"),
        namespace_labels=labels,
        keep_volume=False,  # the data goes with the preview
    ), opts=on_cluster)
    storefront = _storefront(id_, settings, base, image, data, labels, on_cluster)
    environment = PreviewEnvironment(
        id_, f"http://{host(id_, preview.domain)}", stack_name(id_), preview.created_at,
        expires_at(preview.created_at, preview.ttl_days).strftime(TIMESTAMP_FORMAT),
        image, data, storefront)
    _export(environment, preview.base_stack)
    return environment


def _image(id_: str, settings: Settings, base: pulumi.StackReference) -> StorefrontImage:
    """This checkout's storefront, pushed to the base stack's repository."""
    repository_url = base.require_output("repositoryUrl")
    return StorefrontImage("storefront-image", ImageArgs(
        repository_url=repository_url,
        registry_id=repository_url.apply(_registry_account),
        version=image_version(id_, settings.storefront.image_version),
        platforms=base_platforms(base)))


def base_platforms(base: pulumi.StackReference) -> pulumi.Output[list[str]]:
    """The platforms of the base cluster's nodes (its `imagePlatforms` output): a preview's
    image must run there, whatever this stack's own settings say. A base stack deployed before
    that output existed ran x86_64 nodes only."""
    return base.get_output("imagePlatforms").apply(
        lambda platforms: list(platforms) if platforms else list(DEFAULT_PLATFORMS))


def _storefront(id_: str, settings: Settings, base: pulumi.StackReference,
                image: StorefrontImage, data: InClusterData, labels: Mapping[str, str],
                on_cluster: pulumi.ResourceOptions) -> Storefront:
    hostname = host(id_, settings.preview.domain)
    return Storefront("storefront", StorefrontArgs(
        image_ref=image.ref,
        data=data.endpoints,
        # No assets bucket, so no IAM role: a preview has no AWS resource of its own.
        oidc=None,
        assets_bucket_arn=None,
        assets_bucket_name=None,
        vpc_cidr=base.require_output("vpcCidr"),
        load_balancer_cidrs=_load_balancer_cidrs(base),
        public_base_url=f"http://{hostname}",
        host=hostname,
        region=settings.region,
        tags=settings.tags,
        namespace=stack_name(id_),
        namespace_labels=labels,
        # Only the ALB appends to X-Forwarded-For: no CloudFront in front of a preview.
        trusted_proxy_count=1,
        min_replicas=settings.storefront.min_replicas,
        max_replicas=settings.storefront.max_replicas,
    ), opts=on_cluster)


def _checked_id(settings: Settings) -> str:
    """The preview's id, once every setting a preview needs is there: all problems at once."""
    id_ = preview_id(settings.stack)
    problems = []
    if id_ is None:
        problems.append(f"stack {settings.stack!r} is a preview environment, so its name must "
                        "be preview-<id> with an id of 1-20 lowercase letters, digits or '-', "
                        "like preview-42")
    elif len(image_version(id_, settings.storefront.image_version)) > 128:
        problems.append(f"shop:imageVersion is too long for the tag "
                        f"{image_version(id_, '<imageVersion>')} (at most 128 characters)")
    if not settings.preview.domain:
        problems.append("shop:previewDomain must be set for a preview: its storefront answers "
                        "at pr-<id>.<previewDomain>")
    if not settings.preview.created_at:
        problems.append("shop:previewCreatedAt must be set for a preview, like "
                        "'2026-05-01T12:00:00Z': it expires shop:previewTtlDays later")
    if problems or id_ is None:
        raise SettingsError(problems)
    return id_


def _registry_account(repository_url: str) -> str:
    """`123456789012.dkr.ecr.<region>.amazonaws.com/<name>` -> `123456789012`."""
    return repository_url.split(".", 1)[0]


def _load_balancer_cidrs(base: pulumi.StackReference) -> list[pulumi.Output[str]]:
    """The base VPC's public subnets, where the ALB's nodes live. A NetworkPolicy needs the
    list before the reference resolves, so it takes as many as the VPC can have, repeating the
    first for a missing one (a repeated peer admits nothing more)."""
    cidrs = base.require_output("loadBalancerCidrs")
    return [cidrs.apply(_nth_or_first(i)) for i in range(MAX_AZS)]


def _nth_or_first(index: int) -> Callable[[list[str]], str]:
    return lambda values: values[index] if index < len(values) else values[0]


def _export(environment: PreviewEnvironment, base_stack: str) -> None:
    pulumi.export("url", environment.url)
    pulumi.export("namespace", environment.namespace)
    pulumi.export("createdAt", environment.created_at)
    pulumi.export("expiresAt", environment.expires_at)
    pulumi.export("baseStack", base_stack)
    pulumi.export("storefrontImage", environment.image.ref)
