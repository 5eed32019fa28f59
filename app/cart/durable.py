"""Signed-in shoppers' carts: ``cart_items`` rows.

Increments are one ``INSERT ... ON CONFLICT (user_id, product_id) DO UPDATE`` whose
``WHERE`` holds the bound, so two concurrent adds of the same product both count and
neither can push the line past its limit. The dialect's own ``insert`` is used so the
same statement runs on PostgreSQL and on the SQLite embedded default.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.cart.store import MAX_LINE_QUANTITY, MAX_LINES, LineWrite
from app.extensions import db
from app.models import CartItem

_LINE_KEY = ["user_id", "product_id"]


def _insert():
    dialect = db.session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@cache
def _guarded_upsert(insert) -> sa.Insert:
    """Add to a line, or make it if the cart has room for one more (as ``_line_refused``),
    never past ``:limit``; RETURNING the line's quantity, nothing when refused. Built once
    per dialect: building the construct cost more CPU than running it. On the table, not
    the model, so that executing it with parameters is not taken for an ORM bulk insert."""
    lines = CartItem.__table__
    mine = lines.c.user_id == sa.bindparam("user_id")
    allowed = sa.or_(
        sa.exists().where(mine, lines.c.product_id == sa.bindparam("product_id")),
        sa.select(sa.func.count()).select_from(lines).where(mine).scalar_subquery()
        < sa.bindparam("max_lines"))
    stmt = insert(lines).from_select(
        ["user_id", "product_id", "quantity"],
        sa.select(sa.bindparam("user_id", type_=sa.Integer),
                  sa.bindparam("product_id", type_=sa.Integer),
                  sa.bindparam("quantity", type_=sa.Integer)).where(allowed))
    summed = lines.c.quantity + stmt.excluded.quantity
    return stmt.on_conflict_do_update(
        index_elements=_LINE_KEY, where=summed <= sa.bindparam("limit"),
        set_={"quantity": summed, "updated_at": sa.func.now()},
    ).returning(lines.c.quantity)


class UserCart:
    token: str | None = None

    def __init__(self, user_id: int):
        self.user_id = user_id

    def quantities(self) -> dict[int, int]:
        rows = db.session.execute(
            sa.select(CartItem.product_id, CartItem.quantity)
            .where(CartItem.user_id == self.user_id).order_by(CartItem.id))
        return {product_id: quantity for product_id, quantity in rows}

    def add(self, product_id: int, quantity: int, stock: int) -> LineWrite:
        """One statement: the line cap, the upsert and its bound. Not committed here: the
        caller reads the cart back in the same transaction (one connection, one pre-ping)
        and commits (``service.add_item``)."""
        limit = min(MAX_LINE_QUANTITY, stock)
        if quantity <= limit:
            written = db.session.execute(_guarded_upsert(_insert()), {
                "user_id": self.user_id, "product_id": product_id, "quantity": quantity,
                "limit": limit, "max_lines": MAX_LINES}).scalar_one_or_none()
            if written is not None:
                return LineWrite("ok", written)
        return self._refusal(product_id, quantity, adding=True)

    def set(self, product_id: int, quantity: int, stock: int) -> LineWrite:
        if quantity > min(MAX_LINE_QUANTITY, stock) or self._line_refused(product_id):
            return self._refusal(product_id, quantity, adding=False)
        stmt = _insert()(CartItem).values(
            user_id=self.user_id, product_id=product_id, quantity=quantity)
        stmt = stmt.on_conflict_do_update(
            index_elements=_LINE_KEY,
            set_={"quantity": stmt.excluded.quantity, "updated_at": sa.func.now()})
        db.session.execute(stmt)
        db.session.commit()
        return LineWrite("ok", quantity)

    def merge(self, product_id: int, quantity: int, cap: int) -> None:
        """Add ``quantity`` but never hold more than ``cap``: merging a guest cart clamps
        instead of refusing. Part of the merge's transaction; the caller commits."""
        stmt = _insert()(CartItem).values(
            user_id=self.user_id, product_id=product_id, quantity=min(quantity, cap))
        summed = CartItem.quantity + stmt.excluded.quantity
        stmt = stmt.on_conflict_do_update(
            index_elements=_LINE_KEY,
            set_={"quantity": sa.case((summed > cap, cap), else_=summed),
                  "updated_at": sa.func.now()})
        db.session.execute(stmt)

    def remove(self, product_id: int) -> bool:
        result = db.session.execute(sa.delete(CartItem).where(
            CartItem.user_id == self.user_id, CartItem.product_id == product_id))
        db.session.commit()
        return result.rowcount > 0

    def clear(self) -> None:
        db.session.execute(sa.delete(CartItem).where(CartItem.user_id == self.user_id))
        db.session.commit()

    def _current(self, product_id: int) -> int:
        return db.session.scalar(sa.select(CartItem.quantity).where(
            CartItem.user_id == self.user_id, CartItem.product_id == product_id)) or 0

    def _line_refused(self, product_id: int) -> bool:
        """A new line is refused once the cart holds MAX_LINES lines. Checked before the
        upsert rather than inside it: the cap is a sanity bound, and the worst a race of
        first adds can do is leave a cart a line or two over it."""
        if self._current(product_id):
            return False
        count = db.session.scalar(sa.select(sa.func.count()).select_from(CartItem).where(
            CartItem.user_id == self.user_id))
        return (count or 0) >= MAX_LINES

    def _refusal(self, product_id: int, quantity: int, adding: bool) -> LineWrite:
        """Why a write was refused, in the order the guest cart's script checks."""
        current = self._current(product_id)
        wanted = current + quantity if adding else quantity
        if not current and self._line_refused(product_id):
            return LineWrite("too_many_lines", 0)
        if wanted > MAX_LINE_QUANTITY:
            return LineWrite("over_line_limit", current)
        return LineWrite("over_stock", current)
