"""The built-in offline coach: a Pydantic AI `FunctionModel` that needs no provider.

On the first model request it reads the intent of the person's message and calls the tools that
hold the answer; on the second it writes the answer from what the tools returned (the person's
real numbers). Streaming yields the same answer word by word.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

from .models import Personality
from .safety import normalise


class Intent(StrEnum):
    BREAK_FAST = "break_fast"
    BIOMARKER = "biomarker"
    SLEEP_RECOVERY = "sleep_recovery"
    WEIGHT = "weight"
    STREAK_LEVEL = "streak_level"
    WORKOUT = "workout"
    FAST_STATUS = "fast_status"
    GREETING = "greeting"
    GENERAL = "general"


# Checked in this order; the first intent with a matching phrase wins.
_INTENT_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(pattern))
    for intent, pattern in (
        (
            Intent.BREAK_FAST,
            r"\b(break(ing)? (my |the |a )?fast|what (should|can|do) i eat|what to eat|first meal|eat after|"
            r"end(ing)? my fast with|meal|recipe|food|snack|breakfast)\b",
        ),
        (
            Intent.BIOMARKER,
            r"\b(ldl|hdl|cholesterol|glucose|hba1c|a1c|triglycerides?|ferritin|vitamin d|b12|tsh|crp|insulin|"
            r"blood (test|work|results)|bloodwork|lab (results?|report|values?)|labs|biomarkers?|my results|"
            r"reference range|iron)\b",
        ),
        (
            Intent.SLEEP_RECOVERY,
            r"\b(sleep|slept|recovery|recover|recovered|rest day|tired|exhausted|hrv|resting heart rate|sore)\b",
        ),
        (Intent.WEIGHT, r"\b(weight|weigh|kg|kilos?|lbs?|pounds|scale|lost|gained|slimmer|bmi)\b"),
        (Intent.STREAK_LEVEL, r"\b(streaks?|level|xp|points|achievements?|badges?|rank|title)\b"),
        (
            Intent.WORKOUT,
            r"\b(workouts?|exercises?|train|training|hiit|gym|sweat|cardio|strength|session|routine|move)\b",
        ),
        (
            Intent.FAST_STATUS,
            r"\b(fast|fasting|fasted|stage|ketosis|fat burning|autophagy|hours left|how long|16 8|18 6|20 4|omad)\b",
        ),
        (Intent.GREETING, r"^(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|morning|howdy|thanks|thank you)\b"),
    )
)

FASTING_INTENTS = frozenset({Intent.FAST_STATUS, Intent.BREAK_FAST})

TOOLS_BY_INTENT: dict[Intent, tuple[str, ...]] = {
    Intent.BREAK_FAST: ("get_active_fast", "get_dietary_profile"),
    Intent.BIOMARKER: ("get_latest_biomarkers",),
    Intent.SLEEP_RECOVERY: ("get_recovery_status",),
    Intent.WEIGHT: ("get_weight_trend",),
    Intent.STREAK_LEVEL: ("get_level_info", "get_streaks"),
    Intent.WORKOUT: ("get_recommended_workouts", "get_workout_stats"),
    Intent.FAST_STATUS: ("get_active_fast", "get_fasting_history"),
    Intent.GREETING: ("get_today_summary",),
    Intent.GENERAL: ("get_today_summary",),
}

SUGGESTIONS: dict[Intent, list[str]] = {
    Intent.BREAK_FAST: ["How long have I been fasting?", "Suggest a workout", "Show my streaks"],
    Intent.BIOMARKER: ["How is my weight trending?", "How did I sleep?", "Suggest a workout"],
    Intent.SLEEP_RECOVERY: ["Suggest a workout", "How is my fast going?", "Show my streaks"],
    Intent.WEIGHT: ["How is my fast going?", "Suggest a workout", "What level am I?"],
    Intent.STREAK_LEVEL: ["How is my fast going?", "Suggest a workout", "How is my weight trending?"],
    Intent.WORKOUT: ["How is my recovery?", "How is my fast going?", "Show my streaks"],
    Intent.FAST_STATUS: ["What should I eat to break my fast?", "Suggest a workout", "Show my streaks"],
    Intent.GREETING: ["How is my fast going?", "Suggest a workout", "Check my progress"],
    Intent.GENERAL: ["How is my fast going?", "Suggest a workout", "Check my progress"],
}


def detect_intent(message: str) -> Intent:
    text = normalise(message)
    for intent, pattern in _INTENT_PATTERNS:
        if pattern.search(text):
            return intent
    return Intent.GENERAL


# Composition -----------------------------------------------------------------------------------

GREETINGS = {
    Personality.MOTIVATIONAL: "Hey, great to see you!",
    Personality.CALM: "Hello, good to hear from you.",
    Personality.TOUGH: "Good. You showed up.",
    Personality.FRIENDLY: "Hi there, friend!",
}

SIGN_OFFS = {
    Personality.MOTIVATIONAL: "You've got this!",
    Personality.CALM: "One step at a time.",
    Personality.TOUGH: "No excuses - get it done.",
    Personality.FRIENDLY: "I'm cheering for you!",
}

# Gentle foods to end a fast, per diet; tags say what each contains (to honour allergies).
# (food, diets it suits, what it contains)
_BREAK_FAST_FOODS: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = tuple(
    (food, frozenset(diets.split()), frozenset(contains.split()))
    for food, diets, contains in (
        ("a cup of bone broth", "none keto low_carb paleo whole30 mediterranean", "meat"),
        (
            "eggs with sautéed spinach",
            "none vegetarian keto low_carb paleo whole30 mediterranean pescatarian",
            "egg eggs",
        ),
        (
            "Greek yogurt with berries",
            "none vegetarian mediterranean pescatarian low_carb",
            "dairy milk lactose yogurt",
        ),
        ("lentil soup", "none vegan vegetarian mediterranean pescatarian", "lentils legumes"),
        ("a tofu scramble with vegetables", "vegan vegetarian", "soy tofu"),
        ("salmon with steamed greens", "none keto low_carb paleo whole30 mediterranean pescatarian", "fish salmon"),
        ("avocado on wholegrain toast", "none vegan vegetarian mediterranean pescatarian", "gluten wheat bread"),
        ("chia pudding with almond milk", "vegan vegetarian paleo keto low_carb", "nuts almond almonds"),
        (
            "hummus with crunchy vegetables",
            "none vegan vegetarian mediterranean pescatarian",
            "sesame chickpeas legumes",
        ),
    )
)


_ALIASES = {"lactose": "dairy", "gluten free": "gluten", "coeliac": "gluten", "celiac": "gluten", "tree nuts": "nuts"}


def break_fast_foods(diet: dict[str, Any]) -> list[str]:
    preference = diet.get("dietary_preference") or "none"
    excluded = {normalise(x) for key in ("allergies", "intolerances", "avoid_foods") for x in diet.get(key) or []}
    chosen: list[str] = []
    for food, diets, contains in _BREAK_FAST_FOODS:
        if preference not in diets:
            continue
        words = set(normalise(food).split()) | {normalise(c) for c in contains}
        if any(e and {e, e + "s", e.rstrip("s"), _ALIASES.get(e, e)} & words for e in excluded):
            continue
        chosen.append(food)
    return chosen[:3]


def _fast_sentence(fast: dict[str, Any]) -> str:
    if not fast.get("active"):
        return f"You're not fasting right now; your usual protocol is {fast.get('default_protocol', '16:8')}."
    paused = " (paused)" if fast.get("paused") else ""
    text = f"You are {fast['elapsed']} into your {fast.get('protocol') or 'current'} fast{paused}"
    if fast.get("stage"):
        text += f", in the {fast['stage']} stage"
    text += "."
    if fast.get("next_stage"):
        text += (
            f" {fast['next_stage'].capitalize()} starts at {fast['next_stage_at_hours']} h, in {fast['next_stage_in']}."
        )
    if fast.get("goal_met") and fast.get("target_hours"):
        text += f" You've reached your {fast['target_hours']:g} h target."
    elif fast.get("remaining") and fast.get("target_hours"):
        text += (
            f" Your {fast['target_hours']:g} h target is {fast['remaining']} away "
            f"({fast['progress_percent']:.0f}% done)."
        )
    return text


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _not_shared(result: dict[str, Any]) -> bool:
    return result.get("shared") is False


def compose(intent: Intent, results: dict[str, Any], personality: Personality, message: str) -> str:
    """The offline coach's answer for an intent, from the tools' results."""
    sign_off = SIGN_OFFS[personality]
    if intent is Intent.FAST_STATUS:
        fast, history = results.get("get_active_fast", {}), results.get("get_fasting_history", {})
        text = _fast_sentence(fast)
        if history.get("completed_fasts"):
            text += (
                f" In the last 7 days you completed {history['completed_fasts']} fasts averaging "
                f"{history['average_hours']:g} h (longest {history['longest_hours']:g} h)."
            )
        elif not fast.get("active"):
            text += " Start one after your last meal and I'll track each stage with you."
        return f"{text} {sign_off}"
    if intent is Intent.BREAK_FAST:
        fast, diet = results.get("get_active_fast", {}), results.get("get_dietary_profile", {})
        opening = _fast_sentence(fast) + " " if fast.get("active") else ""
        if _not_shared(diet):
            return f"{opening}Break your fast gently: a small, protein-rich meal with vegetables, then eat normally."
        foods = break_fast_foods(diet)
        avoid = [*diet.get("allergies", []), *diet.get("intolerances", []), *diet.get("avoid_foods", [])]
        preference = str(diet.get("dietary_preference", "none")).replace("_", " ")
        text = opening + "To break your fast gently"
        text += f" on your {preference} diet" if preference != "none" else ""
        text += ": " + (", ".join(foods) if foods else "a small, simple meal of foods you tolerate well") + "."
        if avoid:
            text += f" I've left out {', '.join(avoid)}."
        if diet.get("break_fast_preference"):
            text += f" You told me you like to start with {diet['break_fast_preference']} - that works too."
        text += " Start small, drink water, and wait 20-30 minutes before a bigger meal."
        return text
    if intent is Intent.WORKOUT:
        rec, stats = results.get("get_recommended_workouts", {}), results.get("get_workout_stats", {})
        workouts = rec.get("workouts", [])
        if workouts:
            first = workouts[0]
            text = (
                f"For today I suggest {first['name']} ({first['duration_minutes']} min, {first['difficulty']}): "
                f"{first['reason']}."
            )
            if len(workouts) > 1:
                text += (
                    " Alternatives: "
                    + ", ".join(f"{w['name']} ({w['duration_minutes']} min)" for w in workouts[1:])
                    + "."
                )
        else:
            text = "I couldn't find a workout that fits your restrictions today - try a gentle walk or stretching."
        injuries = rec.get("respecting", {}).get("injury_areas") or []
        if injuries:
            text += f" I chose around your {', '.join(injuries)}."
        if stats:
            text += (
                f" You've completed {stats.get('total_workouts', 0)} workouts in total, "
                f"{stats.get('this_week', 0)} of your {stats.get('weekly_goal', 3)} this week."
            )
        return f"{text} {sign_off}"
    if intent is Intent.WEIGHT:
        weight = results.get("get_weight_trend", {})
        if _not_shared(weight):
            return "You haven't allowed me to share your weight with the AI model; enable it in coach settings."
        if weight.get("latest_kg") is None:
            return "You haven't logged your weight yet. Log it once or twice a week and I'll show you the trend."
        text = f"Your latest weight is {weight['latest_kg']:g} kg (logged {weight['measured_on']})."
        if "change_kg" in weight:
            change = weight["change_kg"]
            way = "down" if change < 0 else "up" if change > 0 else "steady"
            amount = f" by {abs(change):g} kg" if change else ""
            text += (
                f" Over the last {weight['period_days']} days you went {way}{amount}, from {weight['first_kg']:g} kg "
                f"({weight['data_points']} entries)."
            )
        if weight.get("target_kg") is not None and "to_target_kg" in weight:
            left = weight["to_target_kg"]
            text += (
                f" {abs(left):g} kg to go to your {weight['target_kg']:g} kg target."
                if abs(left) >= 0.1
                else f" You're at your {weight['target_kg']:g} kg target!"
            )
        return f"{text} {sign_off}"
    if intent is Intent.STREAK_LEVEL:
        level, streaks = results.get("get_level_info", {}), results.get("get_streaks", {})
        text = (
            f"You're level {level.get('level', 1)} ({level.get('title', '')}) with {level.get('total_xp', 0)} XP; "
            f"{level.get('xp_to_next_level', 0)} XP to level {level.get('level', 1) + 1}."
        )
        parts = [
            f"{kind} {_days(value['current_days'])} (best {value['longest_days']})"
            for kind, value in streaks.items()
            if value["current_days"] or value["longest_days"]
        ]
        text += " Streaks: " + ("; ".join(parts) if parts else "none running yet - today is a good day to start") + "."
        return f"{text} {sign_off}"
    if intent is Intent.BIOMARKER:
        labs = results.get("get_latest_biomarkers", {})
        if _not_shared(labs):
            return "You haven't allowed me to share your lab results with the AI model; enable it in coach settings."
        markers = labs.get("biomarkers", [])
        if not markers:
            return "I don't see any lab results yet. Upload a blood test report and I can explain each value."
        asked = normalise(message)
        named = [
            m for m in markers if normalise(m["name"]) in asked or normalise(m["name"]).split()[0] in asked.split()
        ]
        shown = named or sorted(markers, key=lambda m: m["flag"] in (None, "normal"))[:5]
        lines = []
        for marker in shown:
            unit = f" {marker['unit']}" if marker.get("unit") else ""
            low, high = marker.get("reference_low"), marker.get("reference_high")
            if low is not None and high is not None:
                reference = f"reference {low:g}-{high:g}{unit}"
            elif high is not None:
                reference = f"reference below {high:g}{unit}"
            elif low is not None:
                reference = f"reference above {low:g}{unit}"
            else:
                reference = "no reference range on the report"
            flag = marker.get("flag")
            status = "within the range" if flag == "normal" else f"flagged {flag}" if flag else "not flagged"
            lines.append(f"{marker['name']} {marker['value']}{unit} ({reference}; {status})")
        text = f"From your lab results of {shown[0]['tested_on']}: " + "; ".join(lines) + "."
        if any(m.get("flag") not in (None, "normal") for m in shown):
            text += " A value outside the lab's range is worth going over with your doctor, who can put it in context."
        return text
    if intent is Intent.SLEEP_RECOVERY:
        recovery = results.get("get_recovery_status", {})
        if _not_shared(recovery):
            return (
                "You haven't allowed me to share sleep and recovery data with the AI model; enable it in coach "
                "settings."
            )
        if recovery.get("recovery_score") is None and recovery.get("sleep_hours") is None:
            return "I don't have sleep or recovery data yet. Connect Apple Health or Health Connect and I'll track it."
        parts = []
        if recovery.get("recovery_score") is not None:
            parts.append(f"Your recovery score is {recovery['recovery_score']:g}/100 ({recovery['status']})")
        if recovery.get("sleep_hours") is not None:
            parts.append(f"you slept {recovery['sleep_hours']:g} h")
        if recovery.get("hrv_ms") is not None:
            parts.append(f"HRV {recovery['hrv_ms']:g} ms")
        if recovery.get("resting_hr_bpm") is not None:
            parts.append(f"resting heart rate {recovery['resting_hr_bpm']:g} bpm")
        text = ", ".join(parts) + "."
        text = text[0].upper() + text[1:]
        status = recovery.get("status")
        advice = {
            "excellent": " A great day for a hard HIIT session.",
            "good": " Moderate intensity suits you today.",
            "moderate": " Go lighter today: mobility, a walk or an easy session.",
            "needs rest": " Prioritise rest and sleep today; keep movement gentle.",
        }
        if status in advice:
            text += advice[status]
        elif recovery.get("sleep_hours") is not None and recovery["sleep_hours"] < 6:
            text += " That's short: keep today's training light and aim for an earlier night."
        return text
    today = results.get("get_today_summary", {})
    bits = []
    fast = today.get("active_fast", {})
    if fast.get("active"):
        bits.append(_fast_sentence(fast))
    fasting_streak = today.get("streaks", {}).get("fasting", {}).get("current_days", 0)
    if fasting_streak:
        bits.append(f"Your fasting streak is at {_days(fasting_streak)}.")
    bits.append(f"You're level {today.get('level', 1)}.")
    opener = GREETINGS[personality] if intent is Intent.GREETING else "Here's where you stand."
    return (
        f"{opener} {' '.join(bits)} I can check your fast, suggest a workout, show your weight trend or "
        "explain your lab results - what would you like?"
    )


# The FunctionModel ------------------------------------------------------------------------------


def _current_prompt(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _tool_results(messages: list[ModelMessage]) -> dict[str, Any] | None:
    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest):
        return None
    returns = [part for part in last.parts if isinstance(part, ToolReturnPart)]
    if not returns:
        return None
    return {part.tool_name: part.content for part in returns}


def _words(text: str) -> list[str]:
    pieces = re.findall(r"\S+\s*", text)
    return pieces or [text]


class OfflineCoach:
    def __init__(self, personality: Personality) -> None:
        self.personality = personality

    def _plan(self, messages: list[ModelMessage], info: AgentInfo) -> tuple[list[str], str | None]:
        prompt = _current_prompt(messages)
        results = _tool_results(messages)
        available = {tool.name for tool in info.function_tools}
        if results is None:
            return [t for t in TOOLS_BY_INTENT[detect_intent(prompt)] if t in available], None
        return [], compose(detect_intent(prompt), results, self.personality, prompt)

    def respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        tools, answer = self._plan(messages, info)
        if answer is None and tools:
            return ModelResponse(
                parts=[ToolCallPart(name, {}, tool_call_id=f"offline-{i}") for i, name in enumerate(tools)]
            )
        return ModelResponse(parts=[TextPart(answer or "")])

    async def stream(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        tools, answer = self._plan(messages, info)
        if answer is None and tools:
            yield {
                i: DeltaToolCall(name=name, json_args="{}", tool_call_id=f"offline-{i}") for i, name in enumerate(tools)
            }
            return
        for piece in _words(answer or ""):
            yield piece


def offline_model(personality: Personality) -> FunctionModel:
    coach = OfflineCoach(personality)
    return FunctionModel(coach.respond, stream_function=coach.stream, model_name="ugoki-offline-coach")
