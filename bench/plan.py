"""`python -m bench plan`: the offline plan's time against the floor its SDK imports set.

For each stack, in one run: a probe plan lists the Pulumi SDK modules the plan loads (the
provider SDKs load their submodules lazily, so only those the program touches); then, in turn,
a fresh interpreter that imports exactly those modules (the import floor: no plan can be
faster) and a fresh `python -m stacks plan STACK --out FILE`, each measured several times.
The best of each is compared, wall clock and CPU, and the target is a plan within
`TARGET_RATIO` times its floor. Both are whole processes (interpreter start included), so the
ratio compares like with like. CPU time (user + system of the child) is printed too: on a
shared machine it moves less with the load than the wall clock does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0
STACKS = ("dev", "prod")
# Top-level packages counted as "the SDK": the engine and every provider SDK.
SDK_PREFIX = "pulumi"

# Runs the plan in-process, then prints the SDK modules that were really loaded (a lazy
# submodule the program never touched is registered in sys.modules but not executed).
_PROBE = """
import contextlib, io, json, sys
from pulumi import _utils
from stacks.__main__ import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["plan", sys.argv[1], "--out", sys.argv[2]])
loaded = sorted(name for name, module in list(sys.modules.items())
                if name.split(".")[0].startswith(sys.argv[3])
                and module is not None and not isinstance(module, _utils._LazyModule))
print(json.dumps(loaded))
"""

# Imports each module, and touches it so a lazily registered one is executed as in the plan.
_FLOOR = """
import importlib, json, sys
for name in json.loads(sys.stdin.read()):
    getattr(importlib.import_module(name), "__all__", None)
"""


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


@dataclass(frozen=True)
class StackResult:
    stack: str
    modules: int
    floor: Timing
    plan: Timing

    @property
    def ratio(self) -> float:
        return self.plan.wall / self.floor.wall

    @property
    def cpu_ratio(self) -> float:
        return self.plan.cpu / self.floor.cpu


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    load_before = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="shop-bench-plan-") as temp:
        for stack in options.stacks:
            out = Path(temp) / f"plan-{stack}.json"
            print(f"probing the SDK modules the {stack} plan loads...", flush=True)
            modules = sdk_modules(stack, out, env)
            print(f"measuring {stack}: import floor ({len(modules)} modules) and plan, "
                  f"{options.repeat} times each...", flush=True)
            floors, plans = [], []
            for _ in range(options.repeat):
                floors.append(_timed([sys.executable, "-c", _FLOOR], env, json.dumps(modules)))
                plans.append(_timed([sys.executable, "-m", "stacks", "plan", stack,
                                     "--out", str(out)], env))
            results.append(StackResult(stack, len(modules), _best(floors), _best(plans)))
    _print_table(results, options.repeat, load_before)
    return _print_targets(results)


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench plan",
                                     description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("stacks", nargs="*", default=list(STACKS),
                        help=f"stacks to plan (default: {' '.join(STACKS)})")
    parser.add_argument("--repeat", type=int, default=3,
                        help="measurements of each, the best counts (default 3)")
    return parser.parse_args(argv)


def sdk_modules(stack: str, out: Path, env: dict[str, str]) -> list[str]:
    """The SDK modules a fresh `stacks plan STACK` loads, from a probe run of it."""
    probe = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", _PROBE, stack, str(out), SDK_PREFIX],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        raise SystemExit(f"the probe plan of {stack} failed:\n{probe.stderr}")
    return json.loads(probe.stdout.strip().splitlines()[-1])


def _timed(command: list[str], env: dict[str, str], stdin: str | None = None) -> Timing:
    """One fresh process: its wall clock, and its CPU (user + system). Children are waited for
    one at a time, so the growth of RUSAGE_CHILDREN is this child's."""
    before = _children_cpu()
    with tempfile.TemporaryFile(mode="w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.PIPE,  # noqa: S603
                                 stdout=subprocess.DEVNULL, stderr=errors, text=True)
        child.communicate(stdin or "")
        wall = time.perf_counter() - started
        # A plan exits 1 on mandatory findings and still measures a whole plan; 2 is an error.
        if child.returncode not in (0, 1):
            errors.seek(0)
            raise SystemExit(f"{' '.join(command[:5])} failed:\n{errors.read()}")
    return Timing(wall=wall, cpu=_children_cpu() - before)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _best(timings: list[Timing]) -> Timing:
    return Timing(wall=min(t.wall for t in timings), cpu=min(t.cpu for t in timings))


def _print_table(results: list[StackResult], repeat: int, load_before: float) -> None:
    print(f"\noffline plan vs its import floor, best of {repeat}, on {os.cpu_count()} CPU(s) "
          f"(1-minute load average before the run: {load_before:.1f})\n")
    print(f"{'stack':<8}{'modules':>9}{'floor s':>10}{'plan s':>10}{'ratio':>8}"
          f"{'floor cpu':>11}{'plan cpu':>10}{'cpu ratio':>11}")
    for r in results:
        print(f"{r.stack:<8}{r.modules:>9}{r.floor.wall:>10.2f}{r.plan.wall:>10.2f}"
              f"{r.ratio:>8.2f}{r.floor.cpu:>11.2f}{r.plan.cpu:>10.2f}{r.cpu_ratio:>11.2f}")


def _print_targets(results: list[StackResult]) -> int:
    print()
    missed = 0
    for r in results:
        met = r.ratio <= TARGET_RATIO
        missed += not met
        print(f"  {'met ' if met else 'MISS'}  plan {r.stack} <= {TARGET_RATIO:.0f}x its import "
              f"floor (measured {r.ratio:.2f}x wall, {r.cpu_ratio:.2f}x CPU)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
