"""Routing helpers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope


class ModuleRouter(APIRouter):
    """An APIRouter that answers "no match" at once for paths outside its mount point.

    Starlette matches routes one by one, so without this a request for the last module's route is
    first compared with every route of every module before it. `mounted_at` is set by the app
    shell when the router is included (e.g. "/api/v1/time-keeper")."""

    mounted_at: str | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.mounted_at and scope.get("type") == "http" and not get_route_path(scope).startswith(self.mounted_at):
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: Any, router: APIRouter, *, prefix: str) -> None:
    app.include_router(router, prefix=prefix)
    if isinstance(router, ModuleRouter):
        router.mounted_at = prefix + router.prefix
