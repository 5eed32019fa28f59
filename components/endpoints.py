"""The one interface between the data tier and the storefront workload.

Managed services (RDS + ElastiCache) and the in-cluster PostgreSQL/Redis both produce a
`DataEndpoints`; the storefront neither knows nor cares which one it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pulumi

from components.cache import Cache
from components.database import Database
from components.secret_store import ManagedPassword

POSTGRES_PORT = 5432
REDIS_PORT = 6379


@dataclass(frozen=True)
class DataEndpoints:
    """Connection URLs carrying credentials, so always secret Outputs: the constructor makes
    them secret whatever it is handed, and they never reach a ConfigMap or a plan in clear."""

    database_url: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    database_replica_url: pulumi.Output[str] | None = None
    # Where the in-cluster data runs (the storefront's egress policy admits that namespace);
    # None for managed services, which are reached inside the VPC's CIDR.
    namespace: str | None = None
    # Managed databases: the URLs carry no password; RDS keeps it in Secrets Manager and the
    # pods mount it (components/secret_store.py). None: the password is in the URLs.
    database_password: ManagedPassword | None = None

    def __post_init__(self) -> None:
        for name in ("database_url", "redis_url", "database_replica_url"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, pulumi.Output.secret(value))


def postgres_url(user: str, password: str | None, host: str, port: int, database: str,
                 tls: bool) -> str:
    """With `tls`, the driver refuses a connection the server won't encrypt. No `password`:
    the app gets it apart (DATABASE_PASSWORD_FILE)."""
    credentials = quote(user, safe="")
    if password is not None:
        credentials += f":{quote(password, safe='')}"
    url = f"postgresql://{credentials}@{host}:{port}/{database}"
    return f"{url}?sslmode=require" if tls else url


def redis_url(password: str, host: str, port: int, tls: bool) -> str:
    scheme = "rediss" if tls else "redis"
    return f"{scheme}://:{quote(password, safe='')}@{host}:{port}/0"


def managed_endpoints(database: Database, cache: Cache) -> DataEndpoints:
    """RDS (TLS enforced by its parameter group) and ElastiCache (TLS in transit, AUTH token).

    The replica URL points at the first read replica, or at the writer when there is none.
    Neither carries the password: RDS manages it, the pods mount it from Secrets Manager.
    """
    def database_at(host: pulumi.Output[str]) -> pulumi.Output[str]:
        return pulumi.Output.all(database.master_username, host,
                                 database.port, database.db_name).apply(
            lambda v: postgres_url(v[0], None, v[1], int(v[2]), v[3], tls=True))

    return DataEndpoints(
        database_password=ManagedPassword(database.secret_arn, database.kms_key_arn),
        database_url=database_at(database.writer_endpoint),
        database_replica_url=database_at(database.reader_endpoint),
        redis_url=pulumi.Output.all(cache.auth_token, cache.primary_endpoint, cache.port).apply(
            lambda v: redis_url(v[0], v[1], int(v[2] or REDIS_PORT), tls=True)),
    )
