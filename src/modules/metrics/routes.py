from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query, Response, status
from pydantic import AfterValidator

from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, by_method, token_scope
from src.core.types import UTCInstant
from src.core.validation import storable_text
from src.dependencies import CurrentIdentity, UoWDep

from .models import (
    BiomarkerTestGroup,
    BulkDeleteResult,
    Metric,
    MetricAggregate,
    MetricSummary,
    MetricTrend,
    RecordedMetric,
    RecordMetricRequest,
    UpdateMetricRequest,
)
from .service import MetricsService

router = ModuleRouter(
    prefix="/metrics",
    tags=["metrics"],
    token_scopes=by_method(read=TokenScope.METRICS_READ, write=TokenScope.METRICS_WRITE),
)
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 404, 422)}
MetricType = Annotated[
    str,
    AfterValidator(storable_text),
    Query(
        min_length=1,
        max_length=100,
        description="e.g. weight_kg; an imperial name (weight_lbs, waist_in, …) reads the type its values are "
        "stored as (weight_kg, waist_cm, …)",
    ),
]


@router.post(
    "",
    response_model=RecordedMetric,
    status_code=status.HTTP_201_CREATED,
    summary="Record a measurement (weight logs earn XP once a day and extend the logging streak)",
    description=(
        "Values are checked against the type's plausible range (weight 20–400 kg, body fat 2–75 %, steps "
        "0–100 000, resting HR 25–220, HRV 1–300 ms, sleep 0–24 h…); weight_lbs is stored as weight_kg. "
        "Unknown types are refused unless they start with custom_ or biomarker_. Recording the same type at "
        "the same instant again updates it."
    ),
    responses=_ERRORS,
)
async def record(uow: UoWDep, me: CurrentIdentity, body: RecordMetricRequest) -> RecordedMetric:
    return await MetricsService(uow).record(me.identity_id, body)


@router.get("/latest", response_model=Metric | None, summary="Newest value of a type, or null")
async def latest(uow: UoWDep, me: CurrentIdentity, metric_type: MetricType) -> Metric | None:
    return await MetricsService(uow).latest(me.identity_id, metric_type)


@router.get("/history", response_model=list[Metric], summary="Values of a type, newest first", responses=_ERRORS)
async def history(
    uow: UoWDep,
    me: CurrentIdentity,
    metric_type: MetricType,
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[Metric]:
    return await MetricsService(uow).history(
        me.identity_id, metric_type=metric_type, start_time=start_time, end_time=end_time, limit=limit, offset=offset
    )


@router.get(
    "/by-prefix",
    response_model=list[Metric],
    summary="Values whose type starts with a prefix (literally: _ and % are not wildcards)",
    responses=_ERRORS,
)
async def by_prefix(
    uow: UoWDep,
    me: CurrentIdentity,
    prefix: Annotated[str, AfterValidator(storable_text), Query(min_length=1, max_length=100)],
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[Metric]:
    return await MetricsService(uow).by_prefix(
        me.identity_id, prefix=prefix, start_time=start_time, end_time=end_time, limit=limit
    )


@router.get(
    "/trend",
    response_model=MetricTrend | None,
    summary="Least-squares trend over the whole period, or null with fewer than 2 points",
)
async def trend(
    uow: UoWDep,
    me: CurrentIdentity,
    metric_type: MetricType,
    period_days: Annotated[int, Query(ge=1, le=365)] = 7,
) -> MetricTrend | None:
    return await MetricsService(uow).trend(me.identity_id, metric_type=metric_type, period_days=period_days)


@router.get(
    "/aggregate", response_model=MetricAggregate | None, summary="sum/avg/min/max/count, or null", responses=_ERRORS
)
async def aggregate(
    uow: UoWDep,
    me: CurrentIdentity,
    metric_type: MetricType,
    operation: Literal["sum", "avg", "min", "max", "count"],
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
) -> MetricAggregate | None:
    return await MetricsService(uow).aggregate(
        me.identity_id, metric_type=metric_type, operation=operation, start_time=start_time, end_time=end_time
    )


@router.get("/summary", response_model=MetricSummary, summary="Latest, min, max, average and count")
async def summary(uow: UoWDep, me: CurrentIdentity, metric_type: MetricType) -> MetricSummary:
    return await MetricsService(uow).summary(me.identity_id, metric_type=metric_type)


@router.get(
    "/biomarkers/grouped",
    response_model=list[BiomarkerTestGroup],
    summary="Lab results grouped by test date (your time zone), newest first",
    openapi_extra=token_scope(TokenScope.LABS_READ),
)
async def biomarkers_grouped(
    uow: UoWDep, me: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[BiomarkerTestGroup]:
    return await MetricsService(uow).biomarkers_grouped(me.identity_id, limit=limit)


@router.delete(
    "",
    response_model=BulkDeleteResult,
    summary="Delete your metrics matching metric_type and/or before (or everything with confirm=true)",
    responses=_ERRORS,
)
async def bulk_delete(
    uow: UoWDep,
    me: CurrentIdentity,
    metric_type: Annotated[str | None, AfterValidator(storable_text), Query(max_length=100)] = None,
    before: UTCInstant | None = None,
    confirm: bool = False,
) -> BulkDeleteResult:
    deleted = await MetricsService(uow).bulk_delete(
        me.identity_id, metric_type=metric_type, before=before, confirm=confirm
    )
    return BulkDeleteResult(deleted=deleted)


@router.get("/{metric_id}", response_model=Metric, summary="One of your metrics", responses=_ERRORS)
async def get_metric(uow: UoWDep, me: CurrentIdentity, metric_id: UUID) -> Metric:
    return await MetricsService(uow).get(me.identity_id, metric_id)


@router.put(
    "/{metric_id}",
    response_model=Metric,
    summary="Correct a metric (fields sent change; null clears)",
    responses=_ERRORS,
)
async def update_metric(uow: UoWDep, me: CurrentIdentity, metric_id: UUID, body: UpdateMetricRequest) -> Metric:
    return await MetricsService(uow).update(me.identity_id, metric_id, body)


@router.delete("/{metric_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a metric", responses=_ERRORS)
async def delete_metric(uow: UoWDep, me: CurrentIdentity, metric_id: UUID) -> Response:
    await MetricsService(uow).delete(me.identity_id, metric_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
