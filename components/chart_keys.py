"""The keys a chart's default values know, and the values the program sets that a chart does
not know: pure functions over plain mappings.

A chart's defaults (`helm show values`) are a YAML mapping. Its keys are recorded as dotted
paths (`serviceAccount.annotations`). A key whose default is an empty map or null is *open*:
the chart takes any map there (`podAnnotations: {}`, `resources: {}`), so nothing below it is
checked. Lists are values, never descended into. Some charts document free-form maps with
defaults in them (cluster-autoscaler's `extraArgs`), or only in comments (grafana's
`serviceAccount.annotations`): FREE_FORM names those by their key. What else one chart takes
(components/helm_charts.py lists it with the chart's pin) is an `Allowed`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Maps charts hand on verbatim (flags, Kubernetes labels and annotations, scheduling, resource
# requests), by their key, wherever they sit: each chart's values.yaml documents them as
# free-form, often only in a comment.
FREE_FORM = ("extra*", "*Annotations", "annotations", "*Labels", "labels", "nodeSelector",
             "resources", "tolerations", "affinity")


@dataclass(frozen=True)
class ChartKeys:
    chart: str
    version: str
    keys: frozenset[str]
    open: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        return {"chart": self.chart, "version": self.version, "keys": sorted(self.keys),
                "open": sorted(self.open)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChartKeys:
        return cls(data["chart"], data["version"], frozenset(data["keys"]),
                   frozenset(data["open"]))


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def default_keys(chart: str, version: str, defaults: Mapping[str, Any]) -> ChartKeys:
    """The dotted key paths of a chart's default values, and which of them are open maps."""
    keys: set[str] = set()
    open_keys: set[str] = set()

    def walk(prefix: str, value: Mapping[str, Any]) -> None:
        for key, child in value.items():
            path = _join(prefix, key)
            keys.add(path)
            if child is None or (isinstance(child, Mapping) and not child):
                open_keys.add(path)
            elif isinstance(child, Mapping):
                walk(path, child)

    walk("", defaults or {})
    return ChartKeys(chart, version, frozenset(keys), frozenset(open_keys))


def _free_form(key: str) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in FREE_FORM)


@dataclass(frozen=True)
class Allowed:
    """What a chart takes beyond its defaults' keys, from its values.yaml and templates:
    `verbatim` maps handed on as another program's configuration (Alertmanager's `config`,
    `grafana.ini`), `commented` keys its values.yaml documents commented out."""

    verbatim: frozenset[str] = frozenset()
    commented: frozenset[str] = frozenset()


def unknown_keys(values: Mapping[str, Any], known: ChartKeys, allowed: Allowed = Allowed(),
                 subcharts: Mapping[str, tuple[ChartKeys, Allowed]] | None = None,
                 prefix: str = "") -> Iterator[str]:
    """Every dotted path in `values` that the chart's defaults (or, under a subchart's key, the
    subchart's) do not know, outermost first; nothing below an open, free-form, verbatim or
    documented-but-commented key is checked."""
    subcharts = subcharts or {}
    for key, child in values.items():
        path = _join(prefix, key)
        if not prefix and key in subcharts and isinstance(child, Mapping):
            # Under a subchart's key the parent may document some keys itself.
            sub_known, sub_allowed = subcharts[key]
            for inner in unknown_keys(child, sub_known, sub_allowed):
                if f"{key}.{inner}" not in known.keys:
                    yield f"{key}.{inner}"
            continue
        if _free_form(str(key)) or path in allowed.commented:
            continue
        if path not in known.keys:
            yield path
        elif isinstance(child, Mapping) and not (path in known.open or path in allowed.verbatim):
            yield from unknown_keys(child, known, allowed, prefix=path)
