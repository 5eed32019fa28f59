"""Rate limits that fail open quietly: one warning per Redis outage, and a count of what
passed without being counted in Redis.

Flask-Limiter already falls back to counting in the process's memory when its storage
fails (logging one warning as it switches). But a request whose check fails once the
switch has happened - every request already in flight when Redis went away, on every
thread - went to its "swallow" path, which logs a full traceback at ERROR each time: an
outage flooded the logs. ``FailOpenLimiter`` does the swallowing itself instead: the
request passes, ``shop_rate_limit_fail_open_total{mode="unlimited"}`` counts it, and the
outage is warned about once: the library's switch warning, of which threads racing into
the switch together would each log one, is let through once per outage. Requests counted
in memory meanwhile are ``mode="memory"``: each process then counts on its own.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, g
from flask_limiter import Limiter, RateLimitExceeded

from app.metrics import record_rate_limit_fail_open

log = logging.getLogger(__name__)


class FailOpenLimiter(Limiter):
    def __init__(self, *args, **kwargs):
        # Errors reach _check_request_limit below, which decides how loud to be.
        super().__init__(*args, swallow_errors=False, **kwargs)
        self._outage_lock = threading.Lock()
        self._outage_warned = False
        self.logger.addFilter(self._first_switch_warning_only)

    def _first_switch_warning_only(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING or not str(record.msg).startswith(
                "Rate limit storage unreachable"):
            return True
        return self._claim_outage_warning()

    def _claim_outage_warning(self) -> bool:
        """True for the first warning of an outage, False for any later one."""
        with self._outage_lock:
            first, self._outage_warned = not self._outage_warned, True
        return first

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # One limiter object serves every app a process builds; a new app starts from
        # the storage it was given, not from an outage an earlier one saw.
        self._storage_dead = False
        self._outage_warned = False

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        try:
            super()._check_request_limit(callable_name=callable_name,
                                         in_middleware=in_middleware)
        except RateLimitExceeded:
            raise
        except Exception as error:  # any storage failure: the request must pass
            self._passed_unlimited(error)
        else:
            if self._storage_dead:
                _count_once("memory")
            elif self._outage_warned:
                with self._outage_lock:
                    self._outage_warned = False  # counted in Redis again: that outage ended

    def _passed_unlimited(self, error: Exception) -> None:
        _count_once("unlimited")
        if self._claim_outage_warning():
            log.warning("rate limit storage unreachable (%s); requests pass without a limit "
                        "until it answers", type(error).__name__)


def _count_once(mode: str) -> None:
    """Once per request and mode (a request can be checked twice: the API-wide limit,
    then its view's own)."""
    counted = g.setdefault("_rate_limit_fail_open", set())
    if mode not in counted:
        counted.add(mode)
        record_rate_limit_fail_open(mode)
