"""What the pipelines take from a stack's offline plan, beside the plan itself:

- `python -m stacks manifests STACK --out DIR`: the Kubernetes objects the program creates, one
  YAML file each, for checkov (and any other scanner) to read as plain manifests. Helm releases
  are not objects (their charts render in the cluster) and are left out; a Secret's data and a
  secret annotation are masked in the plan, so they are written as stand-ins.
- `python -m stacks image-targets STACK`: the `--target` URNs a `pulumi up` needs to build and
  push the storefront image alone (the image, what it depends on, and their parents), so the
  image's ECR scan can gate the deploy (`stacks ops scan-gate`) before any workload runs it.
  `--repository` prints the ECR repository's name instead.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from stacks.plan.command import ROOT, PlanError, project_name, run_plan, stack_config
from stacks.plan.recorded import SECRET, Recorded, RecordedResource
from stacks.settings import SettingsError, load_from_mapping

NOT_OBJECTS = frozenset({"pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release"})
IMAGE_BUILD = "storefront-image-build"
REPOSITORY = "aws:ecr/repository:Repository"
STACK_TYPE = "pulumi:pulumi:Stack"
_FILE_PART = re.compile(r"[^A-Za-z0-9_.-]+")


def kubernetes_objects(recorded: Recorded) -> list[dict[str, Any]]:
    """Every Kubernetes object of the plan as the API server would receive it, secrets masked."""
    objects = []
    for resource in recorded:
        if not resource.type.startswith("kubernetes:") or resource.type in NOT_OBJECTS:
            continue
        document = json.loads(json.dumps(resource.inputs))
        annotations = document.get("metadata", {}).get("annotations", {})
        for key, value in annotations.items():
            if value == SECRET:
                annotations[key] = "masked-secret"
        # Pulumi auto-names an object without a name after its resource (plus a suffix).
        document.setdefault("metadata", {}).setdefault("name", resource.name)
        if document.get("kind") == "Secret":
            for key in ("stringData", "data"):
                if document.get(key) == SECRET:
                    document[key] = {}
        objects.append(document)
    return objects


def manifest_name(document: dict[str, Any]) -> str:
    metadata = document.get("metadata", {})
    parts = [document.get("kind", "Object"), metadata.get("namespace") or "cluster",
             metadata.get("name", "unnamed")]
    return "-".join(_FILE_PART.sub("_", str(part)) for part in parts) + ".yaml"


def write_manifests(objects: Iterable[dict[str, Any]], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for document in objects:
        path = out / manifest_name(document)
        path.write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
        written.append(path)
    return written


def image_targets(recorded: Recorded, name: str = IMAGE_BUILD) -> list[str]:
    """The URNs a targeted `pulumi up` of `name` needs on a first deploy too: the resource,
    everything its inputs come from, and the parents of all of them (not the stack itself)."""
    by_urn = {resource.urn: resource for resource in recorded}
    [start] = [resource for resource in recorded if resource.name == name]
    needed: set[str] = set()
    pending = [start.urn]
    while pending:
        urn = pending.pop()
        resource: RecordedResource | None = by_urn.get(urn)
        if urn in needed or resource is None or resource.type == STACK_TYPE:
            continue
        needed.add(urn)
        pending.extend(resource.options.dependencies)
        if resource.parent:
            pending.append(resource.parent)
    return sorted(needed)


def _plan(stack: str) -> Recorded:
    config = stack_config(stack, ROOT)
    return run_plan(load_from_mapping(stack, config, project=project_name(ROOT)))


def run_manifests(args: argparse.Namespace) -> int:
    try:
        recorded = _plan(args.stack)
    except (PlanError, SettingsError) as error:
        print(f"stack {args.stack}: {error}", file=sys.stderr)
        return 1
    written = write_manifests(kubernetes_objects(recorded), args.out)
    print(f"{len(written)} Kubernetes object(s) of {args.stack} written to {args.out}")
    return 0


def run_image_targets(args: argparse.Namespace) -> int:
    try:
        recorded = _plan(args.stack)
    except (PlanError, SettingsError) as error:
        print(f"stack {args.stack}: {error}", file=sys.stderr)
        return 1
    if args.repository:
        [repository] = recorded.of_type(REPOSITORY)
        print(repository.inputs["name"])
    else:
        print("\n".join(f"--target={urn}" for urn in image_targets(recorded)))
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `manifests` and `image-targets` on the `python -m stacks` parser."""
    manifests = subparsers.add_parser(
        "manifests", help="write the stack's Kubernetes objects as YAML files (for checkov)")
    manifests.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    manifests.add_argument("--out", type=Path, required=True, metavar="DIR")
    manifests.set_defaults(func=run_manifests)
    targets = subparsers.add_parser(
        "image-targets", help="the --target URNs that build and push the storefront image alone")
    targets.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    targets.add_argument("--repository", action="store_true",
                         help="print the ECR repository's name instead")
    targets.set_defaults(func=run_image_targets)
