"""The CrossGuard pack runs the rules of stacks.policy, and the plan's records feed them.

`PolicyPack(...)` serves gRPC forever once built, so the tests stop it at the server: the pack
module is loaded for real, pulumi-policy's own analyzer is captured, and Analyze/AnalyzeStack
are called with the protobuf requests the Pulumi engine would send.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import moto
import pulumi_aws as aws
import pulumi_policy
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as policy_sdk

from stacks.plan import command as plan
from stacks.plan.mocks import run_under_mocks
from stacks.policy import RULES, Context, StackRule, check
from stacks.settings import load_from_mapping

PACK = Path(__file__).resolve().parents[4] / "platform" / "policy" / "__main__.py"
TAGS = {"Project": "shop", "Environment": "prod", "Owner": "platform", "CostCenter": "cc-1"}


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


@pytest.fixture
def analyzer(monkeypatch) -> Any:
    """pulumi-policy's analyzer for the pack, built by the real PolicyPack constructor."""
    captured = {}
    monkeypatch.setattr(policy_sdk.grpc, "server", mock.MagicMock())
    monkeypatch.setattr(policy_sdk.analyzer_pb2_grpc, "add_AnalyzerServicer_to_server",
                        lambda servicer, _server: captured.setdefault("servicer", servicer))
    # The constructor serves until interrupted; interrupt it at once.
    monkeypatch.setattr(policy_sdk.time, "sleep", mock.Mock(side_effect=KeyboardInterrupt))
    runpy.run_path(str(PACK))
    return captured["servicer"]


def test_the_pack_builds_one_policy_per_rule_with_its_enforcement(monkeypatch):
    pack = mock.Mock()
    monkeypatch.setattr(pulumi_policy, "PolicyPack", pack)
    runpy.run_path(str(PACK))

    kwargs = pack.call_args.kwargs
    assert kwargs["name"] == "shop-platform"
    policies = kwargs["policies"]
    assert [p.name for p in policies] == [rule.name for rule in RULES]
    for built, rule in zip(policies, RULES, strict=True):
        expected = (pulumi_policy.StackValidationPolicy if isinstance(rule, StackRule)
                    else pulumi_policy.ResourceValidationPolicy)
        assert isinstance(built, expected)
        assert built.enforcement_level.value == rule.enforcement
        assert built.description == rule.description


def test_a_resource_policy_reports_through_crossguard(analyzer):
    inputs = {"storageEncrypted": False, "publiclyAccessible": True, "tags": TAGS,
              "instanceClass": "db.t4g.medium", "multiAz": True, "deletionProtection": True,
              "backupRetentionPeriod": 7, "manageMasterUserPassword": True,
              "masterUserSecretKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1"}
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:rds/instance:Instance", name="db", properties=struct(inputs),
        urn="urn:pulumi:prod::shop::aws:rds/instance:Instance::db")
    response = analyzer.Analyze(request, None)
    reported = {(d.policyName, d.enforcementLevel) for d in response.diagnostics}
    mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
    assert reported == {("rds-encrypted", mandatory), ("no-public-database", mandatory)}
    assert "set storageEncrypted: true" in next(
        d.message for d in response.diagnostics if d.policyName == "rds-encrypted")


def test_a_stack_policy_links_resources_by_property_dependencies(analyzer):
    bucket_urn = "urn:pulumi:prod::shop::aws:s3/bucket:Bucket::assets"
    orphan_urn = "urn:pulumi:prod::shop::aws:s3/bucket:Bucket::orphan"
    flags = dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                           "restrictPublicBuckets"), True)
    block = analyzer_pb2.AnalyzerResource(
        type="aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name="assets-pab",
        urn="urn:pulumi:prod::shop::aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::pab",
        properties=struct({"bucket": "assets-7c1d", **flags}), dependencies=[bucket_urn],
        propertyDependencies={"bucket": analyzer_pb2.AnalyzerPropertyDependencies(
            urns=[bucket_urn])})
    buckets = [analyzer_pb2.AnalyzerResource(type="aws:s3/bucket:Bucket", name=name, urn=urn,
                                             properties=struct({"tags": TAGS}))
               for name, urn in (("assets", bucket_urn), ("orphan", orphan_urn))]
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[*buckets, block]), None)
    public = [d.urn for d in response.diagnostics if d.policyName == "s3-public-access-blocked"]
    assert public == [orphan_urn]


def test_check_links_a_recorded_bucket_to_its_block_through_the_plans_dependencies():
    def program() -> None:
        flags = dict.fromkeys(("block_public_acls", "block_public_policy", "ignore_public_acls",
                               "restrict_public_buckets"), True)
        for name in ("assets", "orphan"):
            aws.s3.Bucket(name, tags=TAGS)
        bucket = aws.s3.Bucket("logs", tags=TAGS)
        aws.s3.BucketPublicAccessBlock("logs-pab", bucket=bucket.id, **flags)
        aws.s3.BucketServerSideEncryptionConfiguration("logs-sse", bucket=bucket.id, rules=[{
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}])

    recorded = run_under_mocks(program, stack="prod")
    s3_findings = sorted((f.policy, f.name) for f in check(recorded.resources)
                         if f.policy.startswith("s3-"))
    assert s3_findings == [("s3-encrypted", "assets"), ("s3-encrypted", "orphan"),
                           ("s3-public-access-blocked", "assets"),
                           ("s3-public-access-blocked", "orphan")]


