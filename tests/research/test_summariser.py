"""The offline extractive summariser (dense logic, tested directly)."""

from __future__ import annotations

from src.modules.research.models import ResearchTopic
from src.modules.research.summariser import Section, category_of, shorten, split_sentences, summarise

TITLE = "Sprint intervals and blood pressure in older adults"
STRUCTURED = [
    Section("BACKGROUND", "BACKGROUND", "High blood pressure is common in later life and raises heart risk."),
    Section(
        "OBJECTIVE", "OBJECTIVE", "To test whether sprint interval training lowers blood pressure in older adults."
    ),
    Section("METHODS", "METHODS", "Sixty adults aged 65 to 80 trained three times a week for 10 weeks."),
    Section(
        "RESULTS",
        "RESULTS",
        "Systolic blood pressure decreased by 6 mmHg versus controls. Aerobic fitness improved by 9%.",
    ),
    Section("CONCLUSIONS", "CONCLUSIONS", "Sprint interval training lowered blood pressure in older adults."),
]


def test_the_one_liner_is_the_conclusion_and_the_tldr_runs_objective_result_conclusion() -> None:
    digest = summarise(title=TITLE, sections=STRUCTURED, topic=ResearchTopic.HIIT)

    assert digest.one_liner == "Sprint interval training lowered blood pressure in older adults."
    assert digest.tldr.startswith("To test whether sprint interval training")
    assert digest.tldr.endswith("Sprint interval training lowered blood pressure in older adults.")
    assert "Systolic blood pressure decreased by 6 mmHg" in digest.tldr
    assert not any(b.startswith("High blood pressure is common") for b in digest.abstract_bullets)
    assert [b.title for b in digest.key_benefits][:2] == ["Heart health", "Fitness"]
    assert digest.audience_tags == ["HIIT Enthusiasts", "Older Adults"]


def test_an_unstructured_abstract_concludes_with_its_last_sentences() -> None:
    text = (
        "Sleep was measured in 40 students for two weeks. "
        "Participants wore actigraphs every night. "
        "Later bedtimes were associated with lower exam scores."
    )
    digest = summarise(title="Bedtimes and exams", sections=[Section(None, None, text)], topic=None)

    assert digest.one_liner == "Later bedtimes were associated with lower exam scores."
    assert digest.audience_tags == ["Research Readers"]


def test_too_little_text_gives_a_plain_digest_without_bullets() -> None:
    digest = summarise(title="A letter", sections=[Section(None, None, "Short.")], topic=ResearchTopic.SLEEP)

    assert digest.one_liner == "A letter"
    assert digest.abstract_bullets == []
    assert digest.key_benefits == []
    assert "No abstract" in digest.tldr


def test_the_same_paper_always_gives_the_same_digest() -> None:
    assert summarise(title=TITLE, sections=STRUCTURED, topic=None) == summarise(
        title=TITLE, sections=STRUCTURED, topic=None
    )


def test_labels_without_nlm_category_are_recognised() -> None:
    assert category_of("FINDINGS", None) == "RESULTS"
    assert category_of("INTERPRETATION", None) == "CONCLUSIONS"
    assert category_of("AIMS", None) == "OBJECTIVE"
    assert category_of("Trial registration", None) is None
    assert category_of("whatever", "methods") == "METHODS"


def test_sentences_split_and_shorten_at_word_boundaries() -> None:
    assert split_sentences("One is here. Two (n=5) follows! 3.5 kg lost.") == [
        "One is here.",
        "Two (n=5) follows!",
        "3.5 kg lost.",
    ]
    assert shorten("alpha beta gamma delta", 12) == "alpha beta…"
    assert len(shorten("x" * 300, 150)) <= 150
