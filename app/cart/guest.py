"""Guests' carts: a Redis hash ``cart:{token}`` (product id -> quantity) that expires
after CART_TTL_SECONDS without a write.

Every write that depends on what the hash holds is one Lua script, so the check and the
change happen atomically inside Redis; Python never reads, modifies and writes back.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app

from app.cart.store import MAX_LINE_QUANTITY, MAX_LINES, LineWrite
from app.extensions import get_redis

TOKEN_BYTES = 32  # 256 bits of randomness; token_urlsafe renders it as 43 characters
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

# KEYS[1] the cart; ARGV: product id, quantity, stock, max per line, max lines, ttl.
# ARGV[7] is "add" (increment the line) or "set" (replace it).
_WRITE_LINE = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local quantity = tonumber(ARGV[2])
local wanted = quantity
if ARGV[7] == 'add' then wanted = current + quantity end
if current == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then
  return {'too_many_lines', current}
end
if wanted > tonumber(ARGV[4]) then return {'over_line_limit', current} end
if wanted > tonumber(ARGV[3]) then return {'over_stock', current} end
local result = wanted
if ARGV[7] == 'add' then
  result = redis.call('HINCRBY', KEYS[1], ARGV[1], quantity)
else
  redis.call('HSET', KEYS[1], ARGV[1], quantity)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
return {'ok', result}
"""

# Removes a line and refreshes the idle timer of what is left, in one step.
_REMOVE_LINE = """
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])) end
return removed
"""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_valid_token(token: str | None) -> bool:
    return bool(token and _TOKEN_PATTERN.fullmatch(token))


def cart_key(token: str) -> str:
    return f"cart:{token}"


class GuestCart:
    def __init__(self, token: str):
        self.token: str | None = token
        self._key = cart_key(token)
        self._redis = get_redis()

    @property
    def _ttl(self) -> int:
        return current_app.config["CART_TTL_SECONDS"]

    def quantities(self) -> dict[int, int]:
        return {int(pid): int(qty) for pid, qty in self._redis.hgetall(self._key).items()}

    def add(self, product_id: int, quantity: int, stock: int) -> LineWrite:
        return self._write("add", product_id, quantity, stock)

    def set(self, product_id: int, quantity: int, stock: int) -> LineWrite:
        return self._write("set", product_id, quantity, stock)

    def remove(self, product_id: int) -> bool:
        remove = self._redis.register_script(_REMOVE_LINE)
        return bool(remove(keys=[self._key], args=[product_id, self._ttl]))

    def clear(self) -> None:
        self._redis.delete(self._key)

    def take(self) -> dict[int, int]:
        """Read and delete the cart in one transaction: two logins racing with the same
        token cannot both merge it."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(self._key)
        pipe.delete(self._key)
        lines, _ = pipe.execute()
        return {int(pid): int(qty) for pid, qty in lines.items()}

    def put_back(self, lines: dict[int, int]) -> None:
        """Undo ``take`` when the merge that followed it failed."""
        if not lines:
            return
        pipe = self._redis.pipeline(transaction=True)
        for product_id, quantity in lines.items():
            pipe.hincrby(self._key, str(product_id), quantity)
        pipe.expire(self._key, self._ttl)
        pipe.execute()

    def _write(self, mode: str, product_id: int, quantity: int, stock: int) -> LineWrite:
        # register_script runs the script by its SHA1 (EVALSHA), loading it once if needed.
        write_line = self._redis.register_script(_WRITE_LINE)
        outcome, result = write_line(keys=[self._key], args=[
            product_id, quantity, stock, MAX_LINE_QUANTITY, MAX_LINES, self._ttl, mode])
        return LineWrite(outcome, int(result))
