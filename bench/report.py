"""The benchmark's table, its targets and the database's ceiling, printed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench import wrk
from bench.pgbench import PgbenchResult

BARE_FLASK = "bare Flask"
FIXED_COST = "app floor"  # the storefront's own bare route: every hook and middleware
READ_TARGET_RATIO = 0.8
SEARCH_P99_TARGET_MS = 50.0
SEARCH_TARGET_RATIO = 0.5
FIXED_COST_TARGET = 1.25  # bare Flask's throughput over the app floor's, at most
CART_TARGET_PER_SECOND = 400.0
CART_TARGET_RATIO = 0.1
CHECKOUT_TARGET_PER_SECOND = 150.0
HOME_TARGET_RATIO = 0.5


@dataclass(frozen=True)
class Row:
    name: str
    result: wrk.WrkResult | None
    cpu_ms: float | None = None  # the gunicorn workers' CPU per request, under the load
    note: str = ""

    @property
    def per_second(self) -> float:
        """Requests/s; for checkout, orders placed per second (every 201)."""
        if self.result is None:
            return 0.0
        if "created" in self.result.script_output:
            return self.result.script_output["created"] / self.result.seconds
        return self.result.requests_per_second


def print_table(rows: Sequence[Row], header: str) -> None:
    bare = _by_name(rows)[BARE_FLASK].per_second
    print(f"\n{header}\n")
    print(f"{'endpoint':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}"
          f"{'CPU ms':>8}{'non-2xx':>9}")
    for row in rows:
        result = row.result
        if result is None:
            print(f"{row.name:<16}  {row.note}")
            continue
        cpu = f"{row.cpu_ms:>8.2f}" if row.cpu_ms is not None else f"{'':>8}"
        print(f"{row.name:<16}{row.per_second:>9.0f}{result.p50_ms:>9.1f}"
              f"{result.p99_ms:>9.1f}{row.per_second / bare:>9.2f}{cpu}"
              f"{result.non_2xx + result.socket_errors:>9}")
    print("(checkout's req/s counts orders placed: its 201s per second; CPU ms is the "
          "gunicorn workers' CPU per request under the load)")


def print_ceiling(rows: Sequence[Row], pgbench: Sequence[PgbenchResult], note: str) -> None:
    print("\nthe database's ceiling (pgbench, same connections, same run):")
    if not pgbench:
        print(f"  {note}")
        return
    checkout = _by_name(rows).get("checkout")
    for result in pgbench:
        print(f"  pgbench {result.script:<12}{result.tps:>9.0f} tps"
              f"{result.latency_ms:>9.1f} ms average")
    if checkout is not None and checkout.result is not None:
        tpcb = next((r.tps for r in pgbench if r.script == "tpcb-like"), None)
        share = f" ({checkout.per_second / tpcb:.2f} of tpcb-like)" if tpcb else ""
        print(f"  checkout       {checkout.per_second:>9.0f} orders/s{share}")


def targets(rows: Sequence[Row], checkout_problems: Sequence[str]) -> list[tuple[str, bool]]:
    """Each target of the performance issue, as ratios to bare Flask in this run."""
    by_name = _by_name(rows)
    bare = by_name[BARE_FLASK].per_second

    def ratio(name: str) -> float:
        row = by_name.get(name)
        return row.per_second / bare if row is not None and row.result else 0.0

    checks = []
    for name in ("product list", "product detail"):
        checks.append((f"{name} >= {READ_TARGET_RATIO}x bare Flask ({ratio(name):.2f})",
                       ratio(name) >= READ_TARGET_RATIO))
    search = by_name.get("search")
    if search is not None and search.result is not None:
        checks.append((f"search p99 < {SEARCH_P99_TARGET_MS:.0f} ms "
                       f"({search.result.p99_ms:.1f})",
                       search.result.p99_ms < SEARCH_P99_TARGET_MS))
        checks.append((f"search >= {SEARCH_TARGET_RATIO}x bare Flask ({ratio('search'):.2f})",
                       ratio("search") >= SEARCH_TARGET_RATIO))
    if FIXED_COST in by_name:
        cost = 1 / ratio(FIXED_COST) if ratio(FIXED_COST) else float("inf")
        checks.append((f"fixed cost per request <= {FIXED_COST_TARGET}x bare Flask "
                       f"({cost:.2f})", cost <= FIXED_COST_TARGET))
    cart = by_name.get("add to cart")
    if cart is not None and cart.result is not None:
        checks.append((f"add to cart >= {CART_TARGET_PER_SECOND:.0f} req/s and >= "
                       f"{CART_TARGET_RATIO}x ({cart.per_second:.0f}, {ratio('add to cart'):.2f})",
                       cart.per_second >= CART_TARGET_PER_SECOND
                       and ratio("add to cart") >= CART_TARGET_RATIO))
    checkout = by_name.get("checkout")
    if checkout is not None and checkout.result is not None:
        checks.append((f"checkout >= {CHECKOUT_TARGET_PER_SECOND:.0f} orders/s "
                       f"({checkout.per_second:.0f})",
                       checkout.per_second >= CHECKOUT_TARGET_PER_SECOND))
        checks.append(("every 201 an order, stock exactly as the orders imply",
                       not checkout_problems))
        if checkout.result.script_output.get("exhausted"):
            checks.append(("enough shoppers with a cart (raise --checkout-users)", False))
    home = by_name.get("home page")
    if home is not None and home.result is not None:
        checks.append((f"home page >= {HOME_TARGET_RATIO}x bare Flask "
                       f"({ratio('home page'):.2f})", ratio("home page") >= HOME_TARGET_RATIO))
    return checks


def print_targets(checks: Sequence[tuple[str, bool]], problems: Sequence[str]) -> None:
    print()
    for label, met in checks:
        print(f"  {'met ' if met else 'MISS'}  {label}")
    for problem in problems:
        print(f"        {problem}")


def _by_name(rows: Sequence[Row]) -> dict[str, Row]:
    return {row.name: row for row in rows}
