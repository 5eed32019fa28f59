"""The one mock engine, shared by the tests and by `python -m stacks plan`.

`run_under_mocks(program)` runs a Pulumi program (any callable that defines resources) under
`pulumi.runtime.set_mocks`, waits until every resource is registered and every output has
settled, and returns a `Recorded` (see stacks/plan/recorded.py): the registrations with their inputs
as Pulumi sends them (camelCase keys, secrets replaced by `SECRET`) and the stack outputs.

`ShopMocks` answers like AWS would, deterministically: ids, ARNs and endpoints are derived from
the resource's type and name and the inputs that force its replacement (stacks/plan/ids.py), so
a replaced resource gets a new id, its dependents see it, and two runs of the same program
give byte-identical plans. It fakes only the data sources the program calls and raises on
any other, so a new lookup cannot silently return nothing. A component that calls a new data
source adds it to `_DATA_SOURCES`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stacks.plan.ids import identity_hash, short_hash
from stacks.plan.recorded import SECRET, Recorded, RecordedResource, RecordingMonitor

__all__ = ["ACCOUNT_ID", "CLOUDFRONT_ORIGIN_FACING", "SECRET", "Recorded", "RecordedResource",
           "ShopMocks", "run_under_mocks"]

ACCOUNT_ID = "123456789012"
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # CloudFront's fixed alias hosted zone


def run_under_mocks(
    program: Callable[[], Any],
    *,
    stack: str = "dev",
    project: str = "shop",
    region: str = "us-east-1",
) -> Recorded:
    """Run `program` under the mock engine and return what it registered."""
    monitor = RecordingMonitor(ShopMocks(region))
    _reset_runtime()
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor
    )
    root = sdk_settings.get_root_resource()
    _sync_await(run_pulumi_func(program))
    outputs = _sync_await(_settle_outputs(getattr(root, "outputs", {})))
    # Sorted, because registration order depends on how the event loop interleaved the RPCs.
    resources = sorted(monitor.records, key=lambda record: record.urn)
    return Recorded(resources=resources, outputs=outputs)


def _reset_runtime() -> None:
    """Forget the previous run's stack, RPCs and outputs, so runs in one process are independent."""
    sdk_settings.SETTINGS.rpc_manager.clear()
    sdk_settings.SETTINGS.outputs.clear()
    sdk_settings.set_root_resource(None)  # type: ignore[arg-type]


async def _settle_outputs(exports: Mapping[str, Any]) -> dict[str, Any]:
    settled = {}
    for name, value in exports.items():
        output = pulumi.Output.from_input(value)
        resolved = await output.future()
        settled[name] = SECRET if await output.is_secret() else resolved
    return settled


