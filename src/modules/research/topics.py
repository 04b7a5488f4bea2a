"""The four research topics: what the app shows for each and the PubMed query behind it."""

from __future__ import annotations

from .models import ResearchTopic, TopicInfo


class Topic(TopicInfo):
    """A topic as the app shows it, and the PubMed query behind it (never shown)."""

    query: str

    def info(self) -> TopicInfo:
        return TopicInfo.model_validate(self.model_dump(exclude={"query"}))


TOPICS: dict[ResearchTopic, Topic] = {
    topic.id: topic
    for topic in (
        Topic(
            id=ResearchTopic.INTERMITTENT_FASTING,
            label="Intermittent Fasting",
            description="Time-restricted eating, fasting protocols and their metabolic effects",
            icon="fork-knife",
            color="#14b8a6",
            query="intermittent fasting OR time-restricted eating OR 16:8 fasting OR alternate day fasting",
        ),
        Topic(
            id=ResearchTopic.HIIT,
            label="HIIT Training",
            description="Interval training and how to get the most out of short workouts",
            icon="lightning",
            color="#f97316",
            query="high intensity interval training OR HIIT OR sprint interval training OR tabata",
        ),
        Topic(
            id=ResearchTopic.NUTRITION,
            label="Nutrition",
            description="Diet, macronutrients and supplements",
            icon="carrot",
            color="#22c55e",
            query="nutrition AND (exercise OR fitness OR health) AND (protein OR diet OR macronutrients)",
        ),
        Topic(
            id=ResearchTopic.SLEEP,
            label="Sleep",
            description="Sleep quality, recovery and circadian rhythm",
            icon="moon",
            color="#8b5cf6",
            query="sleep AND (exercise OR recovery OR performance OR health)",
        ),
    )
}
