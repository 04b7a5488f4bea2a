"""The door into the research module for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from uuid import UUID

from .models import ResearchPaper


class ResearchInterface(ABC):
    @abstractmethod
    async def paper(self, paper_id: UUID) -> ResearchPaper:
        """A stored paper with its digest. Raises PaperNotFound."""
