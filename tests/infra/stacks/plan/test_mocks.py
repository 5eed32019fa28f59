"""The mock engine itself: what it records, what it fakes, and what it refuses."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest

from stacks.plan.mocks import ACCOUNT_ID, SECRET, run_under_mocks


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("shop:test:Holder", name)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"vpc_id": self.vpc.id})


def small_program() -> None:
    holder = Holder("h")
    password = pulumi.Output.secret("hunter2-not-in-any-record")
    aws.ssm.Parameter(
        "h-param",
        type="SecureString",
        value=password,
        tags={"Owner": "platform"},
        opts=pulumi.ResourceOptions(parent=holder, ignore_changes=["value"], protect=True),
    )
    db = aws.rds.Instance("h-db", engine="postgres", port=5432, instance_class="db.t4g.micro")
    pulumi.export("vpc_id", holder.vpc.id)
    pulumi.export("db_address", db.address)
    pulumi.export("password", password)


def test_records_inputs_parents_and_options() -> None:
    recorded = run_under_mocks(small_program, stack="dev", project="shop")

    holder = recorded.one("shop:test:Holder")
    vpc = recorded.one("aws:ec2/vpc:Vpc", "h-vpc")
    param = recorded.named("h-param")
    assert vpc.parent == holder.urn
    assert vpc.urn == "urn:pulumi:dev::shop::shop:test:Holder$aws:ec2/vpc:Vpc::h-vpc"
    assert vpc.inputs == {"cidrBlock": "10.0.0.0/16"}
    assert (vpc.custom, holder.custom) == (True, False)
    assert param.inputs == {"type": "SecureString", "value": SECRET, "tags": {"Owner": "platform"}}
    assert param.options.ignore_changes == ("value",)
    assert param.options.protect is True
    assert {r.name for r in recorded.children(holder)} == {"h-vpc", "h-param"}


def test_outputs_are_realistic_and_secrets_masked() -> None:
    recorded = run_under_mocks(small_program)

    assert recorded.outputs["vpc_id"].startswith("vpc-")
    assert recorded.outputs["db_address"].endswith(".us-east-1.rds.amazonaws.com")
    assert recorded.outputs["password"] == SECRET
    assert "hunter2" not in repr(recorded)


def test_runs_are_deterministic_and_independent() -> None:
    first = run_under_mocks(small_program)
    second = run_under_mocks(small_program)

    assert first == second
    assert len(second.of_type("aws:ec2/vpc:Vpc")) == 1


def test_fakes_the_data_sources_the_program_uses() -> None:
    def program() -> None:
        zones = aws.get_availability_zones(state="available")
        me = aws.get_caller_identity()
        pulumi.export("zones", zones.names)
        pulumi.export("account", me.account_id)

    recorded = run_under_mocks(program, region="eu-west-1")

    assert recorded.outputs["zones"][:3] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert recorded.outputs["account"] == ACCOUNT_ID


def test_refuses_a_data_source_it_does_not_fake() -> None:
    def program() -> None:
        aws.ec2.get_vpc(default=True)

    with pytest.raises(Exception, match="does not fake the data source aws:ec2/getVpc:getVpc"):
        run_under_mocks(program)


@pytest.mark.parametrize(("lookup", "token"), [
    (aws.get_region, "aws:index/getRegion:getRegion"),
    (aws.get_partition, "aws:index/getPartition:getPartition"),
])
def test_refuses_the_lookups_the_program_does_not_make(lookup, token) -> None:
    # Nothing in the program asks for the region or the partition (settings carry the region),
    # so a new call to either must fail loudly rather than meet a ready-made answer.
    with pytest.raises(Exception, match=f"does not fake the data source {token}"):
        run_under_mocks(lambda: lookup())


def test_fakes_only_s3s_prefix_list() -> None:
    def program() -> None:
        s3 = aws.ec2.get_prefix_list_output(name="com.amazonaws.eu-west-1.s3",
                                            region="eu-west-1")
        pulumi.export("id", s3.id)
        pulumi.export("cidrs", s3.cidr_blocks)

    recorded = run_under_mocks(program)
    assert recorded.outputs["id"] == "pl-6da54004"
    assert "52.218.0.0/17" in recorded.outputs["cidrs"]
    with pytest.raises(Exception, match="fakes only S3's prefix list"):
        run_under_mocks(lambda: aws.ec2.get_prefix_list(name="com.amazonaws.us-east-1.dynamodb"))


def test_random_ids_change_with_their_keepers() -> None:
    def program(engine: str) -> None:
        suffix = random.RandomId("suffix", byte_length=4, keepers={"engine": engine})
        pulumi.export("hex", suffix.hex)

    first, again = (run_under_mocks(lambda: program("postgres")) for _ in range(2))
    other = run_under_mocks(lambda: program("aurora-postgresql"))
    assert first.outputs["hex"] == again.outputs["hex"]
    assert len(first.outputs["hex"]) == 8
    assert other.outputs["hex"] != first.outputs["hex"]


def test_an_error_in_the_program_surfaces() -> None:
    def program() -> None:
        raise ValueError("shop:azCount must be 2 or 3, got 5")

    with pytest.raises(ValueError, match="azCount"):
        run_under_mocks(program)
    # and the engine is usable again afterwards
    assert run_under_mocks(small_program).one("aws:ec2/vpc:Vpc").name == "h-vpc"
