"""The achievement catalogue: the reference's 21 plus the documented extras. Each achievement is
measured by one metric of the person's progression statistics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AchievementDef:
    code: str
    name: str
    description: str
    achievement_type: str
    metric: str
    requirement: int
    xp_reward: int
    icon: str
    hidden: bool = False


# Metrics: fasting_streak (longest fasting streak), fasts, fasts_20h, fasts_24h, workouts,
# weights, early_workouts, late_workouts, workout_categories, friends, challenges_joined,
# challenges_won, activities (credited activities of any kind), level.
WORKOUT_CATEGORY_COUNT = 5

CATALOGUE: tuple[AchievementDef, ...] = (
    AchievementDef(
        "getting_started", "Getting Started", "Keep a 3-day fasting streak", "streak", "fasting_streak", 3, 50, "flame"
    ),
    AchievementDef(
        "week_warrior", "Week Warrior", "Keep a 7-day fasting streak", "streak", "fasting_streak", 7, 100, "flame"
    ),
    AchievementDef(
        "fortnight_fighter",
        "Fortnight Fighter",
        "Keep a 14-day fasting streak",
        "streak",
        "fasting_streak",
        14,
        200,
        "flame",
    ),
    AchievementDef(
        "monthly_master",
        "Monthly Master",
        "Keep a 30-day fasting streak",
        "streak",
        "fasting_streak",
        30,
        500,
        "trophy",
    ),
    AchievementDef(
        "unstoppable", "Unstoppable", "Keep a 60-day fasting streak", "streak", "fasting_streak", 60, 1000, "trophy"
    ),
    AchievementDef(
        "legendary",
        "Legendary",
        "Keep a 100-day fasting streak",
        "streak",
        "fasting_streak",
        100,
        2500,
        "crown",
        hidden=True,
    ),
    AchievementDef(
        "first_fast", "First Fast", "Complete your first fast of 12 hours or more", "fasting", "fasts", 1, 25, "timer"
    ),
    AchievementDef(
        "fasting_enthusiast", "Fasting Enthusiast", "Complete 10 fasts", "fasting", "fasts", 10, 100, "timer"
    ),
    AchievementDef("fasting_pro", "Fasting Pro", "Complete 50 fasts", "fasting", "fasts", 50, 300, "timer"),
    AchievementDef("fasting_master", "Fasting Master", "Complete 100 fasts", "fasting", "fasts", 100, 750, "star"),
    AchievementDef(
        "extended_fast",
        "Extended Fast",
        "Complete a fast of 20 hours or more",
        "fasting",
        "fasts_20h",
        1,
        100,
        "hourglass",
    ),
    AchievementDef(
        "marathon_faster",
        "Marathon Faster",
        "Complete a fast of 24 hours or more",
        "fasting",
        "fasts_24h",
        1,
        200,
        "medal",
    ),
    AchievementDef(
        "first_sweat", "First Sweat", "Complete your first workout", "workout", "workouts", 1, 25, "dumbbell"
    ),
    AchievementDef(
        "workout_warrior", "Workout Warrior", "Complete 10 workouts", "workout", "workouts", 10, 100, "dumbbell"
    ),
    AchievementDef(
        "fitness_fanatic", "Fitness Fanatic", "Complete 50 workouts", "workout", "workouts", 50, 300, "muscle"
    ),
    AchievementDef("iron_champion", "Iron Champion", "Complete 100 workouts", "workout", "workouts", 100, 750, "medal"),
    AchievementDef(
        "early_bird",
        "Early Bird",
        "Start a workout between 04:00 and 07:00",
        "workout",
        "early_workouts",
        1,
        50,
        "sunrise",
    ),
    AchievementDef(
        "night_owl", "Night Owl", "Start a workout between 21:00 and 04:00", "workout", "late_workouts", 1, 50, "moon"
    ),
    AchievementDef(
        "variety_pack",
        "Variety Pack",
        "Complete a workout in every category",
        "workout",
        "workout_categories",
        WORKOUT_CATEGORY_COUNT,
        150,
        "shuffle",
    ),
    AchievementDef(
        "first_weigh_in", "First Weigh-In", "Log your weight for the first time", "weight", "weights", 1, 25, "scale"
    ),
    AchievementDef(
        "consistent_tracker", "Consistent Tracker", "Log your weight 30 times", "weight", "weights", 30, 150, "scale"
    ),
    AchievementDef("data_driven", "Data Driven", "Log your weight 100 times", "weight", "weights", 100, 400, "chart"),
    AchievementDef("social_butterfly", "Social Butterfly", "Have 5 friends", "social", "friends", 5, 100, "users"),
    AchievementDef(
        "challenge_accepted", "Challenge Accepted", "Join a challenge", "social", "challenges_joined", 1, 50, "flag"
    ),
    AchievementDef(
        "challenge_champion", "Challenge Champion", "Win a challenge", "social", "challenges_won", 1, 250, "trophy"
    ),
    AchievementDef(
        "welcome",
        "Welcome to UGOKI",
        "Complete your first fast, workout or weigh-in",
        "special",
        "activities",
        1,
        50,
        "rocket",
    ),
    AchievementDef("level_5", "Level 5", "Reach level 5", "special", "level", 5, 100, "star"),
    AchievementDef("level_10", "Level 10", "Reach level 10", "special", "level", 10, 250, "star"),
    AchievementDef("level_25", "Level 25", "Reach level 25", "special", "level", 25, 500, "crown", hidden=True),
)
