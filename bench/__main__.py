"""`python -m bench`: load-test the storefront on this machine and print one table.

gunicorn serves the storefront as the container does (one worker per CPU, gthread,
production settings) against PostgreSQL and Redis with the demo catalog; wrk drives each
endpoint from the same machine with the same connections, then the checkout's outcome is
verified in the database. Targets: product list and detail at least 0.7 of the bare
route's throughput, search p99 under 50 ms, checkout at least 150 orders/s.

Settings: BENCH_DATABASE_URL (a database of its own, recreated on every run; default
postgresql://postgres@127.0.0.1:5432/shop_bench), BENCH_REDIS_URL (flushed; default
redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.config import normalize_database_url
from bench import dataset, wrk
from bench.app import BARE_ROUTE
from bench.server import free_port, get, gunicorn

LIST_TARGET_RATIO = 0.7
SEARCH_P99_TARGET_MS = 50.0
CHECKOUT_TARGET_PER_SECOND = 150.0


@dataclass(frozen=True)
class Row:
    name: str
    result: wrk.WrkResult | None
    note: str = ""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["plan"]:  # `python -m bench plan`: the offline plan (bench/plan.py)
        from bench import plan

        return plan.main(argv[1:])
    options = _options(argv)
    load = wrk.Load(threads=options.threads, connections=options.connections,
                    seconds=options.seconds)
    cpus = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="shop-bench-") as temp:
        work = Path(temp)
        config = _config()
        print(f"preparing {config['SQLALCHEMY_DATABASE_URI'].rsplit('/', 1)[-1]}: demo "
              f"catalog, {options.checkout_users} shoppers with a cart...", flush=True)
        data = dataset.prepare(config, work, options.checkout_users)
        with gunicorn(_server_env(config, cpus, work), free_port(), work / "server.log") \
                as base:
            rows = _measure(base, load, data)
        checkout = rows[-1].result
        created = checkout.script_output.get("created", 0) if checkout else 0
        problems = dataset.verify_checkout(config, data, created, load.connections)
    _print_table(rows, cpus, load, load_before)
    return _print_targets(rows, problems)


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--checkout-users", type=int, default=None,
                        help="shoppers with a cart (default: 1500 per second of checkout)")
    options = parser.parse_args(argv)
    if options.checkout_users is None:
        options.checkout_users = 1500 * options.seconds
    return options


def _config() -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/shop_bench")),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "MAIL_BACKEND": "console",
    }


def _server_env(config: dict, cpus: int, work: Path) -> dict[str, str]:
    """Production settings; the general API limit is raised out of the way (every request
    comes from one address) but still counted in Redis, so its cost is measured."""
    return {**os.environ,
            "APP_ENV": "production", "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": config["REDIS_URL"], "SECRET_KEY": config["SECRET_KEY"],
            "JWT_SECRET_KEY": config["JWT_SECRET_KEY"], "MAIL_BACKEND": "console",
            "LOG_LEVEL": "INFO", "WEB_CONCURRENCY": str(cpus),
            "RATELIMIT_API": "100000000/minute",
            "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus")}


def _measure(base: str, load: wrk.Load, data: dataset.Dataset) -> list[Row]:
    warmup = wrk.Load(load.threads, load.connections, 2)
    reads = [("bare route", f"{base}{BARE_ROUTE}", None, ()),
             ("product list", f"{base}/api/v1/products", None, ()),
             ("product detail", f"{base}/api/v1/products", "detail.lua",
              (data.file("ids.txt"),)),
             ("search", f"{base}/api/v1/search", "search.lua", (data.file("terms.txt"),))]
    rows = []
    for name, url, script, args in reads:
        print(f"measuring {name}...", flush=True)
        wrk.run(url, warmup, script, args)
        rows.append(Row(name, wrk.run(url, load, script, args)))
    rows.insert(1, _home_page(base, load, warmup))
    print("measuring add-to-cart and checkout...", flush=True)
    rows.append(Row("add to cart", wrk.run(
        f"{base}/api/v1/cart/items", load, "cart.lua",
        (data.file("cart_tokens.txt"), data.file("cart_ids.txt")))))
    rows.append(Row("checkout", wrk.run(
        f"{base}/api/v1/orders/checkout", load, "checkout.lua",
        (data.file("checkout_tokens.txt"), str(load.threads),
         data.file("checkout_body.json")))))
    return rows


def _home_page(base: str, load: wrk.Load, warmup: wrk.Load) -> Row:
    status, content_type = get(f"{base}/")
    if status != 200 or not content_type.startswith("text/html"):
        return Row("home page", None, f"skipped: GET / answers {status} {content_type}, "
                                      "not a page (no storefront pages yet)")
    print("measuring home page...", flush=True)
    wrk.run(f"{base}/", warmup)
    return Row("home page", wrk.run(f"{base}/", load))


def _print_table(rows: list[Row], cpus: int, load: wrk.Load, load_before: float) -> None:
    bare = rows[0].result.requests_per_second
    print(f"\nstorefront on {cpus} CPU(s): gunicorn {cpus} worker(s) x 4 threads; wrk "
          f"{load.threads} threads, {load.connections} connections, {load.seconds} s each, "
          f"on the same machine (its 1-minute load average before the run: "
          f"{load_before:.1f})\n")
    print(f"{'endpoint':<16}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}"
          f"{'non-2xx':>9}")
    for row in rows:
        result = row.result
        if result is None:
            print(f"{row.name:<16}  {row.note}")
            continue
        print(f"{row.name:<16}{result.requests_per_second:>10.0f}{result.p50_ms:>9.1f}"
              f"{result.p99_ms:>9.1f}{result.requests_per_second / bare:>9.2f}"
              f"{result.non_2xx + result.socket_errors:>9}")


def _print_targets(rows: list[Row], problems: list[str]) -> int:
    by_name = {row.name: row.result for row in rows}
    bare = by_name["bare route"].requests_per_second
    checkout = by_name["checkout"]
    orders_per_second = checkout.script_output.get("created", 0) / checkout.seconds
    checks = [
        (f"product list >= {LIST_TARGET_RATIO} of bare",
         by_name["product list"].requests_per_second / bare >= LIST_TARGET_RATIO),
        (f"product detail >= {LIST_TARGET_RATIO} of bare",
         by_name["product detail"].requests_per_second / bare >= LIST_TARGET_RATIO),
        (f"search p99 < {SEARCH_P99_TARGET_MS:.0f} ms",
         by_name["search"].p99_ms < SEARCH_P99_TARGET_MS),
        (f"checkout >= {CHECKOUT_TARGET_PER_SECOND:.0f} orders/s "
         f"(measured {orders_per_second:.0f})", orders_per_second >= CHECKOUT_TARGET_PER_SECOND),
        ("stock exactly as the orders imply", not problems),
    ]
    if checkout.script_output.get("exhausted"):
        checks.append(("enough shoppers with a cart (raise --checkout-users)", False))
    print()
    for label, met in checks:
        print(f"  {'met ' if met else 'MISS'}  {label}")
    for problem in problems:
        print(f"        {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
