"""The safeguard rules: network ACLs on every subnet, CloudTrail and GuardDuty in prod, prod's
cross-region backup copy; each with a compliant and a violating stack, then the real plans."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.plan.mocks import Recorded
from stacks.policy import Context, check
from tests.infra.stacks.policy.test_policies import messages, res, urn

SUBNET = "aws:ec2/subnet:Subnet"
ACL = "aws:ec2/networkAcl:NetworkAcl"
TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
RDS = "aws:rds/instance:Instance"
COPY = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
VPC = res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.20.0.0/16"})
GOOD_TRAIL = {"isMultiRegionTrail": True, "enableLogFileValidation": True,
              "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k", "enableLogging": True}


def security_logs(**trail: Any) -> list[dict[str, Any]]:
    return [VPC, res(TRAIL, "trail", {**GOOD_TRAIL, **trail}),
            res(DETECTOR, "detector", {"enable": True}),
            *[res(FEATURE, name.lower(), {"name": name, "status": "ENABLED"}, tagged=False)
              for name in ("EKS_AUDIT_LOGS", "RUNTIME_MONITORING")]]


def test_subnets_outside_every_acl_are_found() -> None:
    subnets = [dict(res(SUBNET, name, {"cidrBlock": cidr}), id=f"subnet-{name}")
               for name, cidr in (("a", "10.0.0.0/20"), ("b", "10.0.16.0/20"))]
    acl = res(ACL, "acl", {"subnetIds": ["subnet-a"], "ingress": []})
    assert messages([*subnets, acl], "network-acls") == [
        "subnet is in no network ACL of the stack: add it to its tier's ACL"]
    by_urn = res(ACL, "acl", {"subnetIds": []}, deps=(urn(SUBNET, "a"), urn(SUBNET, "b")))
    assert messages([*subnets, by_urn], "network-acls") == []


def test_an_acl_that_admits_everything_from_anywhere_is_found() -> None:
    acl = res(ACL, "acl", {"subnetIds": [], "ingress": [
        {"ruleNo": 100, "action": "allow", "protocol": "-1", "cidrBlock": "0.0.0.0/0",
         "fromPort": 0, "toPort": 0}]})
    assert messages([acl], "network-acls") == [
        "ingress rule 100 allows every protocol from anywhere: name the ports the tier needs"]
    narrowed = json.loads(json.dumps(acl))
    narrowed["inputs"]["ingress"][0]["cidrBlock"] = "10.0.0.0/20"
    assert messages([narrowed], "network-acls") == []


def test_prod_without_a_trail_or_guardduty_fails_and_dev_does_not() -> None:
    for policy, wanted in (("prod-cloudtrail", "shop:cloudTrailEnabled"),
                           ("prod-guardduty", "shop:guardDutyEnabled")):
        (finding,) = [f for f in check([VPC], Context(environment="prod"))
                      if f.policy == policy]
        assert wanted in finding.message
        assert (finding.name, finding.enforcement) == ("vpc", "mandatory")
        assert messages([VPC], policy, environment="dev") == []
        # Without a configured environment, the resources' Environment tags decide.
        prod_vpc = res("aws:ec2/vpc:Vpc", "vpc", {"tags": {"Environment": "prod"}})
        assert messages([prod_vpc], policy) != []
        assert messages([VPC], policy) == []
        # A component checked on its own, or a preview (no VPC), is no whole platform.
        assert messages([res("aws:s3/bucket:Bucket", "b", {})], policy,
                        environment="prod") == []
        # CrossGuard passes the stack's root: the finding names it.
        root = {"urn": "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod",
                "type": "pulumi:pulumi:Stack", "name": "shop-prod", "inputs": {}}
        assert [f.name for f in check([VPC, root], Context(environment="prod"))
                if f.policy == policy] == ["shop-prod"]
    assert messages(security_logs(), "prod-cloudtrail", environment="prod") == []
    assert messages(security_logs(), "prod-guardduty", environment="prod") == []


@pytest.mark.parametrize(("trail", "message"), [
    ({"isMultiRegionTrail": False}, "trail must record every region: set isMultiRegionTrail"),
    ({"enableLogFileValidation": False}, "trail must validate its log files: set "
     "enableLogFileValidation"),
    ({"kmsKeyId": None}, "trail must encrypt its log files with a KMS key: set kmsKeyId"),
    ({"enableLogging": False}, "trail is not logging: set enableLogging: true"),
])
def test_a_weak_prod_trail_is_found(trail: dict, message: str) -> None:
    (found,) = messages(security_logs(**trail), "prod-cloudtrail", environment="prod")
    assert found.startswith(message)


def test_guardduty_without_eks_protection_is_found() -> None:
    stack = [r for r in security_logs() if r["name"] != "runtime_monitoring"]
    assert messages(stack, "prod-guardduty", environment="prod") == [
        "GuardDuty's EKS protection lacks RUNTIME_MONITORING: add a DetectorFeature "
        "RUNTIME_MONITORING with status ENABLED"]
    disabled = [*security_logs()[:2], res(DETECTOR, "detector", {"enable": False})]
    assert "no enabled GuardDuty" in messages(disabled, "prod-guardduty", environment="prod")[0]


def test_a_prod_database_without_a_cross_region_copy_is_advised() -> None:
    primary = res(RDS, "db", {"identifier": "shop-prod-database"})
    replica = res(RDS, "db-replica", {"replicateSourceDb": "shop-prod-database"})
    assert messages([primary], "prod-cross-region-recovery", environment="prod") == []
    assert messages([VPC, primary, replica], "prod-cross-region-recovery",
                    environment="prod") == [
        "prod database's automated backups stay in its region: set shop:recoveryRegion to "
        "replicate them"]
    copy = res(COPY, "copy", {"sourceDbInstanceArn": "arn:aws:rds:us-east-1:1:db:x"},
               deps=(urn(RDS, "db"),), tagged=False)
    assert messages([VPC, primary, replica, copy], "prod-cross-region-recovery",
                    environment="prod") == []
    assert messages([VPC, primary], "prod-cross-region-recovery", environment="dev") == []


SAFEGUARDS = ("network-acls", "prod-cloudtrail", "prod-guardduty", "prod-cross-region-recovery")


def test_the_real_plans_keep_every_safeguard(prod_plan: Recorded, dev_plan: Recorded) -> None:
    for plan, environment in ((prod_plan, "prod"), (dev_plan, "dev")):
        findings = [f for f in check(plan.resources, Context(environment=environment))
                    if f.policy in SAFEGUARDS]
        assert findings == [], environment
