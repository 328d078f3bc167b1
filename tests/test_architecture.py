"""Dependency direction: the domain core never imports adapters, storage or HTTP code."""

from __future__ import annotations

import ast
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
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            # relative import: resolve against the module's package
            package = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
            names.add(".".join((*package, node.module or "")).rstrip("."))
    return names


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
