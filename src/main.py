"""UGOKI API entry point: `uv run uvicorn src.main:app --reload`.

`create_app()` is the app shell: it builds the process-wide resources, wires every module's
manifest (router, event subscriptions, outbox handlers, personal-data entry, seeders), installs
the middleware and error handlers, and on start-up migrates (development) or checks the schema
(production), seeds the catalogues and starts the outbox dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from uuid import UUID

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import delete, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from src.adapters.storage import DELETE_TOPIC, delete_stored_object, storage_or_none
from src.core.bus import EventBus
from src.core.catalogue import CatalogueCache
from src.core.clock import Clock, SystemClock
from src.core.crypto import Keyring
from src.core.errors import install_error_handlers
from src.core.gdpr import PersonalData, PersonalDataRegistry
from src.core.health import router as health_router
from src.core.logging import configure_logging
from src.core.middleware import AdmissionMiddleware, BodyLimitMiddleware, RequestContextMiddleware
from src.core.migrations import assert_schema_current, upgrade_to_head
from src.core.modules import ModuleManifest
from src.core.openapi import AccessRules, install_docs, install_openapi, operation_id
from src.core.outbox import OutboxDispatcher, OutboxHandler, OutboxMessage
from src.core.persistence import advisory_lock, rowcount
from src.core.rate_limit import MemoryStorage, RateLimiter, RedisStorage, Storage
from src.core.routing import mount
from src.core.security import PrincipalCache, TokenCodec
from src.core.settings import Settings, get_settings
from src.core.uow import Resources, UnitOfWork
from src.database import SessionFactory, create_engine
from src.dependencies import (
    admin_principal,
    check_personal_token,
    current_principal,
    enforce_rate_limit,
    enforce_rate_limit_once,
)
from src.direct import install_direct_routes
from src.modules.account.manifest import MANIFEST as ACCOUNT
from src.modules.ai_coach.manifest import MANIFEST as AI_COACH
from src.modules.bloodwork.manifest import MANIFEST as BLOODWORK
from src.modules.content.manifest import MANIFEST as CONTENT
from src.modules.event_journal.manifest import MANIFEST as EVENT_JOURNAL
from src.modules.health_sync.manifest import MANIFEST as HEALTH_SYNC
from src.modules.identity.manifest import MANIFEST as IDENTITY
from src.modules.identity.manifest import id_token_verifiers, personal_tokens, resolve_principal
from src.modules.integrations.manifest import MANIFEST as INTEGRATIONS
from src.modules.metrics.manifest import MANIFEST as METRICS
from src.modules.notification.manifest import MANIFEST as NOTIFICATION
from src.modules.profile.manifest import MANIFEST as PROFILE
from src.modules.progression.manifest import MANIFEST as PROGRESSION
from src.modules.research.manifest import MANIFEST as RESEARCH
from src.modules.social.manifest import MANIFEST as SOCIAL
from src.modules.time_keeper.manifest import MANIFEST as TIME_KEEPER

logger = logging.getLogger("ugoki")

API_PREFIX = "/api/v1"
VERSION = "0.1.0"

MODULES: tuple[ModuleManifest, ...] = (
    IDENTITY,
    EVENT_JOURNAL,
    PROFILE,
    TIME_KEEPER,
    PROGRESSION,
    CONTENT,
    METRICS,
    NOTIFICATION,
    ACCOUNT,
    HEALTH_SYNC,
    BLOODWORK,
    INTEGRATIONS,
    RESEARCH,
    AI_COACH,
    SOCIAL,
)


async def _export_outbox(uow: UnitOfWork, identity_id: UUID) -> list[dict[str, object]]:
    rows = await uow.session.execute(
        select(OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.created_at, OutboxMessage.delivered_at).where(
            OutboxMessage.identity_id == identity_id
        )
    )
    return [
        {
            "topic": r.topic,
            "created_at": r.created_at.isoformat(),
            "delivered": r.delivered_at is not None,
            "payload": r.payload,  # what is still to be sent (delivered messages keep none)
        }
        for r in rows
    ]


async def _erase_outbox(uow: UnitOfWork, identity_id: UUID) -> int:
    result = await uow.session.execute(delete(OutboxMessage).where(OutboxMessage.identity_id == identity_id))
    return rowcount(result)


OUTBOX_PERSONAL_DATA = PersonalData(
    module="outbox",
    tables=("outbox_messages",),
    export=_export_outbox,
    erase=_erase_outbox,
    order=10,
)


# Failures that mean "the database does not answer (yet)", as opposed to a wrong schema or a bug.
UNREACHABLE: tuple[type[BaseException], ...] = (OSError, TimeoutError, OperationalError, InterfaceError)
DATABASE_CONNECT_TIMEOUT = 15.0


def _rate_limit_storage(settings: Settings) -> Storage:
    return RedisStorage(settings.redis_url) if settings.redis_url else MemoryStorage()


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    modules: Sequence[ModuleManifest] = MODULES,
) -> FastAPI:
    """Build the application. Tests pass their own settings, clock and (already migrated) engine."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)

    bus: EventBus[UnitOfWork] = EventBus()
    personal_data: PersonalDataRegistry[UnitOfWork] = PersonalDataRegistry()
    personal_data.register(OUTBOX_PERSONAL_DATA)
    resources = Resources(
        settings=settings,
        clock=clock or SystemClock(),
        bus=bus,
        tokens=TokenCodec(settings.jwt_secret.get_secret_value(), access_minutes=settings.access_token_minutes),
        principals=PrincipalCache(settings.auth_cache_seconds),
        catalogue=CatalogueCache(settings.catalogue_cache_seconds),
        personal_data=personal_data,
        keyring=Keyring(settings.encryption_keys()),
        id_token_verifiers=id_token_verifiers(settings),
        resolve_principal=resolve_principal,
        personal_tokens=personal_tokens,
    )
    outbox_handlers: dict[str, OutboxHandler[UnitOfWork]] = {DELETE_TOPIC: delete_stored_object}
    for module in modules:
        for subscription in module.subscriptions:
            bus.subscribe(subscription)
        if module.personal_data is not None:
            personal_data.register(module.personal_data)
        outbox_handlers.update(module.outbox_handlers)

    owns_engine = engine is None

    async def prepare_database(db: AsyncEngine, sessions: SessionFactory) -> None:
        """Migrate or check the schema and seed the catalogues (needs the database)."""
        if owns_engine:
            if settings.should_migrate_on_startup:
                await upgrade_to_head(settings.database_url, lock_path=settings.data_dir / ".migrate.lock")
            else:
                await assert_schema_current(db, settings.database_url)
        if settings.seed_on_startup:
            await run_seeders(sessions, resources, modules)

    async def connect_later(
        app: FastAPI, db: AsyncEngine, sessions: SessionFactory, outbox: OutboxDispatcher[UnitOfWork]
    ) -> None:
        """The database was unreachable at start-up: try again (backing off up to 30 s) until it
        answers, then finish starting. Meanwhile `/health` answers and `/health/ready` says 503."""
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                async with asyncio.timeout(DATABASE_CONNECT_TIMEOUT):
                    await prepare_database(db, sessions)
            except UNREACHABLE as exc:
                logger.warning("database still unreachable: %s", type(exc).__name__)
                delay = min(delay * 2, 30.0)
                continue
            except Exception:
                logger.exception("start-up could not be completed once the database answered")
                return
            break
        app.state.database_ready = True
        if settings.outbox_enabled and settings.outbox_in_process:
            outbox.start()
        logger.info("database reachable: ready", extra={"database": db.dialect.name})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = engine or create_engine(settings)
        sessions = SessionFactory(db)
        resources.storage = storage_or_none(settings, resources.http())
        app.state.sessions = sessions
        app.state.database_ready = False
        outbox = OutboxDispatcher(
            sessions,
            clock=resources.clock,
            settings=settings,
            unit_of_work=lambda session: UnitOfWork(session=session, resources=resources),
            handlers=dict(outbox_handlers),
        )
        resources.outbox = outbox
        connecting: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(DATABASE_CONNECT_TIMEOUT):
                await prepare_database(db, sessions)
        except UNREACHABLE as exc:
            # Not an exit: the process serves its probes and finishes starting once it can connect.
            logger.error("database unreachable at start-up: %s; retrying", type(exc).__name__)
            connecting = asyncio.create_task(connect_later(app, db, sessions, outbox))
        else:
            app.state.database_ready = True
            if settings.outbox_enabled and settings.outbox_in_process:
                outbox.start()
        checkpoints = asyncio.create_task(sessions.keep_wal_short()) if sessions.checkpoints_wal else None
        logger.info("started", extra={"environment": settings.environment, "database": db.dialect.name})
        if owns_engine:  # a served app, not one of many built in one process (tests)
            # What start-up built (modules, mappers, compiled statements, models) lives as long as
            # the process: out of the cycle collector's sight, its full collections stay short.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            for task in (connecting, checkpoints):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await outbox.stop()
            await resources.aclose()
            storage = app.state.rate_limiter.storage
            if isinstance(storage, RedisStorage):
                await storage.close()
            await sessions.dispose()
            if owns_engine:
                await db.dispose()

    docs = settings.docs_enabled
    app = FastAPI(
        title="UGOKI API",
        version=VERSION,
        summary="Intermittent fasting, HIIT workouts, an AI coach and progression, for the UGOKI app.",
        description=(
            "Every error is an RFC 9457 problem body (`application/problem+json`) with a stable `code` "
            "and the `request_id` (also in the `X-Request-ID` header). Authenticate with "
            "`Authorization: Bearer <access token>` from `/api/v1/identity/authenticate`. Rate limits "
            "per route are listed under `x-rate-limit`; over a limit the answer is 429 with `Retry-After`."
        ),
        lifespan=lifespan,
        dependencies=[Depends(enforce_rate_limit), Depends(check_personal_token)],
        # The documentation pages are served by `install_docs`, with their assets from this app.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        generate_unique_id_function=operation_id,
        # No OpenTelemetry is set up: with these off FastAPI does not look for a provider (in the
        # environment) on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_openapi(
        app,
        AccessRules(rate_limit_default=settings.rate_limit_default, sign_in=current_principal, admin=admin_principal),
    )
    if docs:
        install_docs(app)
    app.state.resources = resources
    storage = _rate_limit_storage(settings)
    resources.rate_limits = storage
    app.state.rate_limiter = RateLimiter(
        storage, default=settings.rate_limit_default, enabled=settings.rate_limit_enabled
    )
    install_error_handlers(app, before_validation_error=enforce_rate_limit_once)

    app.include_router(health_router)
    for module in modules:
        for router in (module.router, *module.extra_routers):
            if router is not None:
                mount(app, router, prefix=API_PREFIX)
        for router in module.site_routers:
            mount(app, router, prefix="")

    install_direct_routes(app, enabled=settings.direct_routes)  # innermost: before the others
    cors_origins = settings.cors_origins or (["*"] if settings.environment in ("development", "test") else [])
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins,
        allow_credentials="*" not in cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    # Upload routes enforce their exact per-file limits while streaming; the envelope leaves room for
    # the multipart boundary and part headers around a file of the maximum size.
    upload_envelope = settings.max_upload_bytes + 64 * 1024
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.max_body_bytes,
        prefixes={f"{API_PREFIX}/uploads": upload_envelope, f"{API_PREFIX}/health-sync/import": upload_envelope},
    )
    if settings.request_concurrency:
        app.add_middleware(
            AdmissionMiddleware,
            limit=settings.request_concurrency,
            hold_seconds=settings.request_hold_seconds,
            queue_seconds=settings.request_queue_seconds,
        )
    app.add_middleware(RequestContextMiddleware, sample_every=settings.access_log_sample_every)
    return app


async def run_seeders(sessions: SessionFactory, resources: Resources, modules: Sequence[ModuleManifest]) -> None:
    seeders = [seeder for module in modules for seeder in module.seeders]
    if not seeders:
        return
    async with sessions.writer() as session:
        await advisory_lock(session, "seeders")  # several workers may start at once
        uow = UnitOfWork(session=session, resources=resources)
        for seeder in seeders:
            await seeder(uow)
        await session.commit()
    resources.catalogue.clear()


def __getattr__(name: str) -> FastAPI:
    # `uvicorn src.main:app` builds the app on first access, so importing `create_app` (tests,
    # scripts) does not read the environment or configure logging as a side effect.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
