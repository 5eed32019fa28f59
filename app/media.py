"""Product images. Admins upload them; shoppers fetch them from the CDN, or from Flask.

With ``MEDIA_BUCKET`` set (the cloud), image bytes never pass through the storefront:

1. ``POST /products/{id}/image`` with ``{"content_type": ...}`` answers a presigned S3 POST
   whose policy pins the object key, the content type and the size range;
2. the client posts the file straight to S3 with that form;
3. ``PUT /products/{id}/image`` with ``{"key": ...}`` has the storefront check what S3
   holds (its size, and its type by its first bytes, not by what the client claimed) and
   make the product's ``image_url`` the object's CDN URL (``MEDIA_BASE_URL``).

Without it (a laptop), ``POST /products/{id}/image`` takes the file itself as
multipart/form-data, checks it the same way, keeps it under ``MEDIA_ROOT`` (default
``instance/media``) and serves it at ``/media/``. Names are random and never reused, so an
image is cached for good.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, abort, current_app, send_from_directory
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from app.catalog import service as catalog
from app.errors import Conflict, DomainError, Invalid
from app.models import Product

log = logging.getLogger(__name__)

TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
S3_PREFIX = "static/media"  # the CDN serves the bucket's static/* at /static/*
LOCAL_URL_PREFIX = "/media"
IMMUTABLE = "public, max-age=31536000, immutable"
UPLOAD_FORM_SECONDS = 600
_NAME = re.compile(r"products/(\d+)/[A-Za-z0-9_-]{16}\.(?:jpg|png|webp)")
_SNIFF_BYTES = 16
_LOCAL_ONLY = "this shop keeps media on local disk: POST the image as multipart field 'file'"


class TooLarge(DomainError):
    status, code = 413, "payload_too_large"


@dataclass(frozen=True)
class UploadForm:
    """Where and how the client posts the image: ``fields`` go in the form before the file."""

    url: str
    fields: dict[str, str]
    key: str
    image_url: str
    expires_in: int
    max_bytes: int


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce (JPEG, PNG, WebP), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def uses_s3() -> bool:
    return bool(current_app.config["MEDIA_BUCKET"])


def base_url() -> str:
    configured = current_app.config["MEDIA_BASE_URL"]
    if configured:
        return configured.rstrip("/")
    if uses_s3():
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/" + S3_PREFIX
    return LOCAL_URL_PREFIX


def _max_bytes() -> int:
    return current_app.config["MEDIA_MAX_BYTES"]


def _new_name(product_id: int, content_type: str) -> str:
    return f"products/{product_id}/{secrets.token_urlsafe(12)}.{TYPES[content_type]}"


def _owned_name(url: str | None, product_id: int) -> str | None:
    """The media name behind ``url`` when it is an image this module stored for
    ``product_id`` (an admin may have pointed the product at another one's), else None."""
    prefix = base_url() + "/"
    name = url[len(prefix):] if url and url.startswith(prefix) else ""
    match = _NAME.fullmatch(name)
    return name if match and int(match.group(1)) == product_id else None


# --- S3 ----------------------------------------------------------------------------------

def _s3() -> Any:
    """One client per app (boto3 clients are thread-safe and slow to make), signing with
    SigV4, with short timeouts: an S3 hiccup must not hold a worker thread for a minute."""
    client = current_app.extensions.get("media_s3")
    if client is None:
        client = boto3.client("s3", config=Config(
            signature_version="s3v4", connect_timeout=3, read_timeout=10,
            retries={"max_attempts": 3, "mode": "standard"}))
        current_app.extensions["media_s3"] = client
    return client


def presign_upload(product_id: int, content_type: str) -> UploadForm:
    if not uses_s3():
        raise Conflict(_LOCAL_ONLY, code="media_not_on_s3")
    catalog.get_product(product_id, include_inactive=True)  # 404 before signing anything
    if content_type not in TYPES:
        raise Invalid.field("content_type", "must be one of " + ", ".join(TYPES))
    name = _new_name(product_id, content_type)
    fields = {"Content-Type": content_type, "Cache-Control": IMMUTABLE}
    conditions: list[Any] = [{"Content-Type": content_type}, {"Cache-Control": IMMUTABLE},
                             ["content-length-range", 1, _max_bytes()]]
    post = _s3().generate_presigned_post(
        Bucket=current_app.config["MEDIA_BUCKET"], Key=f"{S3_PREFIX}/{name}",
        Fields=fields, Conditions=conditions, ExpiresIn=UPLOAD_FORM_SECONDS)
    return UploadForm(url=post["url"], fields=post["fields"], key=name,
                      image_url=f"{base_url()}/{name}", expires_in=UPLOAD_FORM_SECONDS,
                      max_bytes=_max_bytes())


def attach_uploaded_image(product_id: int, name: str) -> Product:
    """Check the object the client uploaded with its form and make it the product's
    image. An object that fails the checks is deleted."""
    if not uses_s3():
        raise Conflict(_LOCAL_ONLY, code="media_not_on_s3")
    catalog.get_product(product_id, include_inactive=True)
    match = _NAME.fullmatch(name)
    if match is None or int(match.group(1)) != product_id:
        raise Invalid.field("key", "is not an upload issued for this product")
    bucket, key = current_app.config["MEDIA_BUCKET"], f"{S3_PREFIX}/{name}"
    head = _uploaded_head(bucket, key)
    problem = _problem_with(head)
    if problem:
        _s3().delete_object(Bucket=bucket, Key=key)
        raise Invalid.field("key", problem)
    return _replace_image(product_id, f"{base_url()}/{name}")


def _uploaded_head(bucket: str, key: str) -> dict:
    """Size, declared type and first bytes of the uploaded object."""
    try:
        head = _s3().head_object(Bucket=bucket, Key=key)
        first = _s3().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{_SNIFF_BYTES - 1}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise Invalid.field("key", "nothing was uploaded under this key") from exc
        raise
    return {"size": head["ContentLength"], "type": head.get("ContentType"),
            "sniffed": sniff(first["Body"].read())}


def _problem_with(head: dict) -> str | None:
    if head["size"] > _max_bytes():
        return f"the image is larger than {_max_bytes()} bytes"
    if head["sniffed"] is None or head["sniffed"] != head["type"]:
        return "the upload is not the JPEG, PNG or WebP image it was declared as"
    return None


# --- local disk --------------------------------------------------------------------------

def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def store_local_image(product_id: int, upload: FileStorage | None) -> Product:
    if uses_s3():
        raise Conflict("this shop keeps media on S3: POST {\"content_type\": ...} for an "
                       "upload form", code="media_on_s3")
    catalog.get_product(product_id, include_inactive=True)
    if upload is None:
        raise Invalid.field("file", "attach the image as the multipart field 'file'")
    data = upload.stream.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        raise TooLarge(f"the image is larger than {_max_bytes()} bytes")
    content_type = sniff(data[:_SNIFF_BYTES])
    if content_type is None:
        raise Invalid.field("file", "must be a JPEG, PNG or WebP image")
    name = _new_name(product_id, content_type)
    _write_atomically(media_root() / name, data)
    return _replace_image(product_id, f"{base_url()}/{name}")


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


# --- both --------------------------------------------------------------------------------

def _replace_image(product_id: int, url: str) -> Product:
    """Point the product at its new image (through the catalog, so caches hear of it),
    then delete the image it replaced, if that was one of ours."""
    previous = _owned_name(catalog.get_product(product_id, include_inactive=True).image_url,
                           product_id)
    product = catalog.update_product(product_id, {"image_url": url})
    if previous:
        _delete(previous)
    return product


def _delete(name: str) -> None:
    """Best effort: an orphaned file costs a few kilobytes, a failed request costs more."""
    try:
        if uses_s3():
            _s3().delete_object(Bucket=current_app.config["MEDIA_BUCKET"],
                                Key=f"{S3_PREFIX}/{name}")
        else:
            (media_root() / name).unlink(missing_ok=True)
    except (OSError, BotoCoreError, ClientError):
        log.warning("the replaced image %s was not deleted", name, exc_info=True)


media_bp = Blueprint("media", __name__)


@media_bp.get(f"{LOCAL_URL_PREFIX}/<path:name>")
def serve(name: str):
    """Local-disk media. Only names this module makes are served (send_from_directory
    refuses paths that leave the directory anyway)."""
    if uses_s3() or not _NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(media_root(), name, max_age=31536000)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


# --- API schemas -------------------------------------------------------------------------

class UploadRequestSchema(Schema):
    content_type = fields.String(required=True, validate=validate.OneOf(tuple(TYPES)),
                                 metadata={"description": "The image's type (S3 only)."})


class UploadedKeySchema(Schema):
    key = fields.String(required=True, validate=validate.Length(max=200), metadata={
        "description": "The key an upload form was issued with, once the file is on S3."})


class UploadFormSchema(Schema):
    url = fields.String(metadata={"description": "POST the form here."})
    form_fields = fields.Dict(
        keys=fields.String(), values=fields.String(), attribute="fields", data_key="fields",
        metadata={"description": "Form fields to send before the file field `file`."})
    key = fields.String(metadata={"description": "Send it to PUT .../image afterwards."})
    image_url = fields.String(metadata={"description": "The image's URL once attached."})
    expires_in = fields.Integer(metadata={"description": "Seconds the form stays valid."})
    max_bytes = fields.Integer()


# Documents both bodies the upload endpoint takes: which one depends on MEDIA_BUCKET.
UPLOAD_REQUEST_BODY = {"required": True, "content": {
    "application/json": {"schema": UploadRequestSchema},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "A JPEG, PNG or WebP image (local disk only)."}}}},
}}


def requested_content_type(body: Any) -> str:
    """The ``content_type`` of an S3 upload request, validated like any API body."""
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object",
                      {"fields": {"content_type": ["Missing data for required field."]}})
    try:
        return UploadRequestSchema().load(body)["content_type"]
    except ValidationError as exc:
        raise Invalid("invalid input", {"fields": exc.messages}) from exc
