"""The ForceNew table: what the installed SDKs say, recorded with their versions, plus the hand
entries for what they leave unsaid."""

from __future__ import annotations

import json

import pytest

from stacks.review import provider_sdk
from stacks.review.replacements import (
    FORCE_NEW,
    HAND,
    SDK,
    SDK_TABLE,
    covered_types,
    forces_replacement,
)


def test_the_recorded_sdk_table_is_what_the_installed_sdks_say():
    """Fails when an SDK upgrade changes a covered type (its inputs, their docs, what forces a
    replacement): review HAND, then record the table again."""
    recorded = json.loads(SDK_TABLE.read_text(encoding="utf-8"))
    derived = provider_sdk.snapshot(covered_types())
    changed = sorted(token for token in recorded["types"].keys() | derived["types"].keys()
                     if recorded["types"].get(token) != derived["types"].get(token))
    assert not changed, (
        f"the provider SDKs changed ({recorded['sdks']} -> {derived['sdks']}) for {changed}: "
        "review stacks/review/replacements.py's HAND entries for them, then run "
        "`python -m stacks.review.provider_sdk > stacks/review/provider_sdk.json`")


def test_the_drift_check_sees_a_changed_doc(monkeypatch):
    token = "aws:ec2/subnet:Subnet"
    before = provider_sdk.snapshot([token])["types"][token]
    inputs = dict(provider_sdk.aws_inputs(token))
    inputs["mapPublicIpOnLaunch"] += " Changing this forces a new resource to be created."
    monkeypatch.setattr(provider_sdk, "aws_inputs", lambda _token: inputs)
    after = provider_sdk.snapshot([token])["types"][token]
    assert "mapPublicIpOnLaunch" in after["forces"]
    assert after["fingerprint"] != before["fingerprint"]


def test_every_covered_aws_type_exists_in_the_installed_sdk():
    missing = [t for t in covered_types() if t.startswith("aws:")
               and provider_sdk.aws_inputs(t) is None]
    assert missing == []


def test_no_hand_entry_repeats_what_the_sdk_says():
    assert {token: sorted(set(HAND.get(token, ())) & set(paths))
            for token, paths in SDK.items() if set(HAND.get(token, ())) & set(paths)} == {}


@pytest.mark.parametrize(("doc", "kind"), [
    ("Name of a snapshot. Changing the `snapshot_name` forces a new resource.", "forces"),
    ("Type of secret. This attribute cannot be changed after creation.", "forces"),
    ("Whether to enable it. If `vpc_endpoint_type` is not `Interface`, changing this value "
     "forces a new resource to be created.", "conditional"),
    ("Changing this argument with an `engine_version` < `7.0.5` will force a replacement.",
     "conditional"),
    ("The CIDR block of the subnet.", None),
])
def test_what_counts_as_the_sdk_saying_so(doc, kind):
    assert provider_sdk.classify(doc) == kind


def test_the_table_joins_both_sources():
    # From the SDK's docs ("there is no Update API") and from the hand table.
    assert forces_replacement("aws:ec2/securityGroup:SecurityGroup", "description")
    assert forces_replacement("aws:ec2/securityGroup:SecurityGroup", "vpcId")
    assert forces_replacement("aws:elasticache/replicationGroup:ReplicationGroup", "snapshotName")
    assert not forces_replacement("aws:ec2/securityGroup:SecurityGroup", "ingress")
    assert forces_replacement("eks:index:Cluster", "privateSubnetIds[0]")
    assert set(FORCE_NEW) == set(HAND) | set(SDK)
