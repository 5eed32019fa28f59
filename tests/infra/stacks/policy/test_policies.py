"""The platform's rules: each with a compliant and a violating resource, then a whole plan.

Resources are written as the plan JSON holds them: camelCase inputs, Kubernetes objects as
metadata/spec, and the URNs a resource's inputs came from under options.dependencies.
"""

from __future__ import annotations

from typing import Any

import pytest

from stacks.policy import RULES, Context, Finding, blocking, check, report
from stacks.policy.facts import is_taggable

TAGS = {"Project": "shop", "Environment": "dev", "Owner": "platform", "CostCenter": "cc-1"}
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "sha256:" + "a" * 64
IMAGE = f"{ECR}/shop-storefront@{DIGEST}"


def res(type_: str, name: str, inputs: dict[str, Any], *, deps: tuple[str, ...] = (),
        tagged: bool = True) -> dict[str, Any]:
    tags = {"tags": {**TAGS, "Name": name}} if tagged and type_.startswith("aws:") else {}
    return {"urn": urn(type_, name), "type": type_, "name": name, "parent": "",
            "inputs": {**tags, **inputs}, "options": {"dependencies": list(deps)}}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::shop::{type_}::{name}"


def found(resources: list[dict[str, Any]], policy: str, **context: Any) -> list[Finding]:
    return [f for f in check(resources, Context(**context)) if f.policy == policy]


def messages(resources: list[dict[str, Any]], policy: str, **context: Any) -> list[str]:
    return [f.message for f in found(resources, policy, **context)]


RDS = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
BUCKET = "aws:s3/bucket:Bucket"
SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:"
       "BucketServerSideEncryptionConfiguration")
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ALL_BLOCKED = dict.fromkeys(
    ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)


def test_rds_storage_must_be_encrypted_but_replicas_inherit_it():
    assert messages([res(RDS, "db", {"storageEncrypted": True})], "rds-encrypted") == []
    assert messages([res(RDS, "db", {})], "rds-encrypted") == [
        "storage is not encrypted at rest: set storageEncrypted: true"]
    assert found([res(CLUSTER, "aurora", {"storageEncrypted": False})], "rds-encrypted")
    replica = res(RDS, "replica", {"replicateSourceDb": "db-primary"})
    assert found([replica], "rds-encrypted") == []


def test_elasticache_replication_groups_encrypt_at_rest():
    group = "aws:elasticache/replicationGroup:ReplicationGroup"
    assert found([res(group, "cache", {"atRestEncryptionEnabled": True})],
                 "elasticache-encrypted") == []
    assert found([res(group, "cache", {"atRestEncryptionEnabled": False})],
                 "elasticache-encrypted")[0].name == "cache"


def test_s3_buckets_declare_encryption_through_a_linked_configuration_or_inline():
    bucket = res(BUCKET, "assets", {})
    aes = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
    linked = res(SSE, "assets-sse", {"bucket": "assets-1a2b", **aes}, deps=(bucket["urn"],))
    assert found([bucket, linked], "s3-encrypted") == []
    inline = res(BUCKET, "logs", {"serverSideEncryptionConfiguration": aes})
    assert found([inline], "s3-encrypted") == []

    unlinked = found([bucket], "s3-encrypted")
    assert [(f.name, f.enforcement) for f in unlinked] == [("assets", "mandatory")]
    weak = res(SSE, "assets-sse", {"bucket": "assets-1a2b", "rules": [{}]}, deps=(bucket["urn"],))
    assert [f.name for f in found([bucket, weak], "s3-encrypted")] == ["assets-sse"]


def test_every_bucket_has_a_public_access_block_with_all_four_flags():
    bucket = res(BUCKET, "assets", {"bucket": "shop-assets"})
    by_name = res(PAB, "assets-pab", {"bucket": "shop-assets", **ALL_BLOCKED})
    assert found([bucket, by_name], "s3-public-access-blocked") == []
    by_dependency = res(PAB, "assets-pab", {"bucket": "assets-9f8e", **ALL_BLOCKED},
                        deps=(bucket["urn"],))
    assert found([bucket, by_dependency], "s3-public-access-blocked") == []

    partial = res(PAB, "assets-pab", {"bucket": "shop-assets",
                                      **ALL_BLOCKED, "restrictPublicBuckets": False})
    assert sorted(f.name for f in found([bucket, partial], "s3-public-access-blocked")) == [
        "assets", "assets-pab"]
    assert [f.name for f in found([bucket], "s3-public-access-blocked")] == ["assets"]
    account = res("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account",
                  ALL_BLOCKED)
    assert found([bucket, account], "s3-public-access-blocked") == []


