"""Per-environment defaults for every `shop:` setting; Pulumi.<stack>.yaml overrides them.

dev is cheap (one NAT gateway, single-AZ data, the fewest nodes), prod is highly available
(a NAT gateway per AZ, multi-AZ database with a replica, WAF, deletion protection), and a
preview environment is a namespace on dev's cluster with its data inside the cluster.
"""

from __future__ import annotations

from typing import Any

ENVIRONMENTS = ("dev", "prod", "preview")

_COMMON: dict[str, Any] = {
    "owner": "platform-team",
    "costCenter": "shop",
    "kubernetesVersion": "1.33",
    "nodeInstanceType": "t3.medium",
    "clusterPublicAccessCidrs": [],
    # Required in prod (settings/cluster_checks.py): its cluster API is private.
    "clusterAdminRoleArn": "",
    "clusterDeployRoleArn": "",
    "podIdentity": "irsa",
    "dbEngineVersion": "16",
    "domain": "",
    "hostedZoneId": "",
    "originDomain": "",
    "originCertificateArn": "",
    "wafRateLimit": 2000,
    # Required for dev and prod (loader.py): nothing here knows where the repository is.
    "runbookBaseUrl": "",
    "alertEmail": "",
    "alertSmtpSmarthost": "",
    "alertSmtpFrom": "",
    "alertSmtpUsername": "",
    "alertSmtpPassword": None,
    "slackWebhookUrl": None,
    "slackChannel": "#shop-alerts",
    "grafanaEnabled": True,
    # prod protects its stateful resources (stacks/protection.py); true lifts that, deliberately.
    "unprotectStateful": False,
    "baseStack": "",
    # CI deploys each commit as its own tag: `pulumi up -c shop:imageVersion=git-<sha>`.
    "imageVersion": "local",
    "previewDomain": "",
    "previewCreatedAt": "",
    "previewTtlDays": 7,
    # Safeguards (settings/safeguards.py): off outside prod, which turns them on below.
    "recoveryRegion": "",
    "cloudTrailEnabled": False,
    "guardDutyEnabled": False,
    "securityLogRetentionDays": 365,
}

_DEV: dict[str, Any] = {
    **_COMMON,
    "vpcCidr": "10.10.0.0/16",
    "azCount": 2,
    "natMode": "single",
    "logRetentionDays": 14,
    "nodeMinSize": 1,
    "nodeDesiredSize": 2,
    "nodeMaxSize": 3,
    "dbInstanceClass": "db.t4g.micro",
    "dbAllocatedStorageGb": 20,
    "dbMaxAllocatedStorageGb": 50,
    "dbBackupRetentionDays": 1,
    "dbMultiAz": False,
    "dbReplicaCount": 0,
    "nodeAutoscaler": "clusterAutoscaler",
    "dbPasswordRotationDays": 30,
    "deletionProtection": False,
    "cacheNodeType": "cache.t4g.micro",
    "cacheNodeCount": 1,
    "cacheSnapshotRetentionDays": 1,
    "wafEnabled": False,
    "cdnPriceClass": "PriceClass_100",
    "storefrontMinReplicas": 1,
    "storefrontMaxReplicas": 3,
    "inClusterData": False,
    "metricsRetentionDays": 7,
    "prometheusVolumeGb": 20,
    "monitoringReplicas": 1,
}

PRESETS: dict[str, dict[str, Any]] = {
    "dev": _DEV,
    "prod": {
        **_COMMON,
        "vpcCidr": "10.20.0.0/16",
        "azCount": 3,
        "natMode": "perAz",
        "logRetentionDays": 90,
        "nodeMinSize": 3,
        "nodeDesiredSize": 3,
        "nodeMaxSize": 9,
        "dbInstanceClass": "db.m7g.large",
        "dbAllocatedStorageGb": 100,
        "dbMaxAllocatedStorageGb": 500,
        "dbBackupRetentionDays": 14,
        "dbMultiAz": True,
        "dbReplicaCount": 1,
        "nodeAutoscaler": "karpenter",
        "dbPasswordRotationDays": 7,
        "deletionProtection": True,
        "cacheNodeType": "cache.m7g.large",
        "cacheNodeCount": 2,
        "cacheSnapshotRetentionDays": 7,
        "wafEnabled": True,
        "cdnPriceClass": "PriceClass_All",
        "storefrontMinReplicas": 3,
        "storefrontMaxReplicas": 12,
        "inClusterData": False,
        "metricsRetentionDays": 30,
        "prometheusVolumeGb": 100,
        "monitoringReplicas": 2,
        "recoveryRegion": "us-west-2",
        "cloudTrailEnabled": True,
        "guardDutyEnabled": True,
    },
    "preview": {**_DEV, "inClusterData": True, "storefrontMaxReplicas": 1},
}
