"""Routing helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from src.core.scopes import TokenScope, with_router_scope


class ModuleRouter(APIRouter):
    """An APIRouter that answers "no match" at once for paths outside its mount point.

    Starlette matches routes one by one, so without this a request for the last module's route is
    first compared with every route of every module before it. `mounted_at` is set by the app
    shell when the router is included (e.g. "/api/v1/time-keeper")."""

    mounted_at: str | None = None

    def __init__(self, *args: Any, token_scopes: Mapping[str, TokenScope] | None = None, **kwargs: Any) -> None:
        # Which scope a personal access token needs, per HTTP method, on this router's routes
        # (see src/core/scopes.py); without it tokens are refused on every route of the router.
        self.token_scopes = dict(token_scopes or {})
        super().__init__(*args, **kwargs)

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        if self.token_scopes:
            kwargs["openapi_extra"] = with_router_scope(
                kwargs.get("openapi_extra"), kwargs.get("methods"), self.token_scopes
            )
        super().add_api_route(path, endpoint, **kwargs)

    def include_router(self, router: APIRouter, *args: Any, **kwargs: Any) -> None:
        # Included routers keep their own route objects: give them this router's scopes too.
        if self.token_scopes:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    route.openapi_extra = with_router_scope(route.openapi_extra, route.methods, self.token_scopes)
        super().include_router(router, *args, **kwargs)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.mounted_at and scope.get("type") == "http" and not get_route_path(scope).startswith(self.mounted_at):
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: Any, router: APIRouter, *, prefix: str) -> None:
    app.include_router(router, prefix=prefix)
    if isinstance(router, ModuleRouter):
        router.mounted_at = prefix + router.prefix
