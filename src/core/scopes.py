"""Scopes of personal access tokens, and how a route declares the one it needs.

A personal access token (issued by the identity module for a person's own integrations) is
accepted only on routes that declare a scope, and only when the token holds that scope: default
deny. A route declares its scope in its OpenAPI extension `x-token-scope` (so clients see it in
the API document), either for a whole router by HTTP method (`ModuleRouter(token_scopes=...)`)
or on the route itself (`openapi_extra=token_scope(...)`, which wins; `token_scope(None)` refuses
tokens on a route of a router that accepts them).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from src.core.errors import Forbidden

OPENAPI_KEY = "x-token-scope"
PERSONAL_TOKEN_PREFIX = "ugoki_pat_"  # noqa: S105 - how a personal access token starts, not a secret


class TokenScope(StrEnum):
    FASTING_READ = "fasting:read"
    FASTING_WRITE = "fasting:write"
    METRICS_READ = "metrics:read"
    METRICS_WRITE = "metrics:write"
    LABS_READ = "labs:read"
    PROFILE_READ = "profile:read"
    EXPORT_READ = "export:read"


class TokenScopeMissing(Forbidden):
    """A personal access token used on a route it may not call."""

    code = "TOKEN_SCOPE_MISSING"


READ_METHODS = ("GET", "HEAD")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def by_method(*, read: TokenScope | None = None, write: TokenScope | None = None) -> dict[str, TokenScope]:
    """A router-wide scope map: reads need `read`, writes need `write` (None: tokens refused)."""
    scopes: dict[str, TokenScope] = {}
    if read is not None:
        scopes.update(dict.fromkeys(READ_METHODS, read))
    if write is not None:
        scopes.update(dict.fromkeys(WRITE_METHODS, write))
    return scopes


def token_scope(scope: TokenScope | None) -> dict[str, Any]:
    """`openapi_extra` for one route: the scope a personal access token needs here (None: refused)."""
    return {OPENAPI_KEY: None if scope is None else str(scope)}


def with_router_scope(
    openapi_extra: Mapping[str, Any] | None, methods: set[str] | list[str] | None, scopes: Mapping[str, TokenScope]
) -> dict[str, Any] | None:
    """A route's `openapi_extra` with the scope its router declares for its method, unless the
    route declares one itself. A route answering several methods of different scopes gets none."""
    extra = dict(openapi_extra or {})
    if OPENAPI_KEY in extra or not scopes:
        return extra or None
    found = {scopes.get(method.upper()) for method in methods or ()}
    found.discard(None)
    if len(found) == 1:
        extra[OPENAPI_KEY] = str(found.pop())
    return extra or None


def required_scope(route: Any) -> str | None:
    """The scope a personal access token needs on `route`, None when tokens are refused there."""
    extra = getattr(route, "openapi_extra", None) or {}
    value = extra.get(OPENAPI_KEY) if isinstance(extra, dict) else None
    return value if isinstance(value, str) else None


def is_personal_token(token: str | None) -> bool:
    return token is not None and token.startswith(PERSONAL_TOKEN_PREFIX)
