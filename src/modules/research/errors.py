from __future__ import annotations

from src.core.errors import Conflict, NotFound, ServiceUnavailable, TooManyRequests, UnprocessableEntity


class PaperNotFound(NotFound):
    code = "RESEARCH_PAPER_NOT_FOUND"


class SavedResearchNotFound(NotFound):
    code = "SAVED_RESEARCH_NOT_FOUND"


class AlreadySaved(Conflict):
    code = "RESEARCH_ALREADY_SAVED"


class SearchNeedsQueryOrTopic(UnprocessableEntity):
    code = "RESEARCH_SEARCH_NEEDS_QUERY_OR_TOPIC"


class SearchQuotaExhausted(TooManyRequests):
    code = "RESEARCH_QUOTA_EXHAUSTED"
    title = "Daily search quota used up"


class ResearchUpstreamUnavailable(ServiceUnavailable):
    code = "RESEARCH_UPSTREAM_UNAVAILABLE"
    title = "PubMed is unavailable"
