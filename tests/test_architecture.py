"""Dependency direction: the domain core never imports adapters, storage or HTTP code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "advisor"
CORE = ("network", "risk", "routing")
FORBIDDEN = (
    "flask",
    "werkzeug",
    "requests",
    "sqlalchemy",
    "alembic",
    "gunicorn",
    "advisor.store",
    "advisor.feeds",
    "advisor.web",
    "advisor.api",
    "advisor.services",
    "advisor.cli",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            # `from advisor import web` imports the module advisor.web: keep both spellings
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    # relative import: resolve against the module's package
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
    return ".".join((*package, node.module or "")).rstrip(".")


def _core_modules():
    for part in CORE:
        yield from sorted((PACKAGE / part).rglob("*.py"))


@pytest.mark.parametrize("module", list(_core_modules()), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_never_imports_adapters(module):
    bad = {
        name
        for name in _imports(module)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{module.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_checker_sees_forbidden_imports(tmp_path):
    """The checker itself must be able to fail."""
    sample = tmp_path / "probe.py"
    sample.write_text("import flask\nfrom advisor.store import x\n", encoding="utf-8")
    assert {"flask", "advisor.store"} <= _imports(sample)


def test_routing_core_is_covered():
    assert list(_core_modules()), "no core modules found"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# Imports each module in turn in a fresh interpreter; prints, per module, the forbidden
# modules that importing it added to sys.modules. Loading more modules only adds entries, so
# a module listed with none loads none of them on its own either.
_PROBE = """
import importlib, json, sys
forbidden, seen, found = tuple(sys.argv[1].split(",")), set(), {}
for name in sys.argv[2:]:
    importlib.import_module(name)
    new = sorted(m for m in set(sys.modules) - seen
                 if any(m == f or m.startswith(f + ".") for f in forbidden))
    seen.update(sys.modules)
    found[name] = new
print(json.dumps(found))
"""


def _loaded_at_run_time(modules: list[str]) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(FORBIDDEN), *modules],
        capture_output=True, text=True, timeout=300, check=True,
    )
    return json.loads(done.stdout)


def test_core_loads_no_adapter_at_run_time():
    """Importing the core (with its packages' ``__init__``) loads no flask, store, web …"""
    modules = [_module_name(p) for p in _core_modules()]
    assert "advisor.routing.engine" in modules
    bad = {m: new for m, new in _loaded_at_run_time(modules).items() if new}
    assert not bad, f"importing these loads forbidden modules: {bad}"


def test_run_time_probe_sees_flask():
    """The probe itself must be able to fail."""
    assert "flask" in _loaded_at_run_time(["advisor.web.i18n"])["advisor.web.i18n"]


def _adapter_imports(adapter: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): _imports(path)
        for path in sorted((PACKAGE / adapter).rglob("*.py"))
    }


@pytest.mark.parametrize(("adapter", "sibling"), [("api", "web"), ("web", "api")])
def test_adapters_are_siblings(adapter, sibling):
    """api/ and web/ meet only in the app factory and the use cases (STYLE 18)."""
    target = f"advisor.{sibling}"
    bad = {
        module: sorted(n for n in names if n == target or n.startswith(target + "."))
        for module, names in _adapter_imports(adapter).items()
    }
    bad = {module: names for module, names in bad.items() if names}
    assert not bad, f"advisor.{adapter} imports advisor.{sibling}: {bad}"


def test_sibling_check_sees_a_from_import(tmp_path):
    """`from advisor import web` counts as importing advisor.web."""
    sample = tmp_path / "probe.py"
    sample.write_text("from advisor import web\n", encoding="utf-8")
    assert "advisor.web" in _imports(sample)