class ShopMocks(pulumi.runtime.Mocks):
    """Realistic, deterministic answers for resources and the data sources the program uses."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        # An explicit AWS provider's id -> its region: what its resources' ARNs name.
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: sdk_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        provider_id = (args.provider or "").rsplit("::", 1)[-1]
        region = self.provider_regions.get(provider_id, self.region)
        fake = _Fake(args.typ, args.name, dict(args.inputs), region)
        resource_id = args.resource_id or fake.id()
        if args.typ == "pulumi:providers:aws" and args.inputs.get("region"):
            self.provider_regions[resource_id] = str(args.inputs["region"])
        state = {**fake.inputs, **fake.common(resource_id)}
        extra = _OUTPUTS.get(args.typ)
        if extra is not None:
            state.update(extra(fake, resource_id))
        if args.typ.startswith("kubernetes:") and isinstance(fake.inputs.get("metadata"), dict):
            state["metadata"] = _kubernetes_metadata(fake)
        return resource_id, state

    def call(self, args: sdk_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        answer = _DATA_SOURCES.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"the mock engine does not fake the data source {args.token}; "
                "add it to _DATA_SOURCES in stacks/plan/mocks.py"
            )
        return answer(self.region, dict(args.args))


class _Fake:
    """The facts a fake resource's outputs are derived from."""

    def __init__(self, typ: str, name: str, inputs: dict[str, Any], region: str) -> None:
        self.typ, self.name, self.inputs, self.region = typ, name, inputs, region
        # Folds in the inputs that force replacement: a replaced resource gets a new id.
        self.hash = identity_hash(typ, name, inputs)

    def id(self) -> str:
        if self.typ == _BACKUP_REPLICATION:  # its id is the replicated backups' ARN
            return f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:auto-backup:ab-{self.hash}"
        prefix = _ID_PREFIXES.get(self.typ)
        if prefix is not None:
            return f"{prefix}{self.hash}"
        return str(self.inputs.get("name") or f"{self.name}-{self.hash[:7]}")

    def common(self, resource_id: str) -> dict[str, Any]:
        service, _, kind = self.typ.partition(":")[2].partition("/")
        region = "" if service in ("iam", "cloudfront", "route53") else self.region
        resource_kind = kind.split(":")[0].lower()
        state: dict[str, Any] = {
            "arn": f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource_kind}/{resource_id}",
            "name": self.inputs.get("name", resource_id),
        }
        if "tags" in self.inputs:
            state["tagsAll"] = self.inputs["tags"]
        return state

    def domain(self, suffix: str) -> str:
        return f"{self.name}.{self.hash[:12]}.{self.region}.{suffix}"


_BACKUP_REPLICATION = ("aws:rds/instanceAutomatedBackupsReplication:"
                       "InstanceAutomatedBackupsReplication")
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
}


def _vpc(fake: _Fake, _id: str) -> dict[str, Any]:
    return {"defaultSecurityGroupId": f"sg-{fake.hash[::-1]}",
            "mainRouteTableId": f"rtb-{fake.hash[::-1]}",
            "defaultNetworkAclId": f"acl-{fake.hash[::-1]}"}


def _eip(fake: _Fake, _id: str) -> dict[str, Any]:
    octets = [int(fake.hash[i : i + 2], 16) for i in (0, 2, 4)]
    return {"publicIp": "54.{}.{}.{}".format(*octets)}


def _launch_template(_fake: _Fake, _id: str) -> dict[str, Any]:
    return {"latestVersion": 1, "defaultVersion": 1}


def _kms_key(fake: _Fake, _id: str) -> dict[str, Any]:
    digits = short_hash(fake.typ, fake.name, fake.hash, length=32)
    key_id = "-".join(digits[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))
    return {"keyId": key_id, "arn": f"arn:aws:kms:{fake.region}:{ACCOUNT_ID}:key/{key_id}"}


def _iam_role(fake: _Fake, resource_id: str) -> dict[str, Any]:
    return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{resource_id}",
            "uniqueId": f"AROA{fake.hash.upper()}"}


def _log_group(fake: _Fake, resource_id: str) -> dict[str, Any]:
    return {"arn": f"arn:aws:logs:{fake.region}:{ACCOUNT_ID}:log-group:{resource_id}"}


def _eks_cluster(fake: _Fake, _id: str) -> dict[str, Any]:
    """pulumi-eks's Cluster is a multi-language component: under mocks only its outputs exist."""
    name = fake.inputs.get("name", fake.name)
    endpoint = f"https://{fake.hash.upper()}.gr7.{fake.region}.eks.amazonaws.com"
    issuer = f"oidc.eks.{fake.region}.amazonaws.com/id/{fake.hash.upper()}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubernetes", "cluster": {"server": endpoint}}],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [{"name": "aws", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["--region", fake.region, "eks", "get-token", "--cluster-name", name],
        }}}],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig, sort_keys=True),
        "clusterSecurityGroupId": f"sg-{short_hash(fake.name, fake.hash, 'cluster')}",
        "nodeSecurityGroupId": f"sg-{short_hash(fake.name, fake.hash, 'nodes')}",
        "oidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        # As pulumi-eks answers: the URL with its scheme, the issuer without.
        "oidcProviderUrl": f"https://{issuer}",
        "oidcIssuer": issuer,
    }