def test_a_deliberately_weakened_prod_config_shows_in_the_plans_findings():
    weakened = {**plan.stack_config("prod"), "shop:dbMultiAz": False,
                "shop:dbBackupRetentionDays": 1, "shop:deletionProtection": False}
    settings = load_from_mapping("prod", weakened, project=plan.project_name())
    findings = check(plan.run_plan(settings), Context(environment=settings.environment))
    resilience = sorted((f.name, f.message.split(":")[0]) for f in findings
                        if f.policy == "prod-database-resilience")
    assert resilience == [
        ("database-primary", "prod database is single-AZ"),
        ("database-primary", "prod database keeps backups 1 day(s)"),
        ("database-primary", "prod database lacks deletion protection"),
        ("database-replica-1", "prod database lacks deletion protection"),
    ]


def pack_config_module() -> dict[str, Any]:
    """platform/policy/pack_config.py, a script beside the pack: loaded by path, not run."""
    return runpy.run_path(str(PACK.with_name("pack_config.py")), run_name="pack_config")


@pytest.fixture
def sts():
    with moto.mock_aws():
        yield boto3.client("sts", region_name="us-east-1")


def configured(analyzer: Any, config: dict[str, dict[str, str]]) -> Any:
    """As the engine does with `--policy-pack-config FILE`: one PolicyConfig per policy."""
    request = analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(properties=struct(values))
        for name, values in config.items()})
    analyzer.Configure(request, None)
    return analyzer


def deployment(image: str) -> analyzer_pb2.AnalyzeRequest:
    container = {"name": "web", "image": image, "resources": {"limits": {
        "cpu": "1", "memory": "1Gi"}}, "securityContext": {"runAsNonRoot": True}}
    return analyzer_pb2.AnalyzeRequest(
        type="kubernetes:apps/v1:Deployment", name="web",
        urn="urn:pulumi:prod::shop::kubernetes:apps/v1:Deployment::web",
        properties=struct({"spec": {"template": {"spec": {"containers": [container]}}}}))


def test_pack_config_gives_every_policy_the_stacks_environment_and_registry(sts):
    module = pack_config_module()
    config = module["stack_pack_config"]("prod", sts=sts)
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"  # moto's account, prod's region
    assert config == {rule.name: {"environment": "prod", "registryHost": registry}
                      for rule in RULES}
    assert module["ecr_registry_host"]("123456789012", "cn-north-1") == (
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")


def test_with_the_config_the_pack_refuses_another_accounts_registry(analyzer, sts):
    digest = "sha256:" + "ab" * 32
    ours = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-prod/storefront@{digest}"
    theirs = f"999999999999.dkr.ecr.us-east-1.amazonaws.com/shop-prod/storefront@{digest}"

    def image_findings(request: analyzer_pb2.AnalyzeRequest) -> list[str]:
        response = analyzer.Analyze(request, None)
        return [d.policyName for d in response.diagnostics
                if d.policyName == "images-from-stack-ecr"]

    # Unconfigured, any private ECR registry passes.
    assert image_findings(deployment(theirs)) == []
    configured(analyzer, pack_config_module()["stack_pack_config"]("prod", sts=sts))
    assert image_findings(deployment(theirs)) == ["images-from-stack-ecr"]
    assert image_findings(deployment(ours)) == []


def test_pack_config_script_prints_json_or_fails_with_a_message(sts, capsys):
    main = pack_config_module()["main"]
    with mock.patch("boto3.client", return_value=sts):
        assert main(["dev"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["images-from-stack-ecr"] == {
        "environment": "dev", "registryHost": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}
    assert main(["staging"]) == 1
    assert "Pulumi.staging.yaml not found" in capsys.readouterr().err


def test_the_pack_reads_protect_from_the_resource_options(analyzer):
    rule = "prod-stateful-protected"
    configured(analyzer, {rule: {"environment": "prod"}})
    def bucket(name: str, protect: bool) -> analyzer_pb2.AnalyzerResource:
        return analyzer_pb2.AnalyzerResource(
            type="aws:s3/bucket:Bucket", name=name, urn=f"urn:pulumi:prod::shop::b::{name}",
            properties=struct({"tags": TAGS}),
            options=analyzer_pb2.AnalyzerResourceOptions(protect=protect))

    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(
        resources=[bucket("kept", True), bucket("bare", False)]), None)
    assert [d.urn for d in response.diagnostics if d.policyName == rule] == [
        "urn:pulumi:prod::shop::b::bare"]
