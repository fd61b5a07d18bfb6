"""The dependency rule of docs/architecture.md: delivery → services → domain ← adapters.

import-linter checks the contracts declared in pyproject.toml; grimp (its import graph)
checks that the domain imports nothing outside the standard library, whatever a future
dependency is called; and every package the code imports is declared.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"api", "events", "migrations"}


def test_the_import_contracts_hold() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT,
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", result.stdout), result.stdout


def test_the_domain_imports_only_the_standard_library() -> None:
    graph = grimp.build_graph("events", include_external_packages=True)
    domain = sorted(m for m in graph.modules
                    if m.startswith("events") and not m.startswith("events.postgres"))
    assert "events.decisions" in domain and "events.ports" in domain
    outside = {(module, imported) for module in domain
               for imported in graph.find_modules_directly_imported_by(module)
               if not imported.startswith("events")
               and imported.split(".")[0] not in sys.stdlib_module_names}
    assert not outside, f"the domain imports beyond the standard library: {sorted(outside)}"


def _imported_packages() -> dict[str, str]:
    """Every top-level package the shipped code imports, with one file that does."""
    found: dict[str, str] = {}
    for package in sorted(FIRST_PARTY):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom)
                         and node.level == 0 and node.module else [])
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return {name: where for name, where in found.items()
            if name not in sys.stdlib_module_names and name not in FIRST_PARTY}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            for requirement in project["dependencies"]}


def test_every_imported_package_is_declared() -> None:
    distributions = packages_distributions()
    declared = _declared()
    undeclared = {}
    for package, where in _imported_packages().items():
        names = {d.lower().replace("_", "-") for d in distributions.get(package, [package])}
        if not names & declared:
            undeclared[package] = where
    assert not undeclared, (f"imported but not in pyproject.toml's dependencies: {undeclared}")
