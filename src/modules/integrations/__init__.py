"""Integrations: webhooks to people's own endpoints, the iCal feed and CSV import/export, for
what no single module owns. Personal access tokens live with authentication (identity)."""

from src.core.uow import UnitOfWork

from .errors import CalendarFeedNotFound, WebhookEndpointNotFound, WebhookTargetRefused
from .interface import IntegrationsInterface
from .models import WebhookEndpoint, WebhookEventType


def integrations(uow: UnitOfWork) -> IntegrationsInterface:
    from .service import IntegrationsService

    return IntegrationsService(uow)


__all__ = [
    "CalendarFeedNotFound",
    "IntegrationsInterface",
    "WebhookEndpoint",
    "WebhookEndpointNotFound",
    "WebhookEventType",
    "WebhookTargetRefused",
    "integrations",
]
