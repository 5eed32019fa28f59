"""The API's imports run one way: app.api -> blueprints -> app.ratelimit -> app.api_routes.

Read from the source (every import, also those inside functions), so a circle that Python
happens to survive today, thanks to a lazy import, still fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            # `from app import api` imports the module app.api.
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def importers_of(target: str) -> list[str]:
    return sorted(module_name(path) for path in APP.rglob("*.py")
                  if target in imported_modules(path))


def test_only_the_application_factory_imports_app_api():
    assert importers_of("app.api") == ["app"]


def test_api_routes_imports_nothing_of_app():
    assert [name for name in imported_modules(APP / "api_routes.py")
            if name == "app" or name.startswith("app.")] == []


def test_the_limiter_and_the_blueprints_take_the_prefix_and_upload_marker_from_api_routes():
    assert "app.api_routes" in imported_modules(APP / "ratelimit.py")
    assert "app.api_routes" in imported_modules(APP / "catalog" / "api.py")
    assert "app.api_routes" in imported_modules(APP / "storefront" / "__init__.py")
