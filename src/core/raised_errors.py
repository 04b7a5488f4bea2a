"""Which `AppError`s a route can answer with, read from the source code.

The API document lists, per operation, the problem `code`s a client may receive. Writing those
lists by hand goes stale as soon as a service gains a new refusal, so they are derived: starting
from the route's endpoint and its dependencies, the functions they call are followed through the
application's source (`src`), and every `AppError` subclass they construct or raise is collected.

Calls are resolved as far as Python's static shape allows:

- a plain name (`load_window(...)`, `TimeKeeperService(...)`) is looked up in the module's globals
  (or its function-local imports), so imported helpers, other modules' interfaces and adapters
  are followed exactly;
- a method call (`self._repo.get(...)`, `service.close(...)`) is matched by name against the
  functions and methods of the package the caller lives in (e.g. every `close` of
  `src.modules.time_keeper`). That may over-approximate, never under-approximate within a package.

The result is a superset of what one request can meet in practice, which is what a client that
branches on `code` needs. Errors raised by framework handlers (validation, rate limit, database)
are added by the API document itself, not here.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from src.core.errors import AppError

ROOT_PACKAGE = "src"
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class _Function:
    module: str  # dotted module name, e.g. "src.modules.time_keeper.service"
    qualname: str
    node: FunctionNode


@dataclass
class _ModuleIndex:
    name: str
    functions: dict[str, list[_Function]] = field(default_factory=dict)  # by (simple) name
    by_qualname: dict[str, _Function] = field(default_factory=dict)


def _package_of(module: str) -> str:
    """The unit within which method names are matched: a feature module (`src.modules.x`), an
    adapter package or file (`src.adapters.x`), else the module's own package."""
    parts = module.split(".")
    if parts[:2] == [ROOT_PACKAGE, "modules"] and len(parts) >= 3:
        return ".".join(parts[:3])
    if parts[:2] == [ROOT_PACKAGE, "adapters"] and len(parts) >= 3:
        return ".".join(parts[:3])
    return module  # src.core.*, src.dependencies: the file itself


def _source_path(module: Any) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file) if file and file.endswith(".py") else None


@cache
def _index(module_name: str) -> _ModuleIndex | None:
    module = sys.modules.get(module_name)
    if module is None or not module_name.startswith(ROOT_PACKAGE + "."):
        return None
    path = _source_path(module)
    if path is None:
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    index = _ModuleIndex(module_name)

    def visit(body: Iterable[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                function = _Function(module_name, prefix + node.name, node)
                index.functions.setdefault(node.name, []).append(function)
                index.by_qualname[function.qualname] = function
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return index


@cache
def _package_modules(package: str) -> tuple[str, ...]:
    """The loaded modules of a package (`package` itself and everything under it)."""
    return tuple(sorted(name for name in list(sys.modules) if name == package or name.startswith(package + ".")))


@cache
def _package_functions(package: str, name: str) -> tuple[_Function, ...]:
    found: list[_Function] = []
    for module_name in _package_modules(package):
        index = _index(module_name)
        if index is not None:
            found.extend(index.functions.get(name, ()))
    return tuple(found)


def _local_imports(nodes: Iterable[ast.AST]) -> dict[str, Any]:
    """Names a function imports in its own body (`from x import y` inside the function)."""
    names: dict[str, Any] = {}
    for child in nodes:
        if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
            module = sys.modules.get(child.module)
            if module is None:
                continue
            for alias in child.names:
                if hasattr(module, alias.name):
                    names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def _resolve(expr: ast.expr, namespace: dict[str, Any]) -> Any:
    """The object a name or dotted attribute chain refers to, when it is a global (else None)."""
    if isinstance(expr, ast.Name):
        return namespace.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = _resolve(expr.value, namespace)
        if base is not None:
            return getattr(base, expr.attr, None)
    return None


def _is_error(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, AppError) and value is not AppError


def _function_of(value: Any) -> _Function | None:
    """The indexed source of an application function, method or class initialiser."""
    target = inspect.unwrap(value) if callable(value) else value
    if isinstance(target, type):
        target = target.__dict__.get("__init__")
    if isinstance(target, staticmethod | classmethod):
        target = target.__func__
    module_name = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    index = _index(module_name)
    return index.by_qualname.get(qualname) if index is not None else None


def _walk_body(node: FunctionNode) -> Iterator[ast.AST]:
    """Every node of a function's body, nested functions (closures) included, decorators not."""
    for statement in node.body:
        yield from ast.walk(statement)


def _message(call: ast.Call) -> str | None:
    """The detail an error is raised with, when the source spells it (`NotFound("No such window")`);
    the values of an f-string show as `…`."""
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "detail"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        parts = [p.value if isinstance(p, ast.Constant) else "…" for p in arg.values]
        return "".join(str(part) for part in parts)
    return None


Raised = tuple[type[AppError], str | None]


def _called(function: _Function) -> tuple[set[Raised], list[_Function]]:
    """Errors (with their message, when written out) constructed or raised by one function, and the
    functions it calls."""
    module = sys.modules[function.module]
    nodes = list(_walk_body(function.node))
    namespace = {**vars(module), **_local_imports(nodes)}
    errors: set[Raised] = set()
    callees: list[_Function] = []
    package = _package_of(function.module)
    for node in nodes:
        if isinstance(node, ast.Raise) and node.exc is not None and not isinstance(node.exc, ast.Call):
            value = _resolve(node.exc, namespace)
            if _is_error(value):
                errors.add((value, None))
        if isinstance(node, ast.Call):
            value = _resolve(node.func, namespace)
            if _is_error(value):
                errors.add((value, _message(node)))
                continue
            resolved = _function_of(value) if value is not None else None
            if resolved is not None:
                callees.append(resolved)
            elif isinstance(node.func, ast.Attribute):
                callees.extend(_package_functions(package, node.func.attr))
        elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            # A function passed as a value (a callback, a thread target) runs too.
            value = _resolve(node, namespace)
            if inspect.isfunction(value):
                resolved = _function_of(value)
                if resolved is not None:
                    callees.append(resolved)
    return errors, callees


@cache
def _direct(function: _Function) -> tuple[frozenset[Raised], tuple[_Function, ...]]:
    errors, callees = _called(function)
    return frozenset(errors), tuple(dict.fromkeys(callees))


def errors_raised_by(callables: Iterable[Callable[..., Any]]) -> dict[type[AppError], str | None]:
    """Every `AppError` subclass the given functions (and what they call) may raise, each with a
    message it is raised with (the shortest written out in the source), or None."""
    pending = [found for value in callables if (found := _function_of(value)) is not None]
    seen: set[_Function] = set()
    messages: dict[type[AppError], set[str]] = {}
    while pending:
        function = pending.pop()
        if function in seen:
            continue
        seen.add(function)
        raised, callees = _direct(function)
        for error, message in raised:
            written = messages.setdefault(error, set())
            if message:
                written.add(message)
        pending.extend(callee for callee in callees if callee not in seen)
    return {error: min(texts, key=lambda m: (len(m), m)) if texts else None for error, texts in messages.items()}
