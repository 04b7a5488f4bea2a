"""Module boundaries: every module is a black box, listed in the import contract, and no module
names another module's tables in SQL."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import src.main  # imports every module, so every table is in the metadata
from src.database import Base

ROOT = Path(__file__).resolve().parents[1]
MODULES_DIR = ROOT / "src" / "modules"


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
    missing = [m for m in _modules() if f"src.modules.{m}.*" not in protected]
    assert not missing, f"add a protected contract to .importlinter for: {missing}"


def test_every_module_has_an_interface_and_a_manifest() -> None:
    for module in _modules():
        for required in ("__init__.py", "interface.py", "manifest.py"):
            assert (MODULES_DIR / module / required).exists(), f"{module} lacks {required}"


def test_every_module_is_wired_into_the_app() -> None:
    wired = {manifest.name for manifest in src.main.MODULES}
    assert set(_modules()) <= wired


def test_no_module_names_another_modules_tables_in_sql() -> None:
    owners = _table_owners()
    offences: list[str] = []
    for module in _modules():
        foreign = {table for table, owner in owners.items() if owner != module}
        for path in (MODULES_DIR / module).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    words = set(node.value.replace(",", " ").replace("(", " ").replace(")", " ").split())
                    sqlish = {"select", "from", "join", "update", "insert", "delete", "into"} & {
                        w.lower() for w in words
                    }
                    hits = words & foreign
                    if sqlish and hits:
                        offences.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {sorted(hits)}")
    assert not offences, "modules must reach other modules through their interfaces:\n" + "\n".join(offences)
