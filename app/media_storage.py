"""Where media bytes live: S3 under ``static/media/`` (``MEDIA_BUCKET``; the CDN serves the
bucket's ``static/*``), or local disk under ``MEDIA_ROOT`` (served by ``app.media``).

Every stored name is content-addressed (``app.image_sets``), so every object is written
with a year-long immutable ``Cache-Control``. Uploads that wait for their check sit under
``uploads/`` in the bucket, which the CDN does not serve.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

log = logging.getLogger(__name__)

S3_PREFIX = "static/media"  # the CDN serves the bucket's static/* at /static/*
UPLOAD_PREFIX = "uploads"  # not under static/: never public
LOCAL_URL_PREFIX = "/media"
IMMUTABLE = "public, max-age=31536000, immutable"


def uses_s3() -> bool:
    return bool(current_app.config["MEDIA_BUCKET"])


def bucket() -> str:
    return current_app.config["MEDIA_BUCKET"]


def base_url() -> str:
    """The public URL prefix of stored media."""
    configured = current_app.config["MEDIA_BASE_URL"]
    if configured:
        return configured.rstrip("/")
    if uses_s3():
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/" + S3_PREFIX
    return LOCAL_URL_PREFIX


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def s3() -> Any:
    """One client per app (boto3 clients are thread-safe and slow to make), signing with
    SigV4, with short timeouts: an S3 hiccup must not hold a worker thread for a minute."""
    client = current_app.extensions.get("media_s3")
    if client is None:
        client = boto3.client("s3", config=Config(
            signature_version="s3v4", connect_timeout=3, read_timeout=10,
            retries={"max_attempts": 3, "mode": "standard"}))
        current_app.extensions["media_s3"] = client
    return client


def put(name: str, data: bytes, content_type: str) -> None:
    """Store ``data`` under the public media name ``name``."""
    if uses_s3():
        s3().put_object(Bucket=bucket(), Key=f"{S3_PREFIX}/{name}", Body=data,
                        ContentType=content_type, CacheControl=IMMUTABLE)
    else:
        write_atomically(media_root() / name, data)


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def delete(names: list[str]) -> None:
    """Best effort: an orphaned file costs a few kilobytes, a failed request costs more."""
    try:
        if uses_s3():
            s3().delete_objects(Bucket=bucket(), Delete={
                "Objects": [{"Key": f"{S3_PREFIX}/{name}"} for name in names], "Quiet": True})
        else:
            for name in names:
                (media_root() / name).unlink(missing_ok=True)
    except (OSError, BotoCoreError, ClientError):
        log.warning("the replaced media %s were not deleted", ", ".join(names), exc_info=True)


def delete_upload(key: str) -> None:
    try:
        s3().delete_object(Bucket=bucket(), Key=key)
    except (BotoCoreError, ClientError):
        log.warning("the checked upload %s was not deleted", key, exc_info=True)
