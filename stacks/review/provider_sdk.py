"""What the installed provider SDKs say about which inputs force a replacement.

Neither wheel ships its Pulumi schema, and the schema has no ForceNew anyway (the bridge knows
it at run time). What pulumi-aws's Python SDK does carry is each input's documentation, taken
from the provider's own docs, and there some inputs say so plainly: "Changing this forces a
new resource to be created", "This attribute cannot be changed after creation". This module
reads those sentences from the Args classes of the installed pulumi_aws, for each AWS type the
table of replacements.py covers. A sentence that makes it conditional ("If `vpc_endpoint_type`
is anything other than `Interface`, ...", "with an `engine_version` < `7.0.5`") is recorded as
conditional and not applied: whether it holds depends on other inputs.

pulumi-kubernetes and pulumi-eks say nothing of the kind in their SDKs (the Kubernetes provider
decides replacements in its own code from the API's immutable fields), so their entries stay
hand-kept in replacements.py, as do the AWS inputs the docs leave unsaid.

`python -m stacks.review.provider_sdk > stacks/review/provider_sdk.json` records the derived
table with the SDK versions and a fingerprint of each covered type's inputs and their docs.
replacements.py reads that file (importing pulumi_aws's modules would cost `stacks diff`
seconds), and a test derives it again from the installed SDKs: an SDK upgrade that changes a
covered type fails it until someone reviews the table and records the file again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import json
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi._types import input_type_py_to_pulumi_names

SDKS = ("pulumi_aws", "pulumi_kubernetes", "pulumi_eks", "pulumi_random")
_FORCES = re.compile(
    r"forces? (?:a )?(?:new|replacement|recreation)|force[sd]? (?:a |the )?(?:new|replacement|"
    r"recreation|resource recreation)|force terraform to create|cannot be changed after creation"
    r"|changing this (?:value |argument )?(?:will )?(?:forces?|creates?) |there is no update api",
    re.I)
_CONDITIONAL = re.compile(r"\b(?:if|when|unless|with an?|only for)\b|[<>]", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")


def sdk_versions() -> dict[str, str]:
    found = {}
    for module in SDKS:
        try:
            found[module] = importlib.metadata.version(module.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            found[module] = "not installed"
    return found


@functools.cache
def aws_inputs(token: str) -> dict[str, str] | None:
    """Each input of an AWS resource type (camelCase, as the plan has it) and its docs;
    None when the installed pulumi_aws has no such type."""
    package, module, name = token.split(":")
    if package != "aws":
        return None
    try:
        args = getattr(importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"),
                       f"{name}Args")
    except (ImportError, AttributeError):
        return None
    names = input_type_py_to_pulumi_names(args)
    return {pulumi_name: " ".join((getattr(args, py_name).__doc__ or "").split())
            for py_name, pulumi_name in sorted(names.items())}


def classify(doc: str) -> str | None:
    """"forces" when the docs say a change replaces the resource, "conditional" when they say
    it only under a condition, None otherwise."""
    sentences = [s for s in _SENTENCE.split(doc) if _FORCES.search(s)]
    if not sentences:
        return None
    return "conditional" if all(_CONDITIONAL.search(s) for s in sentences) else "forces"


def derived(token: str) -> tuple[str, ...]:
    """The inputs the installed SDK says force a replacement of `token`, unconditionally."""
    inputs = aws_inputs(token) or {}
    return tuple(name for name, doc in inputs.items() if classify(doc) == "forces")


def snapshot(tokens: Iterable[str]) -> dict[str, Any]:
    """The derived table and what it was derived from, for the drift test."""
    types: dict[str, Any] = {}
    for token in sorted(tokens):
        inputs = aws_inputs(token)
        if inputs is None:
            continue
        marked = {name: kind for name, doc in inputs.items() if (kind := classify(doc))}
        types[token] = {
            "forces": sorted(n for n, k in marked.items() if k == "forces"),
            "conditional": sorted(n for n, k in marked.items() if k == "conditional"),
            "fingerprint": _fingerprint(inputs),
        }
    return {"sdks": sdk_versions(), "types": types}


def _fingerprint(inputs: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def main() -> int:
    from stacks.review.replacements import covered_types

    print(json.dumps(snapshot(covered_types()), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
