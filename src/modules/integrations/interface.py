"""The door into the integrations module. No other module calls it: integrations only reads
other modules' interfaces and reacts to their events; the app shell wires its manifest."""

from __future__ import annotations

from abc import ABC, abstractmethod
from uuid import UUID

from .models import WebhookEndpoint


class IntegrationsInterface(ABC):
    @abstractmethod
    async def webhook_endpoints(self, identity_id: UUID) -> list[WebhookEndpoint]:
        """The person's webhook endpoints."""
