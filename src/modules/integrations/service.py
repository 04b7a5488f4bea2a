"""The integrations service: webhooks (webhooks.py), the calendar feed (calendar.py) and CSV
import/export (csv_io.py) behind one interface."""

from __future__ import annotations

from uuid import UUID

from src.core.uow import UnitOfWork

from .interface import IntegrationsInterface
from .models import WebhookEndpoint
from .webhooks import Webhooks


class IntegrationsService(IntegrationsInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def webhook_endpoints(self, identity_id: UUID) -> list[WebhookEndpoint]:
        return await Webhooks(self.uow).list_endpoints(identity_id)
