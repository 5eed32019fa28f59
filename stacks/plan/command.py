"""`python -m stacks plan STACK [--out FILE]`: the real program, offline.

Reads Pulumi.<STACK>.yaml (for a preview-<id> stack without one, a config derived from
Pulumi.dev.yaml; for a secret the settings require but the file lacks, a placeholder), loads
the settings exactly as `pulumi up` would, runs
`stacks.compose.build` under the mock engine (no Pulumi CLI, no credentials), prints the
resource tree, the counts by type and the policy findings, and with `--out` writes a JSON plan
(resources with their options, outputs, the environment and the policy findings) that is
byte-identical for the same input, with every secret replaced by "[secret]".

Resources inside multi-language components (pulumi-eks's Cluster) are not created by this
program, so the plan shows such a component as one resource with its inputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

from stacks import compose
from stacks.plan import ids
from stacks.plan.mocks import ACCOUNT_ID, Recorded, RecordedResource, run_under_mocks
from stacks.policy import rules as policies
from stacks.previews import environment as preview
from stacks.settings import Settings, SettingsError, load_from_mapping, missing_secrets

ROOT = Path(__file__).resolve().parents[2]
# Stands in for a secret the stack file lacks: the plan writes every secret as "[secret]", so
# only its presence matters offline.
SECRET_PLACEHOLDER = {"secure": "offline-placeholder"}


class PlanError(Exception):
    """The plan cannot start: a missing or unreadable stack file."""


def project_name(root: Path = ROOT) -> str:
    return str(_read_yaml(root / "Pulumi.yaml")["name"])


def stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The `config:` mapping of Pulumi.<stack>.yaml. A preview stack (preview-<id>) has no
    file in the repository: its config is derived from its base stack's, as
    `python -m stacks preview up` sets it. The repository's stack files come without secrets
    (each stack's operator adds them, encrypted, with `pulumi config set --secret`): each one
    the settings require but the file lacks is planned with a placeholder."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file() and preview.preview_id(stack) is not None:
        base = stack_config(preview.BASE_STACK, root)
        return preview.generated_config(stack, base, preview.BASE_STACK)
    config = dict(_read_yaml(path).get("config") or {})
    placeholders = dict.fromkeys(missing_secrets(config, project_name(root)), SECRET_PLACEHOLDER)
    return {**config, **placeholders}


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PlanError(f"{path.name} not found in {path.parent}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise PlanError(f"{path.name} is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise PlanError(f"{path.name} must hold a mapping")
    return document


def run_plan(settings: Settings) -> Recorded:
    return run_under_mocks(lambda: compose.build(settings), stack=settings.stack,
                           project=settings.project, region=settings.region)


def plan_document(settings: Settings, recorded: Recorded,
                  findings: list[policies.Finding] | None = None) -> dict[str, Any]:
    """The JSON plan: resources (with their options, `protect` among them), outputs, and the
    policy findings, which `python -m stacks diff` compares."""
    return {
        "stack": settings.stack,
        "project": settings.project,
        "environment": settings.environment,
        "mockIds": ids.SCHEME,
        "resources": [_resource_json(r) for r in sorted(recorded, key=lambda r: r.urn)],
        "outputs": dict(recorded.outputs),
        "findings": [_finding_json(f) for f in sorted(findings or (), key=_finding_order)],
    }


def _finding_json(finding: policies.Finding) -> dict[str, str]:
    return {"policy": finding.policy, "urn": finding.urn, "name": finding.name,
            "message": finding.message, "enforcement": finding.enforcement}


def _finding_order(finding: policies.Finding) -> tuple[str, str, str]:
    return (finding.policy, finding.urn, finding.message)


def plan_findings(settings: Settings, recorded: Recorded) -> list[policies.Finding]:
    """The policy findings of a plan, as the pack would report them for this stack."""
    # Images must come from the stack's own ECR: under the mocks, the mock account's.
    registry = f"{ACCOUNT_ID}.dkr.ecr.{settings.region}.amazonaws.com"
    return policies.check(recorded, policies.Context(
        environment=settings.environment, registry_host=registry,
        unprotect_stateful=settings.unprotect_stateful))


def _resource_json(record: RecordedResource) -> dict[str, Any]:
    return {
        "urn": record.urn,
        "id": record.id,
        "type": record.type,
        "name": record.name,
        "parent": record.parent,
        "inputs": record.inputs,
        "options": record.options.to_json(),
    }


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_tree(recorded: Recorded) -> str:
    children: dict[str, list[RecordedResource]] = defaultdict(list)
    for record in recorded:
        children[record.parent].append(record)
    known = {record.urn for record in recorded}
    roots = sorted(parent for parent in children if parent not in known)
    lines: list[str] = []

    def walk(urn: str, depth: int) -> None:
        for child in sorted(children.get(urn, []), key=lambda r: (r.type, r.name)):
            lines.append(f"{'  ' * depth}{child.type}  {child.name}")
            walk(child.urn, depth + 1)

    for root in roots:
        lines.append(root.rsplit("::", 2)[-2] + "  " + root.rsplit("::", 1)[-1])
        walk(root, 1)
    return "\n".join(lines)


def render_counts(recorded: Recorded) -> str:
    counts = Counter(record.type for record in recorded)
    width = len(str(len(recorded.resources)))
    lines = [f"{count:>{width}}  {token}" for token, count in sorted(counts.items())]
    lines.append(f"{len(recorded.resources):>{width}}  resources in all")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        project = project_name(ROOT)
        config = stack_config(args.stack, ROOT)
        settings = load_from_mapping(args.stack, config, project=project)
        recorded = run_plan(settings)
    except (PlanError, SettingsError) as error:
        print(f"stack {args.stack}: {error}", file=sys.stderr)
        return 2
    findings = plan_findings(settings, recorded)
    print(render_tree(recorded), render_counts(recorded), policies.report(findings), sep="\n\n")
    placeholders = [key for key, value in config.items() if value == SECRET_PLACEHOLDER]
    if placeholders:
        print(f"\nplanned with a placeholder (not in Pulumi.{args.stack}.yaml): "
              f"{', '.join(placeholders)}; `pulumi up` needs each set with "
              "`pulumi config set --secret`")
    if args.out is not None:
        args.out.write_text(to_json(plan_document(settings, recorded, findings)),
                            encoding="utf-8")
        print(f"\nplan written to {args.out}")
    return 1 if policies.blocking(findings) else 0


def add_parser(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Registers `plan` on the `python -m stacks` parser."""
    plan = subparsers.add_parser(
        "plan", help="the stack's resources offline, under the mock engine",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    plan.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--out", type=Path, metavar="FILE", help="write the JSON plan here")
    plan.set_defaults(func=run)
    return plan
