from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response, status
from pydantic import AfterValidator

from src.core.errors import problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.core.validation import storable_text
from src.dependencies import CurrentIdentity, UoWDep

from .models import (
    ResearchPaper,
    ResearchTopic,
    SavedResearch,
    SaveResearchRequest,
    SearchQuota,
    SearchResponse,
    TopicInfo,
    TopicResponse,
)
from .service import ResearchService

router = ModuleRouter(prefix="/research", tags=["research"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 404, 409, 422, 429)}
_SEARCH_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 422, 429, 503)}


@router.get("/topics", response_model=list[TopicInfo], summary="The four research topics")
async def topics(uow: UoWDep, me: CurrentIdentity) -> list[TopicInfo]:
    return ResearchService(uow).topics()


@router.get(
    "/topics/{topic}",
    response_model=TopicResponse,
    summary="Papers of a topic, newest publication first",
    description=(
        "Answers at once from the stored papers: the starter library (10 per topic, with digests, "
        "available offline) and the topic's PubMed papers fetched earlier. With PubMed enabled, a topic "
        "whose last fetch is older than the cache period (24 h by default) is fetched again in the "
        "background, once, whoever is looking; new papers appear with `digest_status: pending` until "
        "their digest is written. Not metered."
    ),
    responses=_ERRORS,
)
async def topic_page(
    uow: UoWDep,
    me: CurrentIdentity,
    request: Request,
    topic: ResearchTopic,
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> TopicResponse:
    service = ResearchService(uow)
    page = await service.topic_page(topic, limit=limit)
    await service.refresh_if_stale(topic, request.app.state.sessions)
    return page


@router.get(
    "/search",
    response_model=SearchResponse,
    summary="Search PubMed (or, offline, the stored papers); 15 searches a day",
    description=(
        "`query` (2–200 characters), `topic`, or both (the query within the topic). One unit of the daily "
        "quota (15, counted per day of your time zone) is spent by each search that is answered fresh; a "
        "search answered from the cache (the same normalised query and topic within 24 h, `cached: true`) "
        "costs nothing, nor do invalid requests or searches PubMed could not answer (503). Over the quota: "
        "429 with `Retry-After` and `resets_at`. Papers new to us come back with `digest_status: pending`; "
        "their digests are written shortly after (read them again through `/papers/{id}`)."
    ),
    responses=_SEARCH_ERRORS,
    openapi_extra=limits("SEARCH"),
)
async def search(
    uow: UoWDep,
    me: CurrentIdentity,
    request: Request,
    query: Annotated[str | None, Query(min_length=2, max_length=200), AfterValidator(storable_text)] = None,
    topic: ResearchTopic | None = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> SearchResponse:
    return await ResearchService(uow).search(
        me.identity_id, query=query, topic=topic, limit=limit, sessions=request.app.state.sessions
    )


@router.get("/papers/{paper_id}", response_model=ResearchPaper, summary="One paper with its digest", responses=_ERRORS)
async def paper(uow: UoWDep, me: CurrentIdentity, paper_id: UUID) -> ResearchPaper:
    return await ResearchService(uow).paper(paper_id)


@router.get("/saved", response_model=list[SavedResearch], summary="Your saved papers, newest first")
async def saved(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[SavedResearch]:
    return await ResearchService(uow).saved(me.identity_id, limit=limit, offset=offset)


@router.post(
    "/saved",
    response_model=SavedResearch,
    status_code=status.HTTP_201_CREATED,
    summary="Save a paper with optional notes (at most 500 characters)",
    description="404 when the paper does not exist; 409 `RESEARCH_ALREADY_SAVED` when you saved it already.",
    responses=_ERRORS,
    openapi_extra=limits("WRITE"),
)
async def save(uow: UoWDep, me: CurrentIdentity, body: SaveResearchRequest) -> SavedResearch:
    return await ResearchService(uow).save(me.identity_id, body.research_id, notes=body.notes)


@router.delete(
    "/saved/{saved_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a saved paper (by the id of the saved entry)",
    responses=_ERRORS,
    openapi_extra=limits("WRITE"),
)
async def unsave(uow: UoWDep, me: CurrentIdentity, saved_id: UUID) -> Response:
    await ResearchService(uow).unsave(me.identity_id, saved_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/quota", response_model=SearchQuota, summary="Your searches today and when they renew")
async def quota(uow: UoWDep, me: CurrentIdentity) -> SearchQuota:
    return await ResearchService(uow).quota(me.identity_id)
