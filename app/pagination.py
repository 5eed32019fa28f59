"""Page/per-page arguments and a paged query result, shared by every list endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from app.extensions import db

MAX_PER_PAGE = 100
# Far past any real listing, and keeps (page - 1) * per_page well inside a bigint OFFSET.
MAX_PAGE = 10_000


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageMetaSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def page_number(args: Mapping[str, str]) -> int:
    """The ``page`` query argument of a server-rendered list, clamped into range: a page
    link someone edited gets the nearest page, not an error."""
    try:
        page = int(args.get("page", 1))
    except ValueError:
        page = 1
    return min(max(1, page), MAX_PAGE)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def meta(self) -> dict:
        return {"page": self.page, "per_page": self.per_page, "total": self.total,
                "pages": self.pages}


def paginate(statement: sa.Select, page: int, per_page: int) -> Page:
    """Two queries whatever the page size: the count, and the page itself. Callers load
    relationships with ``selectinload``/``joinedload`` on ``statement`` to stay N+1 free."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page))
    return Page(items=list(rows.unique()), page=page, per_page=per_page, total=total or 0)
