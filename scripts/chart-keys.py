#!/usr/bin/env python3
"""Record the default values keys of every chart version components/helm_charts.py pins, as
components/charts/<chart>-<version>.keys.json (tests/infra/test_chart_values.py reads them).

    scripts/chart-keys.py                      # every pinned chart, through `helm show values`
    scripts/chart-keys.py --check              # exit 1 when a pinned version has no keys file
    scripts/chart-keys.py --chart grafana --values-file values.yaml
                                               # one chart from its values.yaml (no helm needed)

`--values-file` reads the chart's own values.yaml, e.g. from the chart's repository at the tag of
the pinned version (README.md, "Helm charts", lists where each one is).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

# Run as a script: the repository root is not on sys.path by itself.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components.chart_keys import default_keys  # noqa: E402
from components.helm_charts import KEYS_DIR, Chart, every_pinned  # noqa: E402


def helm_values(chart: Chart) -> str:
    helm = shutil.which("helm")
    if helm is None:
        raise SystemExit("helm is not on PATH: install it, or pass --values-file")
    # Arguments from the pinned table only, never from input; no shell.
    return subprocess.run(  # noqa: S603
        [helm, "show", "values", chart.name, "--repo", chart.repository, "--version",
         chart.version], check=True, capture_output=True, text=True, timeout=300).stdout


def write_keys(chart: Chart, values_yaml: str, out_dir: Path) -> Path:
    keys = default_keys(chart.name, chart.version, yaml.safe_load(values_yaml) or {})
    path = out_dir / chart.keys_file.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys.to_json(), indent=1) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chart", help="only this chart (a name in components/helm_charts.py)")
    parser.add_argument("--values-file", type=Path,
                        help="read this values.yaml instead of `helm show values` (needs --chart)")
    parser.add_argument("--out-dir", type=Path, default=KEYS_DIR,
                        help="where to write the keys files (default: components/charts)")
    parser.add_argument("--check", action="store_true",
                        help="only check that every pinned version has its keys file")
    args = parser.parse_args(argv)
    charts = [c for c in every_pinned() if args.chart in (None, c.name)]
    if not charts:
        parser.error(f"--chart {args.chart!r} is not pinned in components/helm_charts.py")
    if args.check:
        missing = [c for c in charts if not c.keys_file.is_file()]
        for chart in missing:
            print(f"missing: {chart.keys_file.relative_to(ROOT)} "
                  f"(run scripts/chart-keys.py --chart {chart.name})", file=sys.stderr)
        return 1 if missing else 0
    if args.values_file and len(charts) != 1:
        parser.error("--values-file needs --chart")
    for chart in charts:
        source = (args.values_file.read_text(encoding="utf-8") if args.values_file
                  else helm_values(chart))
        print(write_keys(chart, source, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
