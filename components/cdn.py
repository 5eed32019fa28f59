"""The storefront's edge: CloudFront in front of a private S3 bucket for `/static/*` and of the
storefront's load balancer for everything else, HTTPS only, with security headers and access
logs. Every request to the load balancer carries a generated secret in X-Origin-Verify, which
the ALB requires (components/storefront_network.py): only this distribution, behind its web
ACL, gets through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.arg_checks import (
    require_choice,
    require_hostnames,
    require_range,
    require_tags,
    with_name,
)
from components.buckets import private_bucket
from components.policies_json import cloudfront_assets_bucket_policy, tls_only_bucket_policy

PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
STATIC_PATH = "/static/*"
LIVE_PATH = "/live/*"  # the storefront's Server-Sent Events (app/live)
# How long CloudFront waits for the origin's first byte and between two bytes: above the
# live stream's 15 s heartbeat with room to spare (60 s is the most without a quota raise).
ORIGIN_READ_TIMEOUT_SECONDS = 60
ASSETS_ORIGIN, STOREFRONT_ORIGIN = "assets", "storefront"
# AWS managed policies, by their documented, fixed ids (a lookup would cost a call per run).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD"]
HSTS_MAX_AGE_SECONDS = 63_072_000  # two years, as the HSTS preload list asks
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
ORIGIN_SECRET_LENGTH = 64


@dataclass(frozen=True)
class CdnArgs:
    # The storefront's load balancer, reached over HTTPS only: a host name its listener holds a
    # certificate for (an ELB's own *.elb.amazonaws.com name has none).
    origin_domain_name: pulumi.Input[str]
    tags: Mapping[str, str]
    # Viewer host names; they need `certificate_arn` (ACM, us-east-1) covering them.
    aliases: Sequence[str] = ()
    certificate_arn: pulumi.Input[str] | None = None
    web_acl_arn: pulumi.Input[str] | None = None
    price_class: str = "PriceClass_100"
    log_retention_days: int = 90
    # Lets `pulumi destroy` remove buckets that still hold objects: never in prod.
    force_destroy: bool = False


def validate(args: CdnArgs) -> None:
    require_tags(args.tags)
    if isinstance(args.origin_domain_name, str) and not args.origin_domain_name:
        raise ValueError("origin_domain_name must be the storefront's host name, got ''")
    require_hostnames("aliases", args.aliases)
    if args.aliases and args.certificate_arn is None:
        raise ValueError(f"aliases {list(args.aliases)} need certificate_arn: CloudFront serves "
                         "an alias only with a certificate covering it")
    require_choice("price_class", args.price_class, PRICE_CLASSES)
    require_range("log_retention_days", args.log_retention_days, 1, 3650)


def viewer_certificate(certificate_arn: pulumi.Input[str] | None,
                       ) -> aws.cloudfront.DistributionViewerCertificateArgs:
    if certificate_arn is None:
        # *.cloudfront.net: CloudFront fixes that certificate's protocol floor itself.
        return aws.cloudfront.DistributionViewerCertificateArgs(
            cloudfront_default_certificate=True)
    return aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=certificate_arn,
        ssl_support_method="sni-only",
        minimum_protocol_version="TLSv1.2_2021",
    )


Behaviour = TypeVar("Behaviour", aws.cloudfront.DistributionDefaultCacheBehaviorArgs,
                     aws.cloudfront.DistributionOrderedCacheBehaviorArgs)


def _behaviour(kind: type[Behaviour], headers_policy_id: pulumi.Input[str],
               **fields: Any) -> Behaviour:
    """What every behaviour shares: HTTPS only (plain HTTP is redirected), GET and HEAD the
    only methods ever cached, and the security headers policy on every answer."""
    return kind(viewer_protocol_policy="redirect-to-https", cached_methods=READ_METHODS,
                response_headers_policy_id=headers_policy_id, **fields)


def storefront_behaviour(headers_policy_id: pulumi.Input[str],
                         ) -> aws.cloudfront.DistributionDefaultCacheBehaviorArgs:
    # Pages carry sessions, carts and CSRF tokens, so nothing the storefront answers is stored
    # at the edge (CachingDisabled): one shopper's response can never be served to another,
    # whatever cookie or Authorization header it depended on. Everything the viewer sent is
    # forwarded except Host, which must stay the origin's name for its TLS certificate.
    return _behaviour(aws.cloudfront.DistributionDefaultCacheBehaviorArgs, headers_policy_id,
                      target_origin_id=STOREFRONT_ORIGIN, allowed_methods=ALL_METHODS,
                      cache_policy_id=CACHING_DISABLED,
                      origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER, compress=True)


def static_behaviour(headers_policy_id: pulumi.Input[str],
                     ) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
    # Static files are the same for every shopper: cached with a key free of cookies and query
    # strings (CachingOptimized: a day by default, up to a year if the object's Cache-Control
    # asks for it).
    return _behaviour(aws.cloudfront.DistributionOrderedCacheBehaviorArgs, headers_policy_id,
                      path_pattern=STATIC_PATH, target_origin_id=ASSETS_ORIGIN,
                      allowed_methods=READ_METHODS, cache_policy_id=CACHING_OPTIMIZED,
                      compress=True)


def live_behaviour(headers_policy_id: pulumi.Input[str],
                   ) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
    # The live stream: never cached (one shopper's events), every header forwarded (the
    # session cookie, Last-Event-ID), and not compressed: CloudFront compresses by buffering,
    # which would hold each event back; the events are small anyway.
    return _behaviour(aws.cloudfront.DistributionOrderedCacheBehaviorArgs, headers_policy_id,
                      path_pattern=LIVE_PATH, target_origin_id=STOREFRONT_ORIGIN,
                      allowed_methods=READ_METHODS, cache_policy_id=CACHING_DISABLED,
                      origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER, compress=False)


def security_headers() -> aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs:
    # Content-Security-Policy stays with the storefront, which knows its own pages.
    return aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
        strict_transport_security=aws.cloudfront.
        ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
            access_control_max_age_sec=HSTS_MAX_AGE_SECONDS, include_subdomains=True,
            preload=False, override=True),
        content_type_options=aws.cloudfront.
        ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(override=True),
        frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
            frame_option="DENY", override=True),
        referrer_policy=aws.cloudfront.
        ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
            referrer_policy="strict-origin-when-cross-origin", override=True),
    )


def origin_secret(name: str, parent: pulumi.Resource) -> random.RandomPassword:
    """Lowercase letters and digits: the ALB compares header values case-insensitively and
    reads * and ? as wildcards, so neither case nor symbols would add strength (64 characters
    of 36 symbols: about 330 bits). `pulumi up --replace` on it rotates it on both sides."""
    return random.RandomPassword(
        f"{name}-origin-verify", length=ORIGIN_SECRET_LENGTH, special=False, upper=False,
        min_lower=1, min_numeric=1, opts=pulumi.ResourceOptions(parent=parent))


def storefront_origin(domain_name: pulumi.Input[str], secret: pulumi.Input[str],
                      ) -> aws.cloudfront.DistributionOriginArgs:
    # CloudFront overwrites a header of the same name a viewer sent, so none can forge it.
    return aws.cloudfront.DistributionOriginArgs(
        origin_id=STOREFRONT_ORIGIN,
        domain_name=domain_name,
        custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
            http_port=80, https_port=443, origin_protocol_policy="https-only",
            origin_ssl_protocols=["TLSv1.2"], origin_read_timeout=ORIGIN_READ_TIMEOUT_SECONDS),
        custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(
            name=ORIGIN_VERIFY_HEADER, value=pulumi.Output.secret(secret))])


class Cdn(pulumi.ComponentResource):
    """Outputs: the distribution's id, ARN, domain name and zone, the buckets, and
    `origin_verify_secret` (a secret) for the Storefront's `origin_verify_secret`."""

    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    hosted_zone_id: pulumi.Output[str]
    assets_bucket_name: pulumi.Output[str]
    assets_bucket_arn: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str]
    origin_verify_secret: pulumi.Output[str]

    def __init__(self, name: str, args: CdnArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:cdn:Cdn", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        assets = private_bucket(f"{name}-assets", parent=self, tags=args.tags,
                                force_destroy=args.force_destroy,
                                object_ownership="BucketOwnerEnforced", versioned=True)
        # CloudFront standard logs are delivered with an ACL grant, so this bucket keeps ACLs on.
        logs = private_bucket(f"{name}-logs", parent=self, tags=args.tags,
                              force_destroy=args.force_destroy,
                              object_ownership="BucketOwnerPreferred", versioned=False,
                              expire_after_days=args.log_retention_days)
        aws.s3.BucketPolicy(
            f"{name}-logs-policy", bucket=logs.bucket.id,
            policy=logs.bucket.arn.apply(tls_only_bucket_policy),
            opts=pulumi.ResourceOptions(parent=self, depends_on=logs.companions))

        access = aws.cloudfront.OriginAccessControl(
            f"{name}-oac", description="CloudFront reads the static assets bucket",
            origin_access_control_origin_type="s3", signing_behavior="always",
            signing_protocol="sigv4", opts=child)
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers", comment="Security headers on every response",
            security_headers_config=security_headers(), opts=child)
        self.origin_verify_secret = pulumi.Output.secret(origin_secret(name, self).result)

        distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment="Storefront",
            aliases=list(args.aliases),
            price_class=args.price_class,
            http_version="http2and3",
            is_ipv6_enabled=True,
            web_acl_id=args.web_acl_arn,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=ASSETS_ORIGIN,
                    domain_name=assets.bucket.bucket_regional_domain_name,
                    origin_access_control_id=access.id),
                storefront_origin(args.origin_domain_name, self.origin_verify_secret),
            ],
            default_cache_behavior=storefront_behaviour(headers.id),
            ordered_cache_behaviors=[static_behaviour(headers.id), live_behaviour(headers.id)],
            viewer_certificate=viewer_certificate(args.certificate_arn),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none")),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=logs.bucket.bucket_domain_name, prefix="cloudfront/",
                include_cookies=False),
            tags=with_name(args.tags, f"{name}-distribution"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=logs.companions),
        )
        aws.s3.BucketPolicy(
            f"{name}-assets-policy", bucket=assets.bucket.id,
            policy=pulumi.Output.all(assets.bucket.arn, distribution.arn).apply(
                lambda arns: cloudfront_assets_bucket_policy(arns[0], arns[1])),
            opts=pulumi.ResourceOptions(parent=self, depends_on=assets.companions))

        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.domain_name = distribution.domain_name
        self.hosted_zone_id = distribution.hosted_zone_id
        self.assets_bucket_name = assets.bucket.bucket
        self.assets_bucket_arn = assets.bucket.arn
        self.log_bucket_name = logs.bucket.bucket
        self.register_outputs({
            "distribution_id": self.distribution_id,
            "distribution_arn": self.distribution_arn,
            "domain_name": self.domain_name,
            "hosted_zone_id": self.hosted_zone_id,
            "assets_bucket_name": self.assets_bucket_name,
            "assets_bucket_arn": self.assets_bucket_arn,
            "log_bucket_name": self.log_bucket_name,
            "origin_verify_secret": self.origin_verify_secret,
        })
