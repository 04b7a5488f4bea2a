"""The four research topics: what the app shows for each and the PubMed query behind it."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ResearchTopic, TopicInfo


@dataclass(frozen=True)
class Topic:
    id: ResearchTopic
    label: str
    description: str
    icon: str
    color: str
    query: str

    def info(self) -> TopicInfo:
        return TopicInfo(id=self.id, label=self.label, description=self.description, icon=self.icon, color=self.color)


TOPICS: dict[ResearchTopic, Topic] = {
    topic.id: topic
    for topic in (
        Topic(
            ResearchTopic.INTERMITTENT_FASTING,
            "Intermittent Fasting",
            "Time-restricted eating, fasting protocols and their metabolic effects",
            "fork-knife",
            "#14b8a6",
            "intermittent fasting OR time-restricted eating OR 16:8 fasting OR alternate day fasting",
        ),
        Topic(
            ResearchTopic.HIIT,
            "HIIT Training",
            "Interval training and how to get the most out of short workouts",
            "lightning",
            "#f97316",
            "high intensity interval training OR HIIT OR sprint interval training OR tabata",
        ),
        Topic(
            ResearchTopic.NUTRITION,
            "Nutrition",
            "Diet, macronutrients and supplements",
            "carrot",
            "#22c55e",
            "nutrition AND (exercise OR fitness OR health) AND (protein OR diet OR macronutrients)",
        ),
        Topic(
            ResearchTopic.SLEEP,
            "Sleep",
            "Sleep quality, recovery and circadian rhythm",
            "moon",
            "#8b5cf6",
            "sleep AND (exercise OR recovery OR performance OR health)",
        ),
    )
}
