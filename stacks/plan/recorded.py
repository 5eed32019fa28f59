"""What a program registered under the mock engine, as plain data.

The monitor records each registration from the wire (the protobuf the SDK sends), not from the
SDK's deserialised view, so that secrets are known as secrets and can never leak into a plan,
resource references stay URNs, and numbers that are whole print as integers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import get_project, get_stack

SECRET = "[secret]"  # noqa: S105 - the mask, not a password
"""What every secret value (resource input or stack output) is replaced by."""

UNKNOWN = "[unknown]"

_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_ASSET_SIG = rpc._special_asset_sig
_ARCHIVE_SIG = rpc._special_archive_sig
_OUTPUT_SIG = rpc._special_output_value_sig


@dataclass(frozen=True)
class RecordedOptions:
    """The resource options that change how the engine treats a resource."""

    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    provider: str = ""
    dependencies: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Only what differs from the defaults, so a plan stays short and diffs stay focused."""
        defaults = RecordedOptions()
        return {
            _camel(name): list(value) if isinstance(value, tuple) else value
            for name, value in vars(self).items()
            if value != getattr(defaults, name)
        }


@dataclass(frozen=True)
class RecordedResource:
    """One registration: a custom resource, a component, or a provider."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str
    custom: bool
    id: str = ""  # what the mocks answered; empty for components
    options: RecordedOptions = field(default_factory=RecordedOptions)


@dataclass(frozen=True)
class Recorded:
    """Every resource a program registered, and its stack outputs (secrets masked)."""

    resources: list[RecordedResource]
    outputs: Mapping[str, Any]

    def __iter__(self) -> Iterator[RecordedResource]:
        return iter(self.resources)

    def of_type(self, token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str | None = None) -> RecordedResource:
        """The single resource of a type (and name): anything else is a test failure."""
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in self.of_type(token))
            raise AssertionError(f"expected one {token} named {name!r}, found {names}")
        return found[0]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    def children(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent.urn]


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, which also keeps a plain record of every registration."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.records: list[RecordedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the real engine makes them: the parent's type chain, without the stack's."""
        parent_type = parent.split("::")[2] if parent else "pulumi:pulumi:Stack"
        if parent_type != "pulumi:pulumi:Stack":
            type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{get_stack()}::{get_project()}::{type_}::{name}"

    def RegisterResource(  # noqa: N802 - the gRPC method name
            self, request: resource_pb2.RegisterResourceRequest,
    ) -> resource_pb2.RegisterResourceResponse:
        # The SDK's mock monitor is untyped; its answer is that message.
        response: resource_pb2.RegisterResourceResponse = (
            super().RegisterResource(request))  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.records.append(_record(request, response.urn, response.id))
        return response


def _record(request: resource_pb2.RegisterResourceRequest, urn: str,
            resource_id: str) -> RecordedResource:
    return RecordedResource(
        urn=urn,
        id=resource_id,
        type=request.type,
        name=request.name,
        inputs=plain(json_format.MessageToDict(request.object)),
        parent=request.parent,
        custom=bool(request.custom),
        options=RecordedOptions(
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            # A provider reference is "<urn>::<id>", and a URN itself contains "::".
            provider=request.provider.rsplit("::", 1)[0] if request.provider else "",
            dependencies=tuple(sorted(request.dependencies)),
        ),
    )


def plain(value: Any) -> Any:
    """A wire value as JSON-ready data: secrets masked, references as URNs, nulls dropped."""
    if isinstance(value, dict):
        return _plain_struct(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def _plain_struct(struct: dict[str, Any]) -> Any:
    sig = struct.get(_SIG)
    if sig == _SECRET_SIG:
        return SECRET
    if sig == _OUTPUT_SIG:
        if struct.get("secret"):
            return SECRET
        return plain(struct["value"]) if "value" in struct else UNKNOWN
    if sig == _RESOURCE_SIG:
        return struct["urn"]
    if sig in (_ASSET_SIG, _ARCHIVE_SIG):
        return {k: plain(v) for k, v in sorted(struct.items()) if k != _SIG}
    return {k: plain(v) for k, v in struct.items() if v is not None}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
