"""Liveness and readiness probes (no prefix, no auth, not rate limited)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from src.core.errors import ServiceUnavailable, problem_schema
from src.core.rate_limit import limits

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["healthy"] = "healthy"
    service: str


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"


class DatabaseUnavailable(ServiceUnavailable):
    code = "DATABASE_UNAVAILABLE"


@router.get("/health", response_model=Liveness, summary="Liveness: the process answers", openapi_extra=limits("PROBE"))
async def health(request: Request) -> Liveness:
    return Liveness(service=request.app.state.resources.settings.app_name)


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness: the database answers (and start-up work that needs it is done)",
    responses={503: problem_schema()},
    openapi_extra=limits("PROBE"),
)
async def ready(request: Request) -> Readiness:
    if not getattr(request.app.state, "database_ready", False):
        # Started without a database (unreachable at boot): still connecting, migrating or seeding.
        raise DatabaseUnavailable("The database is not reachable yet", headers={"Retry-After": "5"})
    engine = request.app.state.sessions.engine
    try:
        async with asyncio.timeout(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise DatabaseUnavailable("The database is not reachable", headers={"Retry-After": "5"}) from exc
    return Readiness()
