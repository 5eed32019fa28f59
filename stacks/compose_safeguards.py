"""What compose.py adds for the architecture document's safeguards: the ports the network ACLs
let across the tiers, the security logs (CloudTrail, GuardDuty) and the cross-region recovery
copies. Kept apart from compose.py so each stays one concern and small.
"""

from __future__ import annotations

from components.endpoints import POSTGRES_PORT, REDIS_PORT
from components.origin import HTTPS_PORT
from components.storefront_pod import HTTP_PORT
from stacks.settings import Settings

PREVIEW_LISTENER_PORT = 80  # preview Ingresses listen over plain HTTP (previews/environment.py)


def network_acl_ports(settings: Settings, hosts_previews: bool) -> dict[str, tuple[int, ...]]:
    """The NetworkArgs port fields: HTTPS in from viewers (and HTTP for the previews a stack
    hosts), the storefront's port to its pods, HTTPS out through NAT (and the SMTP relay's
    port when alerts go by mail), PostgreSQL and Redis to the data tier."""
    listeners = (HTTPS_PORT, PREVIEW_LISTENER_PORT) if hosts_previews else (HTTPS_PORT,)
    egress = [HTTPS_PORT]
    smtp = settings.monitoring.smtp
    if smtp is not None:
        smtp_port = int(smtp.smarthost.rsplit(":", 1)[1])
        if smtp_port not in egress:
            egress.append(smtp_port)
    return {"listener_ports": listeners, "workload_ports": (HTTP_PORT,),
            "egress_ports": tuple(egress), "data_ports": (POSTGRES_PORT, REDIS_PORT)}