def _rds_instance(fake: _Fake, _id: str) -> dict[str, Any]:
    address = fake.domain("rds.amazonaws.com")
    port = int(fake.inputs.get("port", 5432))
    state = {"address": address, "endpoint": f"{address}:{port}", "port": port,
             "identifier": fake.inputs.get("identifier", _id),
             "resourceId": f"db-{fake.hash.upper()}"}
    if fake.inputs.get("manageMasterUserPassword"):
        # RDS names its own secret `rds!db-<uuid>`; Secrets Manager appends 6 characters.
        state["masterUserSecrets"] = [{
            "secretArn": (f"arn:aws:secretsmanager:{fake.region}:{ACCOUNT_ID}:secret:"
                          f"rds!db-{fake.hash[:12]}-AbCdEf"),
            "kmsKeyId": fake.inputs.get("masterUserSecretKmsKeyId", ""),
            "secretStatus": "active"}]
    return state


def _replication_group(fake: _Fake, _id: str) -> dict[str, Any]:
    host = fake.domain("cache.amazonaws.com")
    return {
        "primaryEndpointAddress": f"master.{host}",
        "readerEndpointAddress": f"replica.{host}",
        "port": int(fake.inputs.get("port", 6379)),
    }


def _ecr_repository(fake: _Fake, resource_id: str) -> dict[str, Any]:
    return {
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{fake.region}.amazonaws.com/{resource_id}",
    }


def _bucket(fake: _Fake, _id: str) -> dict[str, Any]:
    bucket = fake.inputs.get("bucket") or f"{fake.name}-{fake.hash[:8]}"
    return {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{fake.region}.amazonaws.com",
    }


def _distribution(fake: _Fake, resource_id: str) -> dict[str, Any]:
    return {
        "domainName": f"d{fake.hash[:13]}.cloudfront.net",
        "hostedZoneId": CLOUDFRONT_ZONE_ID,
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{resource_id}",
    }


def _certificate(fake: _Fake, _id: str) -> dict[str, Any]:
    names = [fake.inputs.get("domainName", ""),
             *fake.inputs.get("subjectAlternativeNames", [])]
    return {"domainValidationOptions": [
        {
            "domainName": name,
            "resourceRecordName": f"_{short_hash(name, length=32)}.{name}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{short_hash(name, 'acm', length=32)}.acm-validations.aws.",
        }
        for name in names
    ]}


def _route53_record(fake: _Fake, _id: str) -> dict[str, Any]:
    return {"fqdn": str(fake.inputs.get("name", "")).rstrip(".")}


def _web_acl(fake: _Fake, resource_id: str) -> dict[str, Any]:
    scope = "global" if fake.inputs.get("scope") == "CLOUDFRONT" else "regional"
    return {"arn": f"arn:aws:wafv2:us-east-1:{ACCOUNT_ID}:{scope}/webacl/{fake.name}/{resource_id}"}


def _kubernetes_metadata(fake: _Fake) -> dict[str, Any]:
    """The provider auto-names an object without `metadata.name`: resource name + suffix."""
    metadata = dict(fake.inputs["metadata"])
    metadata.setdefault("name", f"{fake.name}-{fake.hash[:8]}")
    return metadata


def _docker_image(fake: _Fake, _id: str) -> dict[str, Any]:
    """A pushed build: its digest, and `ref` as buildx reports it (first tag @ digest)."""
    digest = f"sha256:{short_hash(fake.typ, fake.name, fake.hash, 'digest', length=64)}"
    tags = fake.inputs.get("tags") or []
    return {"digest": digest, "ref": f"{tags[0]}@{digest}" if tags else ""}


