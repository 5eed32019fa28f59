"""What both cart stores promise, and the bounds every cart obeys.

Each write is a single atomic step in its store (a Lua script in Redis, an
``INSERT ... ON CONFLICT`` in SQL) that checks the bounds itself, so two concurrent
requests can never both pass a check that only one of them should have passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

MAX_LINE_QUANTITY = 99
MAX_LINES = 50

Outcome = Literal["ok", "too_many_lines", "over_line_limit", "over_stock"]


@dataclass(frozen=True)
class LineWrite:
    """The result of a write: on "ok" the line's new quantity, otherwise the quantity the
    line still holds (0 when the product is not in the cart)."""

    outcome: Outcome
    quantity: int


class CartStore(Protocol):
    """A cart's lines, product id -> quantity."""

    token: str | None

    def quantities(self) -> dict[int, int]: ...

    def add(self, product_id: int, quantity: int, stock: int) -> LineWrite: ...

    def set(self, product_id: int, quantity: int, stock: int) -> LineWrite: ...

    def remove(self, product_id: int) -> bool: ...

    def clear(self) -> None: ...
