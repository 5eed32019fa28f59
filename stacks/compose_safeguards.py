"""What compose.py adds for the architecture document's safeguards: the ports the network ACLs
let across the tiers, the security logs (CloudTrail, GuardDuty) and the cross-region recovery
copies. Kept apart from compose.py so each stays one concern and small.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.endpoints import POSTGRES_PORT, REDIS_PORT
from components.origin import HTTPS_PORT
from components.recovery import Recovery, RecoveryArgs
from components.security_logs import SecurityLogs, SecurityLogsArgs
from components.storefront_pod import HTTP_PORT
from stacks.settings import Settings

PREVIEW_LISTENER_PORT = 80  # preview Ingresses listen over plain HTTP (previews/environment.py)


def network_acl_ports(settings: Settings, hosts_previews: bool) -> dict[str, tuple[int, ...]]:
    """The NetworkArgs port fields: HTTPS in from viewers (and HTTP for the previews a stack
    hosts), the storefront's port to its pods, HTTPS out through NAT (and the SMTP relay's
    port when alerts go by mail), PostgreSQL and Redis to the data tier, and HTTPS to
    GuardDuty's endpoint wherever it lands."""
    listeners = (HTTPS_PORT, PREVIEW_LISTENER_PORT) if hosts_previews else (HTTPS_PORT,)
    egress = [HTTPS_PORT]
    smtp = settings.monitoring.smtp
    if smtp is not None:
        smtp_port = int(smtp.smarthost.rsplit(":", 1)[1])
        if smtp_port not in egress:
            egress.append(smtp_port)
    # GuardDuty puts its runtime agent's endpoint in whichever subnet has addresses to spare.
    managed = (HTTPS_PORT,) if settings.security_logs.guardduty else ()
    return {"listener_ports": listeners, "workload_ports": (HTTP_PORT,),
            "egress_ports": tuple(egress), "data_ports": (POSTGRES_PORT, REDIS_PORT),
            "managed_endpoint_ports": managed}


def build_safeguards(settings: Settings, platform: Any) -> None:
    """The security logs and the recovery copies the settings ask for, and their outputs."""
    logs = settings.security_logs
    if logs.cloudtrail or logs.guardduty:
        monitoring = settings.monitoring
        security = SecurityLogs("security", SecurityLogsArgs(
            trail_name=settings.name_prefix,
            region=settings.region,
            tags=settings.tags,
            cloudtrail=logs.cloudtrail,
            guardduty=logs.guardduty,
            retention_days=logs.retention_days,
            protect=settings.deletion_protection,
            alert_emails=tuple(filter(None, monitoring.alert_email.split(","))),
            slack_webhook_url=(monitoring.slack_webhook_url.as_output()
                               if monitoring.slack_webhook_url else None),
        ))
        pulumi.export("securityAlertTopicArn", security.alert_topic_arn)
        if security.trail_arn is not None:
            pulumi.export("cloudTrailArn", security.trail_arn)
            pulumi.export("cloudTrailBucketName", security.log_bucket_name)
        if security.detector_id is not None:
            pulumi.export("guardDutyDetectorId", security.detector_id)
    if settings.recovery.enabled:
        recovery = Recovery("recovery", RecoveryArgs(
            region=settings.recovery.region,
            primary_region=settings.region,
            tags=settings.tags,
            database_arn=platform.database.instance_arn,
            backup_retention_days=settings.database.backup_retention_days,
            media_bucket_arn=platform.cdn.assets_bucket_arn,
            media_bucket_name=platform.cdn.assets_bucket_name,
            distribution_arn=platform.cdn.distribution_arn,
            protect=settings.deletion_protection,
        ))
        # What `python -m stacks ops restore-recovery` and `ops recovery-media` read.
        pulumi.export("recoveryRegion", recovery.region)
        pulumi.export("databaseRecoveryBackupArn", recovery.database_backup_arn)
        pulumi.export("mediaReplicaBucketName", recovery.media_replica_bucket_name)
        pulumi.export("mediaReplicaDomainName", recovery.media_replica_domain_name)
