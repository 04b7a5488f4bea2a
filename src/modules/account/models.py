"""What the account endpoints answer."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class DeletionResult(BaseModel):
    status: Literal["deleted"] = "deleted"
    identity_id: UUID
    rows_deleted: dict[str, int]


class AnonymizationResult(BaseModel):
    status: Literal["anonymized"] = "anonymized"
    rows_retained: dict[str, int] = Field(description="Rows kept per module, now under a random id")
    rows_deleted: dict[str, int]
