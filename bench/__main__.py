"""`python -m bench`: load-test the storefront on this machine and print one table.

gunicorn serves, with the image's settings (app/gunicorn_conf.py, production config, one
worker per CPU), first a bare Flask app (the reference row: a constant JSON, no extension),
then the storefront, against PostgreSQL and Redis with the demo catalog; wrk drives each
endpoint from the same machine with the same connections. Every row is a ratio to bare
Flask in the same run. Then pgbench measures the database's own ceiling at the same
concurrency, the checkout's outcome is verified in the database, and an in-process profile
counts what one request of each endpoint costs (CPU, SQL statements, Redis round trips).

Settings: BENCH_DATABASE_URL (a database of its own, recreated on every run; default
postgresql://postgres@127.0.0.1:5432/shop_bench), BENCH_REDIS_URL (flushed; default
redis://127.0.0.1:6379/15). `python -m bench profile --top 15` prints only the profile,
with cProfile's busiest functions per endpoint.
"""

from __future__ import annotations

import argparse
import logging.config
import os
import secrets
import sys
import tempfile
from pathlib import Path

from app.config import normalize_database_url
from bench import dataset, pgbench, profile, report, scenarios, wrk
from bench.app import BARE_ROUTE, create_bench_app
from bench.bare import ROUTE as BARE_FLASK_ROUTE
from bench.report import BARE_FLASK, FIXED_COST, Row
from bench.server import BARE_FLASK as BARE_FLASK_APP
from bench.server import Server, free_port, get, gunicorn

STOREFRONT_ROWS = (FIXED_COST, "home page", "product list", "product detail", "search",
                   "add to cart", "checkout")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["plan"]:  # `python -m bench plan`: the offline plan (bench/plan.py)
        from bench import plan

        return plan.main(argv[1:])
    options = _options(argv)
    config = _config()
    with tempfile.TemporaryDirectory(prefix="shop-bench-") as temp:
        work = Path(temp)
        # The in-process profile pays for the multiprocess metrics as gunicorn's workers do
        # (decided when prometheus_client is first imported: by the first create_app).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(work / "profile-metrics")
        (work / "profile-metrics").mkdir()
        print(f"preparing {config['SQLALCHEMY_DATABASE_URI'].rsplit('/', 1)[-1]}: demo "
              f"catalog, {options.checkout_users} shoppers with a cart...", flush=True)
        data = dataset.prepare(config, work, options.checkout_users)
        if options.command == "profile":
            _profile(config, data, options.top)
            return 0
        return _full_run(options, config, work, data)


def _full_run(options: argparse.Namespace, config: dict, work: Path,
              data: dataset.Dataset) -> int:
    load = wrk.Load(threads=options.threads, connections=options.connections,
                    seconds=options.seconds)
    cpus = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    env = _server_env(config, cpus, work)
    gunicorn_args = _gunicorn_args(options)
    rows = [_bare_flask(env, work, load, gunicorn_args)]
    with gunicorn(env, free_port(), work / "server.log", extra_args=gunicorn_args) as server:
        rows += _measure(server, load, data, options.only)
    ceiling, ceiling_note = _pgbench(config, load, options.pgbench_scale)
    checkout = next((row for row in rows if row.name == "checkout"), None)
    problems = []
    if checkout is not None and checkout.result is not None:
        problems = dataset.verify_checkout(config, data, checkout.result.script_output.get(
            "created", 0), load.connections)
    load_after = os.getloadavg()[0]
    workers = " ".join(gunicorn_args) or "app/gunicorn_conf.py's worker class and threads"
    report.print_table(rows, f"storefront on {cpus} CPU(s): gunicorn {cpus} worker(s), "
                             f"{workers}; wrk {load.threads} threads, "
                             f"{load.connections} connections, {load.seconds} s each, on the "
                             f"same machine (1-minute load average {load_before:.1f} before, "
                             f"{load_after:.1f} after)")
    report.print_ceiling(rows, ceiling, ceiling_note)
    if not options.no_profile:
        _profile(config, data, 0)
    checks = report.targets(rows, problems)
    report.print_targets(checks, problems)
    return 1 if problems else 0


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=("run", "profile"), default="run")
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--checkout-users", type=int, default=None,
                        help="shoppers with a cart (default: 1500 per second of checkout)")
    parser.add_argument("--only", action="append", choices=STOREFRONT_ROWS,
                        help="measure only these storefront rows (repeatable)")
    parser.add_argument("--worker-class", choices=("sync", "gthread", "gevent"),
                        help="override app/gunicorn_conf.py's worker class (comparisons)")
    parser.add_argument("--gunicorn-threads", type=int, help="threads per gthread worker")
    parser.add_argument("--pgbench-scale", type=int, default=10,
                        help="pgbench's scale factor (default 10: 1M accounts, 10 branches)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile")
    parser.add_argument("--top", type=int, default=0,
                        help="profile: print cProfile's top N functions per endpoint")
    options = parser.parse_args(argv)
    if options.checkout_users is None:
        options.checkout_users = 1500 * options.seconds if options.command == "run" else 10
    return options