def _ingress(fake: _Fake, _id: str) -> dict[str, Any]:
    """The address the AWS Load Balancer Controller writes back once the ALB exists."""
    hostname = f"k8s-{fake.name[:20]}-{fake.hash[:10]}.{fake.region}.elb.amazonaws.com"
    return {"status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}


def _random_secret(fake: _Fake, _id: str) -> dict[str, Any]:
    # The provider's SDK marks `result` secret itself; the recognisable prefix lets tests grep a
    # plan for leaks.
    return {"result": f"mock-secret-{fake.hash}"}


def _random_id(fake: _Fake, _id: str) -> dict[str, Any]:
    """Derived from the keepers too: new keepers (a replacement) give a new id, as for real."""
    digits = short_hash(fake.typ, fake.name, json.dumps(fake.inputs, sort_keys=True),
                        length=2 * int(fake.inputs.get("byteLength", 8)))
    return {"hex": digits, "dec": str(int(digits, 16)),
            "b64Url": base64.urlsafe_b64encode(bytes.fromhex(digits)).decode().rstrip("="),
            "b64Std": base64.b64encode(bytes.fromhex(digits)).decode()}


def _stack_reference(fake: _Fake, _id: str) -> dict[str, Any]:
    """A preview's base stack (shop:baseStack): the outputs stacks/compose.py exports for the
    previews that run on its cluster, as a dev stack in this region would have them."""
    from components.subnets import plan_subnets

    base = str(fake.inputs.get("name", "dev")).rsplit("/", 1)[-1]
    prefix = f"{sdk_settings.get_project()}-{base}"
    repository = f"{ACCOUNT_ID}.dkr.ecr.{fake.region}.amazonaws.com/{prefix}/storefront"
    cluster = _eks_cluster(_Fake("eks:index:Cluster", "cluster", {"name": prefix}, fake.region), "")
    vpc_cidr = "10.10.0.0/16"
    zones = [f"{fake.region}{letter}" for letter in "ab"]
    return {
        "outputs": {
            "region": fake.region,
            "clusterName": prefix,
            "kubeconfig": cluster["kubeconfigJson"],
            "repositoryUrl": repository,
            "vpcCidr": vpc_cidr,
            "imagePlatforms": ["linux/amd64"],
            "loadBalancerCidrs": [plan.cidr for plan in plan_subnets(vpc_cidr, zones)
                                  if plan.tier == "public"],
            **{f"{kind}Image": f"{repository}@sha256:{short_hash(base, kind, length=64)}"
               for kind in ("postgres", "redis")},
        },
        "secretOutputNames": ["kubeconfig"],
    }


_OUTPUTS: dict[str, Callable[[_Fake, str], dict[str, Any]]] = {
    "pulumi:pulumi:StackReference": _stack_reference,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:kms/key:Key": _kms_key,
    "aws:iam/role:Role": _iam_role,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "eks:index:Cluster": _eks_cluster,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:route53/record:Record": _route53_record,
    "docker-build:index:Image": _docker_image,
    "kubernetes:networking.k8s.io/v1:Ingress": _ingress,
    "random:index/randomPassword:RandomPassword": _random_secret,
    "random:index/randomString:RandomString": _random_secret,
    "random:index/randomId:RandomId": _random_id,
}


def _availability_zones(region: str, _args: dict[str, Any]) -> dict[str, Any]:
    letters = "abcd"
    return {
        "id": region,
        "names": [f"{region}{letter}" for letter in letters],
        "zoneIds": [f"{region.replace('-', '')[:4]}-az{i}" for i in range(1, len(letters) + 1)],
        "groupNames": [region],
    }


def _caller_identity(_region: str, _args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
        "userId": "AIDAMOCKDEPLOYER",
    }


def _ecr_authorization_token(region: str, args: dict[str, Any]) -> dict[str, Any]:
    registry = args.get("registryId") or ACCOUNT_ID
    return {
        "id": region,
        "registryId": registry,
        "userName": "AWS",
        "password": f"mock-secret-{short_hash('ecr-token', registry)}",
        "authorizationToken": f"mock-secret-{short_hash('ecr-auth', registry)}",
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{region}.amazonaws.com",
        "expiresAt": "2030-01-01T00:00:00Z",
    }


CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
# Per region, AWS's ids of that managed prefix list and application load balancers' zones.
_CLOUDFRONT_PREFIX_LISTS = {"us-east-1": "pl-3b927c52", "us-west-2": "pl-82a045eb",
                            "eu-west-1": "pl-4fa04526", "eu-central-1": "pl-a3a144ca"}
_ALB_ZONES = {"us-east-1": "Z35SXDOTRQ7X7K", "us-west-2": "Z1H1FL5HABSF5",
              "eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5"}


def _managed_prefix_list(region: str, args: dict[str, Any]) -> dict[str, Any]:
    region = args.get("region") or region
    if args.get("name") != CLOUDFRONT_ORIGIN_FACING or region not in _CLOUDFRONT_PREFIX_LISTS:
        raise NotImplementedError(f"the mock engine fakes only {CLOUDFRONT_ORIGIN_FACING} in "
                                  f"{sorted(_CLOUDFRONT_PREFIX_LISTS)}, not {args}")
    list_id = _CLOUDFRONT_PREFIX_LISTS[region]
    return {"id": list_id, "name": CLOUDFRONT_ORIGIN_FACING, "region": region,
            "arn": f"arn:aws:ec2:{region}:aws:prefix-list/{list_id}", "addressFamily": "IPv4",
            "maxEntries": 55, "ownerId": "AWS", "version": 42, "tags": {},
            "entries": [{"cidr": cidr, "description": ""}
                        for cidr in ("120.52.22.96/27", "204.246.168.0/22", "205.251.249.0/24")]}


# Per region, AWS's managed prefix list of S3 (what the gateway endpoint routes) and a few of
# its CIDRs.
_S3_PREFIX_LISTS = {
    "us-east-1": ("pl-63a5400a", ("3.5.0.0/19", "16.182.0.0/16", "52.216.0.0/15",
                                  "54.231.0.0/16")),
    "us-west-2": ("pl-68a54001", ("3.5.76.0/22", "52.92.128.0/17", "52.218.128.0/17")),
    "eu-west-1": ("pl-6da54004", ("3.5.64.0/21", "52.92.0.0/17", "52.218.0.0/17")),
    "eu-central-1": ("pl-6ea54007", ("3.5.134.0/23", "52.219.72.0/22", "52.219.140.0/24")),
}


def _prefix_list(region: str, args: dict[str, Any]) -> dict[str, Any]:
    region = args.get("region") or region
    known = _S3_PREFIX_LISTS.get(region)
    if known is None or args.get("name") != f"com.amazonaws.{region}.s3":
        raise NotImplementedError(f"the mock engine fakes only S3's prefix list in "
                                  f"{sorted(_S3_PREFIX_LISTS)}, not {args}")
    list_id, cidrs = known
    return {"id": list_id, "prefixListId": list_id, "name": args["name"], "region": region,
            "cidrBlocks": list(cidrs)}


def _load_balancer_zone(region: str, args: dict[str, Any]) -> dict[str, Any]:
    region = args.get("region") or region
    kind = args.get("loadBalancerType") or "application"
    if kind != "application" or region not in _ALB_ZONES:
        raise NotImplementedError(f"the mock engine fakes only application load balancers' "
                                  f"zones in {sorted(_ALB_ZONES)}, not {args}")
    return {"id": _ALB_ZONES[region], "region": region, "loadBalancerType": kind}


_DATA_SOURCES: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_authorization_token,
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": _managed_prefix_list,
    "aws:lb/getHostedZoneId:getHostedZoneId": _load_balancer_zone,
    "aws:ec2/getPrefixList:getPrefixList": _prefix_list,
}
