"""shop:podIdentity = podIdentity: EKS Pod Identity instead of IRSA for every role the stack
gives a service account. The agent add-on, roles trusting pods.eks.amazonaws.com for exactly
their namespace/account, one association per account and no IRSA annotation anywhere."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.addons import ClusterAddons
from components.irsa import (
    OidcProvider,
    pod_identity_trust_policy,
    role_annotations,
)
from components.storefront import Storefront
from stacks.plan.command import run_plan
from stacks.policy import Context, check
from tests.infra.component_support import assert_well_formed, run_component
from tests.infra.conftest import stack_settings
from tests.infra.test_addons import ARGS, ISSUER, OIDC_ARN
from tests.infra.test_storefront import storefront_args
from tests.infra.test_storefront_secrets import secret_store_endpoints

ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
RELEASE = "kubernetes:helm.sh/v3:Release"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
POD_OIDC = OidcProvider(arn=OIDC_ARN, issuer_url=ISSUER, mode="podIdentity",
                        cluster_name="shop-prod")


def trust(namespace: str, account: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": account}}}]}


@pytest.fixture(scope="module")
def addons():
    return run_component(lambda: ClusterAddons("addons", dataclasses.replace(
        ARGS, oidc=POD_OIDC)))


@pytest.fixture(scope="module")
def storefront():
    return run_component(lambda: Storefront("storefront", storefront_args(
        data=secret_store_endpoints(), oidc=POD_OIDC)))


def test_pure_parts():
    assert json.loads(pod_identity_trust_policy("shop", "storefront")) == trust(
        "shop", "storefront")
    irsa = OidcProvider(arn=OIDC_ARN, issuer_url=ISSUER)
    assert role_annotations(irsa, "arn:r") == {
        "eks.amazonaws.com/role-arn": "arn:r", "eks.amazonaws.com/sts-regional-endpoints": "true"}
    assert role_annotations(irsa, "arn:r", regional=False) == {
        "eks.amazonaws.com/role-arn": "arn:r"}
    assert role_annotations(POD_OIDC, "arn:r") == {}


@pytest.mark.parametrize(("change", "message"), [
    ({"mode": "kiam"}, "oidc.mode must be one of irsa, podIdentity, got 'kiam'"),
    ({"mode": "podIdentity"}, "oidc.cluster_name is required with Pod Identity"),
])
def test_identity_mode_is_checked(change, message):
    with pytest.raises(ValueError, match=message):
        OidcProvider(arn=OIDC_ARN, issuer_url=ISSUER, **change)


def test_addons_get_the_agent_and_one_association_per_account(addons):
    agent = addons.one(ADDON, "addons-pod-identity-agent").inputs
    assert (agent["addonName"], agent["addonVersion"], agent["clusterName"]) == (
        "eks-pod-identity-agent", "v1.3.8-eksbuild.2", "shop-prod")
    associations = {r.name: r.inputs for r in addons.of_type(ASSOCIATION)}
    roles = {r.name: r for r in addons.of_type(ROLE)}
    expected = {"addons-lbc": "aws-load-balancer-controller",
                "addons-autoscaler": "cluster-autoscaler",
                "addons-fluent-bit": "aws-for-fluent-bit"}
    assert set(associations) == {f"{name}-association" for name in expected}
    for name, account in expected.items():
        association = associations[f"{name}-association"]
        assert {k: association[k] for k in ("clusterName", "namespace", "serviceAccount")} == {
            "clusterName": "shop-prod", "namespace": "kube-system", "serviceAccount": account}
        assert association["roleArn"].startswith(f"arn:aws:iam::123456789012:role/{name}-role-")
        assert json.loads(roles[f"{name}-role"].inputs["assumeRolePolicy"]) == trust(
            "kube-system", account)
    assert_well_formed(addons, "shop:addons:ClusterAddons", ARGS.tags)
    assert check(addons.resources, Context(environment="prod")) == []


def test_ebs_csi_addon_makes_its_own_association(addons):
    ebs = addons.one(ADDON, "addons-ebs-csi").inputs
    assert "serviceAccountRoleArn" not in ebs
    association, = ebs["podIdentityAssociations"]
    assert association["serviceAccount"] == "ebs-csi-controller-sa"
    assert association["roleArn"].startswith("arn:aws:iam::123456789012:role/addons-ebs-csi-role-")
    assert json.loads(addons.one(ROLE, "addons-ebs-csi-role").inputs["assumeRolePolicy"]) == (
        trust("kube-system", "ebs-csi-controller-sa"))


def test_charts_carry_no_irsa_annotation_and_wait_for_the_agent(addons):
    agent_urn = addons.one(ADDON, "addons-pod-identity-agent").urn
    for chart in addons.of_type(RELEASE):
        assert "eks.amazonaws.com/role-arn" not in json.dumps(chart.inputs["values"]), chart.name
        assert agent_urn in chart.options.dependencies, chart.name
    values = addons.one(RELEASE, "addons-lbc").inputs["values"]
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller",
                                        "annotations": {}}


def test_storefront_accounts_have_associations_not_annotations(storefront):
    for account in storefront.of_type(ACCOUNT):
        assert "annotations" not in account.inputs["metadata"], account.name
    associations = {r.inputs["serviceAccount"]: r.inputs
                    for r in storefront.of_type(ASSOCIATION)}
    assert set(associations) == {"storefront", "storefront-migrate"}
    assert all(a["namespace"] == "shop" and a["clusterName"] == "shop-prod"
               for a in associations.values())
    roles = {r.name: json.loads(r.inputs["assumeRolePolicy"])
             for r in storefront.of_type(ROLE)}
    assert roles["storefront-assets-role"] == trust("shop", "storefront")
    assert roles["storefront-migrate-role"] == trust("shop", "storefront-migrate")
    spc = storefront.one("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    assert spc.inputs["spec"]["parameters"]["usePodIdentity"] == "true"


def test_the_whole_prod_stack_switches_with_one_setting():
    settings = stack_settings("prod")
    settings = dataclasses.replace(settings, cluster=dataclasses.replace(
        settings.cluster, identity_mode="podIdentity"))
    recorded = run_plan(settings)
    text = json.dumps([r.inputs for r in recorded.resources if r.type != ROLE])
    assert "eks.amazonaws.com/role-arn" not in text
    assert "AssumeRoleWithWebIdentity" not in json.dumps(
        [r.inputs for r in recorded.of_type(ROLE)])
    accounts = {(r.inputs["namespace"], r.inputs["serviceAccount"])
                for r in recorded.of_type(ASSOCIATION)}
    assert accounts == {("kube-system", "aws-load-balancer-controller"),
                        ("kube-system", "karpenter"),  # prod's node autoscaler
                        ("kube-system", "aws-for-fluent-bit"),
                        ("monitoring", "grafana"),
                        ("shop", "storefront"), ("shop", "storefront-migrate")}
    assert len(recorded.of_type(ASSOCIATION)) == len(accounts)
    assert recorded.one(ADDON, "addons-pod-identity-agent")
