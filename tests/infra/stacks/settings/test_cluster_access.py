"""prod's cluster API is private: its settings must name an admin and a deploy role, and the
plan grants each an access entry; the policy rule fails a prod plan without them."""

from __future__ import annotations

import pytest

from stacks.plan.command import ROOT, stack_config
from stacks.plan.mocks import Recorded
from stacks.policy import Context, check
from stacks.settings import SettingsError, load_from_mapping

ADMIN = "arn:aws:iam::123456789012:role/shop-admin"
DEPLOY = "arn:aws:iam::123456789012:role/shop-deploy"
PROD = {**stack_config("prod", ROOT), "shop:clusterAdminRoleArn": ADMIN,
        "shop:clusterDeployRoleArn": DEPLOY}
EXAMPLE = "an IAM role ARN like 'arn:aws:iam::123456789012:role/admin'"


def problems(config: dict) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_from_mapping("prod", config)
    return str(raised.value).splitlines()


def test_prod_settings_name_both_roles() -> None:
    cluster = load_from_mapping("prod", PROD).cluster
    assert (cluster.admin_role_arn, cluster.deploy_role_arn) == (ADMIN, DEPLOY)


def test_prod_without_the_roles_is_refused_naming_each_setting() -> None:
    config = {k: v for k, v in PROD.items() if "RoleArn" not in k}
    assert problems(config) == [
        f"shop:clusterAdminRoleArn must be set in prod to {EXAMPLE} (the role the people "
        "operating prod assume), got ''",
        f"shop:clusterDeployRoleArn must be set in prod to {EXAMPLE} (the role CI runs "
        "`pulumi up` with), got ''"]


def test_prod_refuses_one_role_for_both() -> None:
    assert problems({**PROD, "shop:clusterDeployRoleArn": ADMIN}) == [
        "shop:clusterDeployRoleArn must differ from shop:clusterAdminRoleArn in prod, so a "
        f"pipeline's change is told from a person's, got {ADMIN!r} for both"]


def test_a_deploy_role_must_be_a_role_arn() -> None:
    assert problems({**PROD, "shop:clusterDeployRoleArn": "arn:aws:iam::123456789012:user/ci"}) \
        == [f"shop:clusterDeployRoleArn must be {EXAMPLE}, got 'arn:aws:iam::123456789012:user/ci'"]


def test_dev_needs_neither() -> None:
    dev = load_from_mapping("dev", stack_config("dev", ROOT)).cluster
    assert (dev.admin_role_arn, dev.deploy_role_arn) == ("", "")


def test_the_prod_plan_grants_both_roles_and_passes_the_rule(prod_plan: Recorded) -> None:
    entries = prod_plan.one("eks:index:Cluster").inputs["accessEntries"]
    assert {key: entry["principalArn"] for key, entry in entries.items()} == {
        "admin": "arn:aws:iam::123456789012:role/REPLACE-ME-shop-prod-admin",
        "deploy": "arn:aws:iam::123456789012:role/REPLACE-ME-shop-prod-deploy"}
    assert [f for f in check(prod_plan.resources) if f.policy == "prod-cluster-access"] == []


def cluster(entries: dict, environment: str = "prod") -> dict:
    return {"urn": "urn:pulumi:prod::shop::eks:index:Cluster::cluster-eks",
            "type": "eks:index:Cluster", "name": "cluster-eks",
            "inputs": {"accessEntries": entries, "tags": {"Environment": environment}}}


def entry(arn: str, policies: dict | None = None) -> dict:
    return {"principalArn": arn, "type": "STANDARD", "accessPolicies": {
        "cluster-admin": {"policyArn": "arn:aws:eks::aws:cluster-access-policy/"
                                       "AmazonEKSClusterAdminPolicy",
                          "accessScope": {"type": "cluster"}}} if policies is None else policies}


def messages(resource: dict, context: Context | None = None) -> list[str]:
    return [f.message for f in check([resource], context) if f.policy == "prod-cluster-access"]


@pytest.mark.parametrize(("entries", "expected"), [
    ({}, ["prod cluster has no 'admin' access entry for an IAM role (the people operating it): "
          "set shop:clusterAdminRoleArn",
          "prod cluster has no 'deploy' access entry for an IAM role (the role CI deploys with): "
          "set shop:clusterDeployRoleArn"]),
    ({"admin": entry(ADMIN)}, [
        "prod cluster has no 'deploy' access entry for an IAM role (the role CI deploys with): "
        "set shop:clusterDeployRoleArn"]),
    ({"admin": entry(ADMIN), "deploy": entry(DEPLOY, {})},
     ["prod cluster's 'deploy' access entry associates no EKS access policy"]),
    ({"admin": entry(ADMIN), "deploy": entry(ADMIN)},
     ["prod cluster's admin and deploy access entries name the same role"]),
    ({"admin": entry(ADMIN), "deploy": entry(DEPLOY)}, []),
])
def test_the_rule_fails_a_prod_cluster_without_both_roles(entries, expected) -> None:
    assert messages(cluster(entries)) == expected


def test_the_rule_is_mandatory_and_leaves_dev_alone() -> None:
    [finding, _] = [f for f in check([cluster({})]) if f.policy == "prod-cluster-access"]
    assert finding.enforcement == "mandatory"
    assert messages(cluster({}, environment="dev")) == []
    # The pack's configured environment wins over the tag.
    assert len(messages(cluster({}, environment="dev"), Context(environment="prod"))) == 2
