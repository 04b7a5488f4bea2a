"""Rules derived from the health profile and workout restrictions (pure functions)."""

from __future__ import annotations

from .models import (
    CAUTION_CONDITIONS,
    UNSAFE_CONDITIONS,
    FastingSafety,
    HealthCondition,
    HealthProfile,
    InjuryArea,
    SafeExercises,
    WorkoutRestrictions,
)


def fasting_safety_for(health: HealthProfile, labels: dict[HealthCondition, str]) -> FastingSafety:
    conditions = set(health.conditions)
    unsafe = sorted(conditions & UNSAFE_CONDITIONS)
    caution = sorted(conditions & CAUTION_CONDITIONS)
    # `labels` read in a sentence: "during pregnancy", "with type 1 diabetes".
    warnings = [f"Fasting is not recommended {labels[c]}: please consult a doctor before fasting." for c in unsafe]
    warnings += [f"{labels[c][:1].upper()}{labels[c][1:]}, consult your doctor before fasting." for c in caution]
    if health.medication_requires_food:
        warnings.append("Your medication must be taken with food: plan your eating window around it.")
    approved = health.doctor_approved_fasting
    if unsafe and approved:
        warnings.append("Your doctor has approved fasting for you; stop and seek advice if you feel unwell.")
    return FastingSafety(
        safe=not unsafe or approved,
        warnings=warnings,
        unsafe_conditions=unsafe,
        caution_conditions=caution,
        requires_medical_disclaimer=bool(unsafe or caution),
        doctor_approved=approved,
    )


# What to avoid / how to adapt per injured area.
_INJURY_AVOID: dict[InjuryArea, tuple[str, ...]] = {
    InjuryArea.NECK: ("neck-pulling crunches", "headstands", "overhead presses"),
    InjuryArea.SHOULDER: ("overhead presses", "push-ups", "burpees", "pike push-ups"),
    InjuryArea.UPPER_BACK: ("heavy rows", "pull-ups"),
    InjuryArea.LOWER_BACK: ("deadlifts", "sit-ups", "superman holds", "russian twists"),
    InjuryArea.ELBOW: ("tricep dips", "push-ups", "plank up-downs"),
    InjuryArea.WRIST: ("push-ups", "high planks", "burpees", "mountain climbers"),
    InjuryArea.HIP: ("deep squats", "lunges", "high knees"),
    InjuryArea.KNEE: ("jump squats", "lunges", "deep squats", "box jumps"),
    InjuryArea.ANKLE: ("running", "jumping jacks", "skater hops", "box jumps"),
}
_INJURY_MODIFY: dict[InjuryArea, str] = {
    InjuryArea.NECK: "Keep the neck neutral; support the head in floor work",
    InjuryArea.SHOULDER: "Keep arms below shoulder height",
    InjuryArea.UPPER_BACK: "Use light resistance and slow, controlled pulls",
    InjuryArea.LOWER_BACK: "Brace the core and avoid loaded spinal flexion",
    InjuryArea.ELBOW: "Reduce range of motion and load on bent arms",
    InjuryArea.WRIST: "Do planks on forearms instead of hands",
    InjuryArea.HIP: "Reduce depth in squats and lunges",
    InjuryArea.KNEE: "Reduce range of motion; keep knees behind toes",
    InjuryArea.ANKLE: "Choose seated or low-impact alternatives",
}


def safe_exercises_for(restrictions: WorkoutRestrictions) -> SafeExercises:
    avoid: set[str] = set()
    modify: list[str] = []
    recommended: set[str] = set()
    if restrictions.avoid_high_impact:
        avoid |= {"running", "jumping jacks", "box jumps"}
        recommended |= {"swimming", "cycling", "walking"}
    if restrictions.avoid_jumping:
        avoid |= {"jump squats", "burpees", "jump lunges"}
        modify.append("Replace jumping with stepping")
    if restrictions.avoid_floor_exercises:
        avoid |= {"planks", "push-ups", "crunches"}
        modify.append("Use standing alternatives")
    if restrictions.avoid_heavy_weights:
        avoid |= {"heavy deadlifts", "heavy squats"}
        modify.append("Use bodyweight or light resistance")
    for area in restrictions.injury_areas:
        avoid |= set(_INJURY_AVOID.get(area, ()))
        if area in _INJURY_MODIFY:
            modify.append(_INJURY_MODIFY[area])
    if restrictions.has_chronic_pain:
        modify.append("Stop any movement that increases pain")
    if not recommended:
        recommended |= {"walking", "mobility work", "bodyweight strength"}
    return SafeExercises(
        avoid=sorted(avoid),
        modify=list(dict.fromkeys(modify)),
        recommended=sorted(recommended),
        max_duration=restrictions.max_workout_duration_minutes,
        fitness_level=restrictions.fitness_level,
        injury_areas=list(restrictions.injury_areas),
    )
