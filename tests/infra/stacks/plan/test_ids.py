"""Mock identities fold in the inputs that force replacement, and only those."""

from __future__ import annotations

from stacks.plan.ids import identity_hash, replacement_key

SUBNET = "aws:ec2/subnet:Subnet"
INPUTS = {"vpcId": "vpc-1", "cidrBlock": "10.10.0.0/20", "availabilityZone": "us-east-1a",
          "tags": {"Owner": "platform-team"}, "mapPublicIpOnLaunch": False}


def test_the_key_holds_the_replacing_inputs_alone():
    assert replacement_key(SUBNET, INPUTS) == (
        '{"availabilityZone": "us-east-1a", "cidrBlock": "10.10.0.0/20", "vpcId": "vpc-1"}')


def test_an_update_keeps_the_identity_and_a_replacement_changes_it():
    same = identity_hash(SUBNET, "private-a", INPUTS)
    retagged = {**INPUTS, "tags": {"Owner": "data-team"}, "mapPublicIpOnLaunch": True}
    assert identity_hash(SUBNET, "private-a", retagged) == same
    assert identity_hash(SUBNET, "private-a", {**INPUTS, "vpcId": "vpc-2"}) != same
    assert identity_hash(SUBNET, "private-a", {**INPUTS, "cidrBlock": "10.30.0.0/20"}) != same
    assert identity_hash(SUBNET, "private-b", INPUTS) != same


def test_nested_paths_and_types_without_replacing_inputs():
    deployment = "kubernetes:apps/v1:Deployment"
    inputs = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "replicas": 2}}
    assert identity_hash(deployment, "d", {**inputs, "spec": {**inputs["spec"], "replicas": 3}}
                         ) == identity_hash(deployment, "d", inputs)
    assert identity_hash(deployment, "d", {**inputs, "spec": {"selector": {"app": "x"}}}
                         ) != identity_hash(deployment, "d", inputs)
    # No replacing input set: the identity of type and name, as before ids folded inputs.
    assert replacement_key("aws:sns/topicPolicy:TopicPolicy", {"policy": "{}"}) == "{}"


def test_secret_values_are_never_folded_in():
    secret = "kubernetes:core/v1:Secret"
    inputs = {"metadata": {"namespace": "shop"}, "stringData": {"DATABASE_URL": "postgres://a"}}
    other = {**inputs, "stringData": {"DATABASE_URL": "postgres://b"}}
    assert identity_hash(secret, "s", other) == identity_hash(secret, "s", inputs)
    assert "postgres" not in replacement_key(secret, inputs)
    assert replacement_key("aws:secretsmanager/secretVersion:SecretVersion",
                           {"secretId": "arn:s", "secretString": "hunter2"}) == (
        '{"secretId": "arn:s"}')