def _gunicorn_args(options: argparse.Namespace) -> tuple[str, ...]:
    args: tuple[str, ...] = ()
    if options.worker_class:
        args += ("--worker-class", options.worker_class)
    if options.gunicorn_threads:
        args += ("--threads", str(options.gunicorn_threads))
    return args


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


def _run(server: Server, name: str, path: str, load: wrk.Load, script: str | None = None,
         args: tuple[str, ...] = (), warm: bool = True) -> Row:
    print(f"measuring {name}...", flush=True)
    url = f"{server.base}{path}"
    if warm:
        wrk.run(url, wrk.Load(load.threads, load.connections, 2), script, args)
    before = server.worker_cpu_seconds()
    result = wrk.run(url, load, script, args)
    cpu = server.worker_cpu_seconds() - before
    return Row(name, result, cpu * 1000 / max(result.requests, 1))


def _bare_flask(env: dict, work: Path, load: wrk.Load, gunicorn_args: tuple[str, ...]) -> Row:
    with gunicorn(env, free_port(), work / "bare.log", app=BARE_FLASK_APP,
                  ready_path=BARE_FLASK_ROUTE, extra_args=gunicorn_args) as server:
        return _run(server, BARE_FLASK, BARE_FLASK_ROUTE, load)


def _measure(server: Server, load: wrk.Load, data: dataset.Dataset,
             only: list[str] | None) -> list[Row]:
    wanted = set(only or STOREFRONT_ROWS)
    plan = [
        (FIXED_COST, BARE_ROUTE, None, ()),
        ("home page", "/", None, ()),
        ("product list", "/api/v1/products", None, ()),
        ("product detail", "/api/v1/products", "detail.lua", (data.file("ids.txt"),)),
        ("search", "/api/v1/search", "search.lua", (data.file("terms.txt"),)),
    ]
    rows = []
    for name, path, script, args in plan:
        if name not in wanted:
            continue
        if name == "home page":
            status, content_type = get(f"{server.base}/")
            if status != 200 or not content_type.startswith("text/html"):
                rows.append(Row(name, None, note=f"skipped: GET / answers {status}"))
                continue
        rows.append(_run(server, name, path, load, script, args))
    if "add to cart" in wanted:
        rows.append(_run(server, "add to cart", "/api/v1/cart/items", load, "cart.lua",
                         (data.file("cart_tokens.txt"), data.file("cart_ids.txt"))))
    if "checkout" in wanted:
        # No warm-up: every request consumes a shopper's cart.
        rows.append(_run(server, "checkout", "/api/v1/orders/checkout", load, "checkout.lua",
                         (data.file("checkout_tokens.txt"), str(load.threads),
                          data.file("checkout_body.json")), warm=False))
    return rows


def _pgbench(config: dict, load: wrk.Load, scale: int
             ) -> tuple[list[pgbench.PgbenchResult], str]:
    binary = pgbench.find()
    if binary is None:
        return [], "skipped: pgbench not found (Debian's postgresql package ships it)"
    # pgbench takes a libpq URL, not SQLAlchemy's driver-qualified one.
    url = config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg2://", "postgresql://")
    print(f"measuring pgbench (scale {scale})...", flush=True)
    pgbench.initialise(binary, url, scale)
    return [pgbench.run(binary, url, script, load.connections, load.threads, load.seconds)
            for script in ("tpcb-like", "select-only")], ""


def _profile(config: dict, data: dataset.Dataset, top: int) -> None:
    print("profiling in-process...", flush=True)
    # Each request's JSON log line is formatted and written as under gunicorn, to nowhere.
    logging.config.dictConfig(_json_logging_to(os.devnull))
    app = create_bench_app({**config, "APP_ENV": "production",
                            "RATELIMIT_API": "100000000/minute"})
    profile.print_table(profile.run(app, scenarios.calls(data), top))


def _json_logging_to(path: str) -> dict:
    from app.gunicorn_conf import _json_logging  # the workers' logging, read by gunicorn

    settings = _json_logging("INFO")
    settings["handlers"]["console"] = {"class": "logging.FileHandler", "formatter": "json",
                                       "filename": path}
    return settings


if __name__ == "__main__":
    sys.exit(main())
