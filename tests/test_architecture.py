"""Module boundaries: every module is a black box, listed in the import contract, and no package
(module, core, adapter or app shell) names another module's tables in SQL."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import src.main  # imports every module, so every table is in the metadata
from src.database import Base

ROOT = Path(__file__).resolve().parents[1]
MODULES_DIR = ROOT / "src" / "modules"
SRC = ROOT / "src"
# A table name where SQL names a table: after FROM / JOIN / UPDATE / INTO / TABLE.
_SQL_TABLE = re.compile(r"\b(?:from|join|update|into|table)\s+[\"`\[]?([a-z_][a-z0-9_]*)", re.IGNORECASE)


def _modules() -> list[str]:
    return sorted(p.name for p in MODULES_DIR.iterdir() if (p / "__init__.py").exists())


def _table_owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        table = mapper.local_table.name  # type: ignore[union-attr]
        parts = module.split(".")
        owners[table] = parts[2] if parts[:2] == ["src", "modules"] else "core"
    return owners


def test_every_module_is_protected_by_the_import_contract() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    protected = {
        config[section]["protected_modules"].strip()
        for section in config.sections()
        if section.startswith("importlinter:contract:") and config[section].get("type") == "protected"
    }
    missing = [m for m in _modules() if f"src.modules.{m}.**" not in protected]
    assert not missing, f"add a protected contract to .importlinter for: {missing}"


def test_every_module_has_an_interface_and_a_manifest() -> None:
    for module in _modules():
        for required in ("__init__.py", "interface.py", "manifest.py"):
            assert (MODULES_DIR / module / required).exists(), f"{module} lacks {required}"


def test_every_module_is_wired_into_the_app() -> None:
    wired = {manifest.name for manifest in src.main.MODULES}
    assert set(_modules()) <= wired


def _owner_of(path: Path) -> str:
    """The package a source file belongs to: its module, or "core" for everything outside the
    modules (core, adapters, the app shell), which owns only the core tables."""
    parts = path.relative_to(SRC).parts
    return parts[1] if parts[0] == "modules" and len(parts) > 2 else "core"


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _named_tables(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, table) for every table named in SQL text or in a `table("...")` / `Table("...")` call."""
    docstrings = _docstrings(tree)
    named: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            named.extend((node.lineno, m.group(1).lower()) for m in _SQL_TABLE.finditer(node.value))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            first = node.args[0]
            if name.lower() == "table" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                named.append((node.lineno, first.value))
    return named


def test_the_table_scan_sees_sql_and_table_calls() -> None:
    tree = ast.parse(
        '"""Reads from metrics."""\n'
        'q = text("SELECT id FROM lab_reports JOIN metrics ON true")\n'
        'u = "update health_consents set x = 1"\n'
        't = sa.table("outbox_messages")\n'
    )
    assert sorted(table for _, table in _named_tables(tree)) == [
        "health_consents",
        "lab_reports",
        "metrics",
        "outbox_messages",
    ]


def test_no_package_names_another_modules_tables_in_sql() -> None:
    owners = _table_owners()
    offences: list[str] = []
    paths = sorted(SRC.rglob("*.py"))
    assert any(p.parts[-2] == "core" for p in paths)
    assert any(p.parts[-2] == "adapters" for p in paths)
    for path in paths:
        owner = _owner_of(path)
        for line, table in _named_tables(ast.parse(path.read_text())):
            if table in owners and owners[table] != owner:
                offences.append(f"{path.relative_to(ROOT)}:{line} names {table} (owned by {owners[table]})")
    assert not offences, "packages must reach other modules through their interfaces:\n" + "\n".join(offences)
