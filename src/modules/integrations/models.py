from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from src.core.validation import storable_text

MAX_ENDPOINTS_PER_IDENTITY = 10
URL_MAX = 2048


class WebhookEventType(StrEnum):
    FAST_COMPLETED = "fast.completed"
    WORKOUT_COMPLETED = "workout.completed"
    ACHIEVEMENT_UNLOCKED = "achievement.unlocked"
    LEVEL_UP = "level.up"
    METRIC_RECORDED = "metric.recorded"
    CHALLENGE_WON = "challenge.won"


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, AfterValidator(storable_text)] = Field(
        min_length=8, max_length=URL_MAX, description="An https URL on the public internet"
    )
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=len(WebhookEventType))
    description: Annotated[str, AfterValidator(storable_text)] | None = Field(default=None, max_length=200)


class WebhookEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    url: str
    event_types: list[WebhookEventType]
    description: str | None
    created_at: AwareDatetime
    failing_since: AwareDatetime | None = Field(description="First failure of the current run of failures")
    disabled_at: AwareDatetime | None = Field(description="Set after 3 days of failures; recreate the endpoint")


class CreatedWebhookEndpoint(WebhookEndpoint):
    secret: str = Field(
        description="Signing secret (`whsec_…`, Standard Webhooks): shown only in this answer. Verify the "
        "`webhook-signature` header with it"
    )


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class WebhookDelivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The `webhook-id` header of the message (the same on every retry)")
    endpoint_id: UUID
    event_type: WebhookEventType
    status: DeliveryStatus
    attempts: int
    response_code: int | None = Field(description="HTTP status of the last attempt (null: no answer)")
    error: str | None = Field(description="Why the last attempt got no answer (timeout, refused address…)")
    created_at: AwareDatetime
    last_attempt_at: AwareDatetime | None
    next_attempt_at: AwareDatetime | None


class CalendarFeed(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str = Field(description="Secret https URL of the feed: anyone with it can read your calendar")
    webcal_url: str = Field(description="The same feed as `webcal://`, which calendar apps open to subscribe")
    created_at: AwareDatetime


class CalendarFeedStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    active: bool
    created_at: AwareDatetime | None = Field(description="When the current URL was made (it is shown only then)")
    last_fetched_at: AwareDatetime | None


class CsvRowError(BaseModel):
    line: int = Field(description="Line number in the file (the header is line 1)")
    reason: str


class CsvImportResult(BaseModel):
    rows: int = Field(description="Data rows read")
    created: int = Field(description="Rows that added or changed something")
    unchanged: int = Field(description="Rows already held exactly so (importing a file again changes nothing)")
    rejected: int = Field(description="Rows refused by the same rules as the API")
    errors: list[CsvRowError] = Field(description="Why rows were refused (the first 100)")
