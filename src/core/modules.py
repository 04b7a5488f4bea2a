"""What a module hands to the app shell: its routers, its subscriptions to other modules' domain
events, its outbox handlers, its personal-data entry and its seeders. `src/main.py` lists the
manifests and wires them; modules never reach into each other's internals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from src.core.bus import Subscription
from src.core.gdpr import PersonalData
from src.core.outbox import OutboxHandler
from src.core.uow import UnitOfWork

Seeder = Callable[[UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class ModuleManifest:
    name: str
    router: APIRouter | None = None
    subscriptions: tuple[Subscription[UnitOfWork, Any], ...] = ()
    outbox_handlers: Mapping[str, OutboxHandler[UnitOfWork]] = field(default_factory=dict)
    personal_data: PersonalData[UnitOfWork] | None = None
    seeders: tuple[Seeder, ...] = ()
    # Catalogue tables filled by the seeders (no personal data).
    reference_tables: tuple[str, ...] = ()
    # Further routers of the module mounted at other prefixes (e.g. profile's avatars under /uploads).
    extra_routers: tuple[APIRouter, ...] = ()
    # Routers mounted at the site root, outside `/api/v1` (e.g. social's public share pages `/s/...`).
    site_routers: tuple[APIRouter, ...] = ()
