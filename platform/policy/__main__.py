"""The CrossGuard policy pack: ``pulumi preview --policy-pack platform/policy``.

Each rule of ``stacks.policy`` becomes one policy of the same name, so a violation reads the
same here as in ``python -m stacks plan``. Optional per-policy config
(``--policy-pack-config``): ``environment`` (dev|prod|preview; otherwise each resource's
Environment tag decides), ``registryHost`` (the stack's ECR host; otherwise any private ECR
registry is accepted), ``allowedInstanceTypes`` and ``unprotectStateful`` (the stack's
shop:unprotectStateful: prod's stateful resources may lack ``protect``). ``pack_config.py``
beside this file writes that config for a stack; the pipelines pass it on every preview and
update.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Pulumi runs this file as a script from platform/policy, so only this folder is on sys.path.
# The rules live in the `stacks` package at the repository root, and platform/ must not become
# a package to reach them (an importable `platform` would shadow the standard library module
# that pulumi, grpc and boto3 import), so the root is put on sys.path by hand.
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pulumi_policy import (  # noqa: E402 - needs the path above
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError  # noqa: E402

from stacks.policy import (  # noqa: E402
    RULES,
    Context,
    Resource,
    ResourceRule,
    StackRule,
)

PACK_NAME = "shop-platform"
ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
CONFIG_SCHEMA = PolicyConfigSchema(properties={
    "environment": {"type": "string", "enum": ["dev", "prod", "preview"]},
    "registryHost": {"type": "string"},
    "allowedInstanceTypes": {"type": "array", "items": {"type": "string"}},
    "unprotectStateful": {"type": "boolean"},
})


def context_from(config: Mapping[str, Any]) -> Context:
    allowed = config.get("allowedInstanceTypes")
    return Context(
        environment=config.get("environment"),
        registry_host=config.get("registryHost"),
        unprotect_stateful=bool(config.get("unprotectStateful", False)),
        **({"allowed_instance_types": frozenset(allowed)} if allowed else {}),
    )


def as_resource(resource: PolicyResource) -> Resource:
    try:
        resource_id = resource.props.get("id")
    except UnknownValueError:  # a resource still to be created has no id during preview
        resource_id = None
    return Resource(
        urn=resource.urn, type=resource.resource_type, name=resource.name,
        inputs=resource.props, parent=resource.parent.urn if resource.parent else None,
        id=resource_id if isinstance(resource_id, str) else None,
        dependencies=tuple(dep.urn for dep in resource.dependencies),
        references={prop: tuple(dep.urn for dep in deps)
                    for prop, deps in resource.property_dependencies.items()},
        protect=bool(resource.opts.protect),
    )


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        context = context_from(args.get_config())
        for message in rule.validate(args.resource_type, args.props, context):
            report_violation(message, None)

    return ResourceValidationPolicy(name=rule.name, description=rule.description,
                                    enforcement_level=ENFORCEMENT[rule.enforcement],
                                    config_schema=CONFIG_SCHEMA, validate=validate)


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        context = context_from(args.get_config())
        stack = [as_resource(resource) for resource in args.resources]
        for resource, message in rule.validate(stack, context):
            report_violation(message, resource.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description,
                                 enforcement_level=ENFORCEMENT[rule.enforcement],
                                 config_schema=CONFIG_SCHEMA, validate=validate)


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [stack_policy(rule) if isinstance(rule, StackRule) else resource_policy(rule)
            for rule in RULES]


# Serves the policies to the Pulumi engine over gRPC until the engine stops it.
PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.MANDATORY)
