from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, TokenScopeMissing, by_method, token_scope
from src.core.security import Principal
from src.core.types import UTCInstant
from src.core.validation import storable_text
from src.dependencies import CurrentIdentity, UoWDep

from .errors import MetricNotFound
from .fhir import BUNDLE_EXAMPLE
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
ShownUnit = Annotated[
    str | None,
    AfterValidator(lambda v: storable_text(v) if v is not None else None),
    Query(
        max_length=20,
        description="Show values in this unit of the type (e.g. lbs, lb, in, oz, °F, mg/dL for glucose); "
        "values are converted and rounded to 0.1. 422 when the type has no such unit",
    ),
]
UnitSystemQuery = Annotated[
    Literal["metric", "imperial"] | None,
    Query(description="imperial: weights in lb, lengths in in, volumes in oz, temperatures in °F (rounded to 0.1)"),
]
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


LAB_PREFIX = "biomarker_"


def _holds_lab_scope(me: Principal) -> bool:
    return me.scopes is None or str(TokenScope.LABS_READ) in me.scopes


def metrics_reader(request: Request, me: CurrentIdentity) -> Principal:
    """The caller of a metrics read. Lab results (`biomarker_*` types) are health data of their own:
    a personal access token reads them only with `labs:read`; `metrics:read` alone is refused a
    type (or a prefix) that names them."""
    if _holds_lab_scope(me):
        return me
    named = (request.query_params.get("metric_type") or request.query_params.get("prefix") or "").strip().lower()
    if named and (named.startswith(LAB_PREFIX) or LAB_PREFIX.startswith(named)):
        raise TokenScopeMissing(f"Lab results need a personal access token with the scope {TokenScope.LABS_READ}")
    return me


MetricsReader = Annotated[Principal, Depends(metrics_reader)]


@router.post(
    "",
    response_model=RecordedMetric,
    status_code=status.HTTP_201_CREATED,
    summary="Record a measurement (weight logs earn XP once a day and extend the logging streak)",
    description=(
        "Values are checked against the type's plausible range (weight 20–400 kg, body fat 2–75 %, steps "
        "0–100 000, resting HR 25–220, HRV 1–300 ms, sleep 0–24 h…). A known type is always stored in its own "
        "unit: `unit` may name another unit of the type (lb/lbs, st, oz, g for weights; in, ft, mm, m for "
        "lengths; oz, l for water; °F for temperature; mg/dL for blood glucose; min/hours; kJ) and the value is "
        "converted, any other unit is refused with 422; weight_lbs (and the other imperial names) are stored "
        "as weight_kg. Unknown types are refused unless they start with custom_ or biomarker_. Recording the "
        "same type at the same instant again updates it. The server says where data came from: what is sent "
        "here is stored as `user_input` (a `source` of device_sync is accepted from older clients but not "
        "believed; device data comes through /health-sync), and types the server computes (recovery_score) "
        "cannot be written (422)."
    ),
    responses=_ERRORS,
)
async def record(uow: UoWDep, me: CurrentIdentity, body: RecordMetricRequest) -> RecordedMetric:
    return await MetricsService(uow).record(me.identity_id, body)


@router.get("/latest", response_model=Metric | None, summary="Newest value of a type, or null", responses=_ERRORS)
async def latest(
    uow: UoWDep,
    me: MetricsReader,
    metric_type: MetricType,
    unit: ShownUnit = None,
    unit_system: UnitSystemQuery = None,
) -> Metric | None:
    service = MetricsService(uow)
    shown = service.shown_unit(metric_type, unit=unit, unit_system=unit_system)
    found = await service.latest(me.identity_id, metric_type)
    return service.in_unit(found, shown) if found else None


@router.get("/history", response_model=list[Metric], summary="Values of a type, newest first", responses=_ERRORS)
async def history(
    uow: UoWDep,
    me: MetricsReader,
    metric_type: MetricType,
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    unit: ShownUnit = None,
    unit_system: UnitSystemQuery = None,
) -> list[Metric]:
    service = MetricsService(uow)
    shown = service.shown_unit(metric_type, unit=unit, unit_system=unit_system)
    rows = await service.history(
        me.identity_id, metric_type=metric_type, start_time=start_time, end_time=end_time, limit=limit, offset=offset
    )
    return [service.in_unit(row, shown) for row in rows]


