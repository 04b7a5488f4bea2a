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
    summary="Readiness: the database answers",
    responses={503: problem_schema()},
    openapi_extra=limits("PROBE"),
)
async def ready(request: Request) -> Readiness:
    engine = request.app.state.sessions.engine
    try:
        async with asyncio.timeout(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise DatabaseUnavailable("The database is not reachable", headers={"Retry-After": "5"}) from exc
    return Readiness()
