"""Running wrk and reading what it prints."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    threads: int
    connections: int
    seconds: int


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    script_output: dict[str, int] = field(default_factory=dict)


def run(url: str, load: Load, script: str | None = None, args: tuple[str, ...] = ()
        ) -> WrkResult:
    command = ["wrk", f"--threads={load.threads}", f"--connections={load.connections}",
               f"--duration={load.seconds}s", "--timeout=10s", "--latency"]
    if script:
        command += ["--script", str(LUA / script), url, "--", str(LUA / "lines.lua"), *args]
    else:
        command.append(url)
    completed = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return parse(completed.stdout)


def parse(output: str) -> WrkResult:
    """wrk's report: the totals line, Requests/sec, the --latency distribution, and the
    error lines it prints only when there were errors."""
    totals = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if totals is None:
        raise ValueError(f"not a wrk report:\n{output}")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(totals.group(1)),
        seconds=float(totals.group(2)) * _UNITS[totals.group(3)] / 1000,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_percentile(output, "50"),
        p99_ms=_percentile(output, "99"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        script_output={name: int(value) for name, value in
                       re.findall(r"(\w+)=(\d+)", _script_lines(output))},
    )


def _percentile(output: str, which: str) -> float:
    match = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk printed no {which}th percentile (was --latency given?)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _script_lines(output: str) -> str:
    """What a script's done() wrote: the lines after wrk's own Transfer/sec line."""
    return output.split("Transfer/sec:", 1)[-1].split("\n", 1)[-1]