@router.get(
    "/by-prefix",
    response_model=list[Metric],
    summary="Values whose type starts with a prefix (literally: _ and % are not wildcards)",
    responses=_ERRORS,
)
async def by_prefix(
    uow: UoWDep,
    me: MetricsReader,
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
    summary="Trend over the period: the first and last readings and a least-squares line, or null",
    description=(
        "`start_value`/`end_value` are the first and last real readings of the period. The line (slope, "
        "fitted values, change, direction) goes through one point per day with readings (days counted from "
        "the period start; a day's point is its mean), so many readings on one day weigh as one; null unless "
        "readings fall on at least two days. Stable within ±1 %."
    ),
    responses=_ERRORS,
)
async def trend(
    uow: UoWDep,
    me: MetricsReader,
    metric_type: MetricType,
    period_days: Annotated[int, Query(ge=1, le=365)] = 7,
    unit: ShownUnit = None,
    unit_system: UnitSystemQuery = None,
) -> MetricTrend | None:
    service = MetricsService(uow)
    shown = service.shown_unit(metric_type, unit=unit, unit_system=unit_system)
    found = await service.trend(me.identity_id, metric_type=metric_type, period_days=period_days)
    return service.trend_in_unit(metric_type, found, shown)


@router.get(
    "/aggregate", response_model=MetricAggregate | None, summary="sum/avg/min/max/count, or null", responses=_ERRORS
)
async def aggregate(
    uow: UoWDep,
    me: MetricsReader,
    metric_type: MetricType,
    operation: Literal["sum", "avg", "min", "max", "count"],
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
) -> MetricAggregate | None:
    return await MetricsService(uow).aggregate(
        me.identity_id, metric_type=metric_type, operation=operation, start_time=start_time, end_time=end_time
    )


@router.get("/summary", response_model=MetricSummary, summary="Latest, min, max, average and count", responses=_ERRORS)
async def summary(
    uow: UoWDep,
    me: MetricsReader,
    metric_type: MetricType,
    unit: ShownUnit = None,
    unit_system: UnitSystemQuery = None,
) -> MetricSummary:
    service = MetricsService(uow)
    shown = service.shown_unit(metric_type, unit=unit, unit_system=unit_system)
    return service.summary_in_unit(await service.summary(me.identity_id, metric_type=metric_type), shown)


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


@router.get(
    "/fhir",
    summary="Your lab results and vital signs as a FHIR R4 Bundle (collection)",
    description=(
        "A `Bundle` of type `collection` (media type application/fhir+json): an `Observation` per lab result "
        "(category laboratory, LOINC code for every standardised analyte, UCUM unit, `referenceRange`, "
        "`interpretation` H/L/N/A, `effectiveDateTime` in your time zone), per weight, body fat, resting heart rate, "
        "HRV and daily steps value (category vital-signs, LOINC 29463-7, 41982-0, 40443-4, 80404-7, 41950-7), and a "
        "`DiagnosticReport` (LOINC 11502-2) grouping each lab report's results. At most `limit` values, newest first."
    ),
    responses={
        200: {"content": {"application/json": {"example": BUNDLE_EXAMPLE}}},
        401: problem_schema(),
        422: problem_schema(),
    },
)
async def fhir_export(
    uow: UoWDep, me: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=10_000)] = 5000
) -> JSONResponse:
    body = await MetricsService(uow).fhir_bundle(me.identity_id, limit=limit)
    return JSONResponse(body, media_type="application/fhir+json")


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
async def get_metric(
    uow: UoWDep, me: CurrentIdentity, metric_id: UUID, unit: ShownUnit = None, unit_system: UnitSystemQuery = None
) -> Metric:
    service = MetricsService(uow)
    found = await service.get(me.identity_id, metric_id)
    if found.metric_type.startswith(LAB_PREFIX) and not _holds_lab_scope(me):
        raise MetricNotFound("Metric not found")  # a token without labs:read does not see lab results
    return service.in_unit(found, service.shown_unit(found.metric_type, unit=unit, unit_system=unit_system))


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