def test_ebs_encryption_for_storage_classes_launch_templates_volumes_and_node_groups():
    storage_class = "kubernetes:storage.k8s.io/v1:StorageClass"
    gp3 = {"provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "encrypted": "true"}}
    assert found([res(storage_class, "gp3", gp3)], "ebs-encrypted") == []
    plain = {"provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}}
    assert found([res(storage_class, "gp3", plain)], "ebs-encrypted")
    efs = {"provisioner": "efs.csi.aws.com", "parameters": {}}
    assert found([res(storage_class, "efs", efs)], "ebs-encrypted") == []

    template = "aws:ec2/launchTemplate:LaunchTemplate"

    def mapping(encrypted: str) -> dict[str, Any]:
        return {"blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                         "ebs": {"volumeSize": 50, "encrypted": encrypted}}]}
    assert found([res(template, "nodes", mapping("true"))], "ebs-encrypted") == []
    assert messages([res(template, "nodes", mapping("false"))], "ebs-encrypted") == [
        "volume /dev/xvda is not encrypted: set ebs.encrypted"]
    assert found([res("aws:ebs/volume:Volume", "data", {"encrypted": False})], "ebs-encrypted")

    cluster = "eks:index:Cluster"
    assert found([res(cluster, "eks", {})], "ebs-encrypted")  # default node group, unencrypted
    assert found([res(cluster, "eks", {"skipDefaultNodeGroup": True})], "ebs-encrypted") == []
    assert found([res(cluster, "eks", {"nodeRootVolumeEncrypted": True})], "ebs-encrypted") == []


def test_no_database_is_publicly_accessible():
    assert found([res(RDS, "db", {"publiclyAccessible": False})], "no-public-database") == []
    assert messages([res(RDS, "db", {"publiclyAccessible": True})], "no-public-database") == [
        "database is publicly accessible: set publiclyAccessible: false"]


def web_ingress(port: int, protocol: str = "tcp") -> dict[str, Any]:
    return {"protocol": protocol, "fromPort": port, "toPort": port, "cidrBlocks": ["0.0.0.0/0"]}


def test_only_the_load_balancers_group_may_admit_the_internet_and_only_on_80_and_443():
    lb_group = res(SG, "alb", {"ingress": [web_ingress(443), web_ingress(80)]})
    lb = res(LB, "alb", {"securityGroups": ["sg-0alb"]}, deps=(lb_group["urn"],))
    assert found([lb_group, lb], "no-open-ingress") == []
    # The same ports on a group no load balancer uses are a finding.
    assert [f.name for f in found([lb_group], "no-open-ingress")] == ["alb", "alb"]

    https_v6 = {**web_ingress(443), "cidrBlocks": [], "ipv6CidrBlocks": ["::/0"]}
    ssh = res(SG, "alb", {"ingress": [web_ingress(22), https_v6]})
    lb_on_ssh = res(LB, "alb", {}, deps=(ssh["urn"],))
    assert messages([ssh, lb_on_ssh], "no-open-ingress") == [
        "ingress tcp 22-22 is open to the internet; "
        "only 80/443 on the load balancer's group may be"]
    assert len(found([ssh], "no-open-ingress")) == 2  # ::/0 counts as the internet too
    everything = res(SG, "alb", {"ingress": [web_ingress(0, protocol="-1")]})
    assert found([everything, res(LB, "alb", {}, deps=(everything["urn"],))], "no-open-ingress")


def test_open_ingress_through_rule_resources_and_alb_ingress_annotations():
    group = res(SG, "alb", {"name": "shop-alb"})
    https = res(INGRESS_RULE, "alb-https", {"securityGroupId": "sg-0abc", "ipProtocol": "tcp",
                                            "fromPort": 443, "toPort": 443,
                                            "cidrIpv4": "0.0.0.0/0"}, deps=(group["urn"],))
    annotated = res("kubernetes:networking.k8s.io/v1:Ingress", "web", {"metadata": {
        "annotations": {"alb.ingress.kubernetes.io/security-groups": "shop-alb"}}})
    assert found([group, https, annotated], "no-open-ingress") == []
    assert [f.name for f in found([group, https], "no-open-ingress")] == ["alb-https"]

    postgres = res(SG_RULE, "db-open", {"type": "ingress", "protocol": "tcp", "fromPort": 5432,
                                        "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"],
                                        "securityGroupId": "sg-0db"})
    assert [f.name for f in found([postgres], "no-open-ingress")] == ["db-open"]
    egress = res(SG_RULE, "out", {**postgres["inputs"], "type": "egress"})
    assert found([egress], "no-open-ingress") == []


def prod_db(**inputs: Any) -> dict[str, Any]:
    return res(RDS, "db", {"storageEncrypted": True, **inputs})


def test_prod_databases_are_multi_az_protected_and_keep_a_week_of_backups():
    resilient = prod_db(multiAz=True, deletionProtection=True, backupRetentionPeriod=7)
    assert found([resilient], "prod-database-resilience", environment="prod") == []
    assert messages([prod_db(backupRetentionPeriod=3)], "prod-database-resilience",
                    environment="prod") == [
        "prod database lacks deletion protection: set deletionProtection: true",
        "prod database is single-AZ: set multiAz: true",
        "prod database keeps backups 3 day(s): set backupRetentionPeriod >= 7",
    ]
    assert found([prod_db()], "prod-database-resilience", environment="dev") == []


def test_rds_manages_the_master_password_under_a_customer_key():
    key = "arn:aws:kms:us-east-1:123456789012:key/1"
    managed = res(RDS, "db", {"manageMasterUserPassword": True, "masterUserSecretKmsKeyId": key})
    assert found([managed], "rds-password-managed") == []
    assert messages([res(RDS, "db", {"password": "[secret]"})], "rds-password-managed") == [
        "the master password is an input (password), so it is in the state and the plan: "
        "remove it and set manageMasterUserPassword: true",
        "RDS does not manage the master password: set manageMasterUserPassword: true "
        "(RDS keeps it in Secrets Manager and rotates it)"]
    assert messages([res(RDS, "db", {"manageMasterUserPassword": True})],
                    "rds-password-managed") == [
        "the managed password's secret is encrypted with the AWS-managed key: set "
        "masterUserSecretKmsKeyId to the database's customer KMS key"]
    aurora = res(CLUSTER, "aurora", {"masterPassword": "x", "manageMasterUserPassword": True,
                                     "masterUserSecretKmsKeyId": key})
    assert [f.enforcement for f in found([aurora], "rds-password-managed")] == ["mandatory"]
    replica = res(RDS, "replica", {"replicateSourceDb": "shop-prod-database"})
    assert found([replica], "rds-password-managed") == []


def test_sqs_queues_encrypt_at_rest():
    queue = "aws:sqs/queue:Queue"
    assert found([res(queue, "q", {"sqsManagedSseEnabled": True})], "sqs-encrypted") == []
    assert found([res(queue, "q", {"kmsMasterKeyId": "alias/k"})], "sqs-encrypted") == []
    assert messages([res(queue, "q", {})], "sqs-encrypted") == [
        "queue is not encrypted at rest: set sqsManagedSseEnabled: true or kmsMasterKeyId"]


def test_without_a_stack_environment_the_resources_environment_tag_decides():
    tagged_prod = prod_db()
    tagged_prod["inputs"]["tags"]["Environment"] = "prod"
    assert len(found([tagged_prod], "prod-database-resilience")) == 3
    assert found([prod_db()], "prod-database-resilience") == []  # tagged dev
    cluster = res(CLUSTER, "aurora", {"storageEncrypted": True, "deletionProtection": True,
                                      "backupRetentionPeriod": 14})
    assert found([cluster], "prod-database-resilience", environment="prod") == []


def container(**overrides: Any) -> dict[str, Any]:
    return {"name": "web", "image": IMAGE,
            "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}},
            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
            **overrides}


def workload(*containers: dict[str, Any], kind: str = DEPLOYMENT, pod: dict | None = None,
             init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    spec = {"containers": list(containers), "initContainers": list(init), **(pod or {})}
    if kind == "kubernetes:batch/v1:CronJob":
        body = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": spec}}}}
    else:
        body = {"replicas": 2, "template": {"metadata": {}, "spec": spec}}
    return res(kind, "storefront", {"metadata": {"namespace": "shop"}, "spec": body})


def test_containers_run_as_non_root_by_their_own_or_the_pods_setting():
    assert found([workload(container())], "containers-non-root") == []
    pod_level = workload(container(securityContext={}),
                         pod={"securityContext": {"runAsNonRoot": True, "runAsUser": 10001}})
    assert found([pod_level], "containers-non-root") == []

    overridden = workload(container(securityContext={"runAsNonRoot": False}),
                          pod={"securityContext": {"runAsNonRoot": True}})
    assert len(found([overridden], "containers-non-root")) == 1
    uid_zero = workload(container(securityContext={"runAsNonRoot": True, "runAsUser": 0}))
    assert len(found([uid_zero], "containers-non-root")) == 1
    root_init = workload(container(), init=(container(name="migrate", securityContext={}),))
    assert messages([root_init], "containers-non-root") == [
        "container migrate may run as root: set securityContext.runAsNonRoot: true "
        "(and no runAsUser: 0)"]


def test_containers_declare_cpu_and_memory_limits():
    assert found([workload(container())], "containers-resource-limits") == []
    no_cpu = workload(container(resources={"limits": {"memory": "256Mi"}}))
    assert messages([no_cpu], "containers-resource-limits") == ["container web has no cpu limit"]
    cron = workload(container(resources={}), kind="kubernetes:batch/v1:CronJob")
    assert messages([cron], "containers-resource-limits") == [
        "container web has no cpu or memory limit"]


def test_no_container_runs_privileged():
    assert found([workload(container())], "containers-unprivileged") == []
    privileged = container(securityContext={"runAsNonRoot": True, "privileged": True})
    assert messages([workload(privileged)], "containers-unprivileged") == [
        "container web runs privileged"]


@pytest.mark.parametrize("image", [IMAGE, f"{ECR}/shop/storefront:1.4.2@{DIGEST}"])
def test_images_pinned_by_digest_in_the_stacks_registry_pass(image):
    assert found([workload(container(image=image))], "images-from-stack-ecr",
                 registry_host=ECR) == []


@pytest.mark.parametrize("image", [
    f"{ECR}/shop-storefront:latest",                                # a tag moves
    f"docker.io/library/nginx@{DIGEST}",                            # not ECR
    f"210987654321.dkr.ecr.us-east-1.amazonaws.com/shop@{DIGEST}",  # another account's ECR
    f"{ECR}.evil.example/shop@{DIGEST}",                            # a lookalike host
])
def test_images_from_elsewhere_or_by_tag_fail(image):
    assert len(found([workload(container(image=image))], "images-from-stack-ecr",
                     registry_host=ECR)) == 1


def test_without_a_registry_host_any_private_ecr_by_digest_passes():
    other_account = f"210987654321.dkr.ecr.eu-west-1.amazonaws.com/shop@{DIGEST}"
    assert found([workload(container(image=other_account))], "images-from-stack-ecr") == []
    assert found([workload(container(image="nginx:1.27"))], "images-from-stack-ecr")


def test_taggable_aws_resources_carry_the_four_required_tags():
    assert found([res(RDS, "db", {"storageEncrypted": True})], "required-tags") == []
    untagged = res(RDS, "db", {"tags": {"Project": "shop", "Environment": "dev", "Owner": ""}})
    assert messages([untagged], "required-tags") == ["missing required tags: Owner, CostCenter"]
    rule = res(SG_RULE, "rule", {"type": "egress"}, tagged=False)
    assert found([rule], "required-tags") == []
    asg = res("aws:autoscaling/group:Group", "nodes", {"tags": [
        {"key": key, "value": value, "propagateAtLaunch": True} for key, value in TAGS.items()]})
    assert found([asg], "required-tags") == []


def test_a_type_is_taggable_when_its_pulumi_aws_class_accepts_tags():
    assert is_taggable("aws:rds/instance:Instance")
    assert is_taggable("aws:lambda/function:Function")  # module lambda_ in Python
    assert not is_taggable("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert not is_taggable("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert not is_taggable("kubernetes:apps/v1:Deployment")
    assert not is_taggable("aws:nosuch/thing:Thing")


def test_instance_types_outside_the_allowed_list_are_advisory():
    small = res(RDS, "db", {"storageEncrypted": True, "instanceClass": "db.t4g.medium"})
    assert found([small], "allowed-instance-types") == []
    huge = res(RDS, "db", {"storageEncrypted": True, "instanceClass": "db.r5.24xlarge"})
    nodes = res("eks:index:ManagedNodeGroup", "nodes",
                {"instanceTypes": ["m7g.large", "p4d.24xlarge"]})
    findings = found([huge, nodes], "allowed-instance-types")
    assert [(f.name, f.message, f.enforcement) for f in findings] == [
        ("db", "instance type db.r5.24xlarge is not in the allowed list", "advisory"),
        ("nodes", "instance type p4d.24xlarge is not in the allowed list", "advisory"),
    ]
    assert found([huge], "allowed-instance-types",
                 allowed_instance_types=frozenset({"db.r5.24xlarge"})) == []


def test_rules_have_unique_names_and_descriptions():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names)) == 22
    assert all(rule.description.endswith(".") for rule in RULES)
    assert {rule.name for rule in RULES if rule.enforcement == "advisory"} == {
        "allowed-instance-types", "prod-cross-region-recovery"}


def broken_plan() -> list[dict[str, Any]]:
    """A prod stack with one of each common mistake, and a few compliant neighbours."""
    bucket = res(BUCKET, "assets", {})
    return [
        res(RDS, "db", {"instanceClass": "db.t4g.medium", "publiclyAccessible": True,
                        "multiAz": True, "deletionProtection": True,
                        "backupRetentionPeriod": 7}),
        bucket,
        res(SSE, "assets-sse", {"rules": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms"}}]}, deps=(bucket["urn"],)),
        res(SG, "nodes", {"ingress": [web_ingress(22)]}),
        workload(container(image=f"{ECR}/shop-storefront:latest")),
        res("aws:ecr/repository:Repository", "images", {}, tagged=False),
    ]


def test_check_on_a_broken_plan_names_every_violation():
    findings = check(broken_plan(), Context(environment="prod", registry_host=ECR))
    assert sorted((f.policy, f.name) for f in findings) == [
        ("images-from-stack-ecr", "storefront"),
        ("no-open-ingress", "nodes"),
        ("no-public-database", "db"),
        # Neither the bucket nor the database carries `protect`, as prod requires.
        ("prod-stateful-protected", "assets"),
        ("prod-stateful-protected", "db"),
        ("rds-encrypted", "db"),
        ("rds-password-managed", "db"),
        ("required-tags", "images"),
        ("s3-public-access-blocked", "assets"),
    ]
    assert all(f.urn == urn(next(r["type"] for r in broken_plan() if r["name"] == f.name),
                            f.name) for f in findings)


def test_report_lists_mandatory_findings_first_and_counts_them():
    findings = [
        Finding("allowed-instance-types", "urn:a", "db", "instance type x is not allowed",
                "advisory"),
        Finding("rds-encrypted", "urn:b", "db", "storage is not encrypted", "mandatory"),
    ]
    assert report(findings).splitlines() == [
        "[mandatory] rds-encrypted: db: storage is not encrypted",
        "[advisory] allowed-instance-types: db: instance type x is not allowed",
        "policy: 1 mandatory, 1 advisory finding(s)",
    ]
    assert blocking(findings) == [findings[1]]
    assert report([]) == "policy: 0 mandatory, 0 advisory finding(s)"
