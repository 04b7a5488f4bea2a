"""Research hub: PubMed papers on four topics with plain-language digests, a daily search quota
and saved papers with notes; a starter library makes it useful offline."""

from src.core.uow import UnitOfWork

from .errors import PaperNotFound
from .interface import ResearchInterface
from .models import ResearchDigest, ResearchPaper, ResearchTopic


def research_service(uow: UnitOfWork) -> ResearchInterface:
    from .service import ResearchService

    return ResearchService(uow)


__all__ = ["PaperNotFound", "ResearchDigest", "ResearchInterface", "ResearchPaper", "ResearchTopic", "research_service"]
