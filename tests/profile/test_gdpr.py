"""Account-wide personal data: export (JSON and zip), erasure of everything, and anonymisation
that keeps only unlinkable activity."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.clock import FrozenClock
from src.core.outbox import OutboxMessage
from src.database import Base
from src.modules.event_journal import EventType, event_journal
from src.modules.identity import ADMIN, identity_service
from tests.conftest import client_for
from tests.factories import User, anonymous_user, email_user, fresh_ip
from tests.profile.helpers import (
    ALL_DATA,
    ANONYMIZE,
    API,
    COMPLETE,
    DIETARY,
    EXPORT,
    FEED,
    GOALS,
    HEALTH,
    ME,
    ONBOARDING,
    PREFERENCES,
    PROFILE,
    PROFILE_TABLES,
    RESTRICTIONS,
    SOCIAL,
    assert_problem,
    count_rows,
    in_unit_of_work,
    ok,
    raw_rows,
)


@dataclass
class Person:
    user: User
    tag: str  # makes every personal value of this person unique in the database
    friend_code: str

    @property
    def personal_values(self) -> list[str]:
        """Strings that identify the person and must not survive erasure or anonymisation."""
        return [
            f"{self.tag}@example.com",
            f"Name{self.tag}",
            f"Family{self.tag}",
            f"user_{self.tag}",
            f"note-{self.tag}",
            f"Contact{self.tag}",
            f"bio-{self.tag}",
            self.user.email or "",
        ]


async def full_person(app: FastAPI, client: httpx.AsyncClient, tag: str) -> Person:
    """An email account with every profile section filled, journal events, an admin capability
    and a queued outbox message."""
    user = await email_user(app)
    h = user.headers
    ok(
        await client.post(
            PROFILE,
            json={"email": f"{tag}@example.com", "display_name": f"Name{tag}", "last_name": f"Family{tag}"},
            headers=h,
        ),
        201,
    )
    ok(await client.patch(PROFILE, json={"phone": "+1 555 0100", "height_cm": 172}, headers=h))
    ok(await client.patch(GOALS, json={"primary_goal": "weight_loss", "target_weight_kg": 70}, headers=h))
    ok(
        await client.patch(
            HEALTH,
            json={
                "conditions": ["heart_condition"],
                "condition_notes": f"note-{tag}",
                "emergency_contact_name": f"Contact{tag}",
            },
            headers=h,
        )
    )
    ok(await client.patch(DIETARY, json={"dietary_preference": "keto", "allergies": ["peanuts"]}, headers=h))
    ok(await client.patch(RESTRICTIONS, json={"injury_areas": ["knee"], "fitness_level": "advanced"}, headers=h))
    social = ok(await client.patch(SOCIAL, json={"username": f"user_{tag}", "bio": f"bio-{tag}"}, headers=h))
    ok(await client.patch(PREFERENCES, json={"timezone": "Asia/Tokyo", "default_fasting_protocol": "18:6"}, headers=h))
    ok(await client.post(f"{ONBOARDING}/bloodwork_uploaded/skip", headers=h))
    ok(await client.post(f"{API}/events", json={"event_type": "app_opened"}, headers=h), 201)
    identity_id = uuid.UUID(user.id)

    async def grant_and_queue(uow: Any) -> None:
        await identity_service(uow).grant_capability(identity_id, ADMIN)
        uow.enqueue("test.reminder", {"to": f"{tag}@example.com"}, identity_id=identity_id)

    await in_unit_of_work(app, grant_and_queue)
    return Person(user, tag, social["friend_code"])


async def rows_referencing(app: FastAPI, identity_id: str) -> dict[str, int]:
    """Rows of every table that name the identity: its `identity_id` columns, or `identities.id`."""
    target = uuid.UUID(identity_id)
    found: dict[str, int] = {}
    async with app.state.sessions.reader() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name == "identity_id"]
            if table.name == "identities":
                columns.append(table.c.id)
            for column in columns:
                count = (await session.execute(select(func.count()).where(column == target))).scalar_one()
                if count:
                    found[f"{table.name}.{column.name}"] = int(count)
    return found


async def outbox_naming(app: FastAPI, identity_id: str) -> list[OutboxMessage]:
    """Outbox messages whose payload mentions the identity."""
    async with app.state.sessions.reader() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars()
        return [m for m in rows if identity_id in json.dumps(m.payload)]


async def whole_database_text(app: FastAPI) -> str:
    """Every stored value of every table, as one string to search."""
    parts: list[str] = []
    async with app.state.sessions.reader() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


# Export ----------------------------------------------------------------------------------------


async def test_export_contains_every_section_with_decrypted_health(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "exp1")

    document = ok(await client.get(EXPORT, headers=person.user.headers))

    assert document["identity_id"] == person.user.id
    assert document["exported_at"].endswith(("Z", "+00:00"))
    profile = document["modules"]["profile"]
    assert profile["profile"]["email"] == "exp1@example.com"
    assert profile["profile"]["display_name"] == "Nameexp1"
    assert profile["profile"]["phone"] == "+1 555 0100"
    assert profile["goals"]["target_weight_kg"] == 70
    assert profile["health"]["conditions"] == ["heart_condition"]
    assert profile["health"]["condition_notes"] == "note-exp1"
    assert profile["health"]["emergency_contact_name"] == "Contactexp1"
    assert profile["dietary"]["allergies"] == ["peanuts"]
    assert profile["workout_restrictions"]["injury_areas"] == ["knee"]
    assert profile["social"]["username"] == "user_exp1"
    assert profile["social"]["friend_code"] == person.friend_code
    assert profile["preferences"]["timezone"] == "Asia/Tokyo"
    assert profile["preferences"]["default_fasting_protocol"] == "18:6"
    assert profile["onboarding"]["skipped_steps"] == ["bloodwork_uploaded"]
    assert profile["onboarding"]["onboarding_completed"] is True
    # The reference client reads the sections at the top level.
    for section in ("profile", "preferences", "goals", "health", "dietary", "workout_restrictions", "social"):
        assert document[section] == profile[section]


async def test_export_includes_identity_journal_and_outbox_modules(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "exp2")

    modules = ok(await client.get(EXPORT, headers=person.user.headers))["modules"]

    assert {"identity", "event_journal", "profile", "outbox"} <= set(modules)
    assert modules["identity"]["identity"]["id"] == person.user.id
    assert "admin" in modules["identity"]["identity"]["capabilities"]
    assert modules["identity"]["sessions"]
    event_types = {e["event_type"] for e in modules["event_journal"]}
    assert {"identity_created", "profile_created", "goals_updated", "app_opened", "data_exported"} <= event_types
    assert {e["identity_id"] for e in modules["event_journal"]} == {person.user.id}
    assert [m["topic"] for m in modules["outbox"]] == ["test.reminder"]


async def test_export_holds_nothing_of_another_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "exp3")
    other = await full_person(app, client, "exp4")

    text = (await client.get(EXPORT, headers=person.user.headers)).text

    assert other.user.id not in text
    for value in other.personal_values:
        assert value not in text


async def test_export_records_a_data_exported_event(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "exp5")

    ok(await client.get(EXPORT, headers=person.user.headers))

    feed = ok(await client.get(FEED, params={"category": "privacy"}, headers=person.user.headers))
    assert [e["event_type"] for e in feed] == ["data_exported"]


async def test_zip_export_has_one_json_file_per_module(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "zip1")

    response = await client.get(EXPORT, params={"format": "zip"}, headers=person.user.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        assert {"identity.json", "event_journal.json", "profile.json", "outbox.json"} <= names
        profile = json.loads(archive.read("profile.json"))
        journal = json.loads(archive.read("event_journal.json"))
        meta = json.loads(archive.read("export.json"))
    assert profile["health"]["condition_notes"] == "note-zip1"
    assert profile["social"]["username"] == "user_zip1"
    assert "data_exported" in {e["event_type"] for e in journal}
    assert meta["identity_id"] == person.user.id


async def test_export_of_a_new_user_answers_defaults_and_creates_no_profile_rows(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await email_user(app)

    document = ok(await client.get(EXPORT, headers=user.headers))

    assert document["profile"] is None
    assert document["goals"]["weekly_workout_goal"] == 3
    assert document["preferences"]["timezone"] == "UTC"
    assert document["modules"]["outbox"] == []
    for table in PROFILE_TABLES:
        assert await count_rows(app, table, user.id) == 0


async def test_export_in_an_unknown_format_returns_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "fmt1")

    assert_problem(await client.get(EXPORT, params={"format": "xml"}, headers=person.user.headers), 422)


async def test_sixth_export_in_an_hour_returns_429(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "lim1")

    responses = [await client.get(EXPORT, headers=person.user.headers) for _ in range(6)]

    assert [r.status_code for r in responses[:5]] == [200] * 5
    assert_problem(responses[5], 429, "RATE_LIMITED")


# Erasure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?confirm=false", "?confirm=0"])
async def test_delete_all_data_without_confirmation_returns_400_like_the_reference_and_deletes_nothing(
    app: FastAPI, client: httpx.AsyncClient, query: str
) -> None:
    person = await full_person(app, client, "keep1")
    before = await rows_referencing(app, person.user.id)

    assert_problem(await client.delete(f"{ALL_DATA}{query}", headers=person.user.headers), 400, "CONFIRMATION_REQUIRED")

    assert await rows_referencing(app, person.user.id) == before
    assert ok(await client.get(COMPLETE, headers=person.user.headers))["social"]["username"] == "user_keep1"


async def test_delete_all_data_leaves_no_row_referencing_the_identity(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "del1")
    assert len(await rows_referencing(app, person.user.id)) >= 12

    body = ok(await client.delete(f"{ALL_DATA}?confirm=true", headers=person.user.headers))

    assert body["status"] == "deleted"
    assert body["rows_deleted"]["profile"] == len(PROFILE_TABLES)
    assert await rows_referencing(app, person.user.id) == {}
    text = await whole_database_text(app)
    for value in person.personal_values:
        assert value not in text


async def test_delete_all_data_ends_every_session_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "del2")
    async with client_for(app, fresh_ip()) as other_device:
        second = ok(
            await other_device.post(
                f"{API}/identity/authenticate",
                json={"provider": "email", "email": person.user.email, "password": person.user.password},
            )
        )
    ok(await client.get(ME, headers=person.user.headers))

    ok(await client.delete(f"{ALL_DATA}?confirm=true", headers=person.user.headers))

    assert_problem(await client.get(ME, headers=person.user.headers), 401, "UNAUTHORIZED")
    assert_problem(await client.get(PROFILE, headers=person.user.headers), 401, "UNAUTHORIZED")
    assert_problem(
        await client.get(ME, headers={"Authorization": f"Bearer {second['access_token']}"}), 401, "UNAUTHORIZED"
    )
    refreshed = await client.post(f"{API}/identity/refresh", json={"refresh_token": person.user.refresh_token})
    assert_problem(refreshed, 401)


async def test_deleted_account_cannot_sign_in_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "del3")
    ok(await client.delete(f"{ALL_DATA}?confirm=true", headers=person.user.headers))

    async with client_for(app, fresh_ip()) as device:
        response = await device.post(
            f"{API}/identity/authenticate",
            json={"provider": "email", "email": person.user.email, "password": person.user.password},
        )

    assert_problem(response, 401)


async def test_delete_all_data_leaves_another_persons_data_untouched(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "del4")
    other = await full_person(app, client, "del5")
    other_rows = await rows_referencing(app, other.user.id)
    other_view = ok(await client.get(COMPLETE, headers=other.user.headers))

    ok(await client.delete(f"{ALL_DATA}?confirm=true", headers=person.user.headers))

    assert await rows_referencing(app, other.user.id) == other_rows
    assert ok(await client.get(COMPLETE, headers=other.user.headers)) == other_view
    assert ok(await client.get(HEALTH, headers=other.user.headers))["condition_notes"] == "note-del5"


async def test_username_and_friend_code_of_a_deleted_account_are_free_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await full_person(app, client, "del6")
    viewer = await full_person(app, client, "del7")

    ok(await client.delete(f"{ALL_DATA}?confirm=true", headers=person.user.headers))

    check = ok(
        await client.get(f"{SOCIAL}/check-username", params={"username": "user_del6"}, headers=viewer.user.headers)
    )
    assert check["available"] is True
    lookup = await client.get(f"{SOCIAL}/friend-code/{person.friend_code}", headers=viewer.user.headers)
    assert_problem(lookup, 404, "FRIEND_CODE_NOT_FOUND")


# Anonymisation ---------------------------------------------------------------------------------


async def event_ids(app: FastAPI, identity_id: str) -> list[uuid.UUID]:
    return [row["id"] for row in await raw_rows(app, "activity_events", identity_id)]


async def owners_of(app: FastAPI, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    table = Base.metadata.tables["activity_events"]
    async with app.state.sessions.reader() as session:
        rows = await session.execute(select(table.c.identity_id).where(table.c.id.in_(ids)))
        return {row[0] for row in rows}


async def test_anonymize_deletes_personal_rows_and_keeps_activity_under_a_new_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await full_person(app, client, "anon1")
    kept = await event_ids(app, person.user.id)
    assert kept

    body = ok(await client.post(ANONYMIZE, headers=person.user.headers))

    assert body["status"] == "anonymized"
    assert body["rows_retained"]["event_journal"] == len(kept)
    assert await rows_referencing(app, person.user.id) == {}
    for table in PROFILE_TABLES:
        assert await count_rows(app, table, person.user.id) == 0
    owners = await owners_of(app, kept)
    assert len(owners) == 1
    new_id = owners.pop()
    assert new_id != uuid.UUID(person.user.id)
    assert person.user.id not in json.dumps(body)
    assert str(new_id) not in json.dumps(body)
    retained = await raw_rows(app, "activity_events", new_id)
    assert len(retained) == len(kept)
    assert all(row["metadata"] == {} and row["description"] is None for row in retained)


async def test_anonymised_ids_differ_between_people(app: FastAPI, client: httpx.AsyncClient) -> None:
    first = await full_person(app, client, "anon2")
    second = await full_person(app, client, "anon3")
    first_events = await event_ids(app, first.user.id)
    second_events = await event_ids(app, second.user.id)

    ok(await client.post(ANONYMIZE, headers=first.user.headers))
    ok(await client.post(ANONYMIZE, headers=second.user.headers))

    first_owner = await owners_of(app, first_events)
    second_owner = await owners_of(app, second_events)
    assert len(first_owner) == len(second_owner) == 1
    assert first_owner != second_owner
    assert first_owner.isdisjoint({uuid.UUID(first.user.id), uuid.UUID(second.user.id)})


async def test_anonymize_ends_the_account_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "anon4")
    ok(await client.get(ME, headers=person.user.headers))

    ok(await client.post(ANONYMIZE, headers=person.user.headers))

    assert_problem(await client.get(ME, headers=person.user.headers), 401, "UNAUTHORIZED")
    assert_problem(await client.get(FEED, headers=person.user.headers), 401, "UNAUTHORIZED")


async def test_anonymize_leaves_no_personal_value_anywhere(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await full_person(app, client, "anon5")
    await full_person(app, client, "anon6")
    ciphertext = (await raw_rows(app, "health_profiles", person.user.id))[0]["sensitive"]

    ok(await client.post(ANONYMIZE, headers=person.user.headers))

    text = await whole_database_text(app)
    for value in [*person.personal_values, person.friend_code, ciphertext]:
        assert value not in text
    # The old id is left only in the queued sweep (which erases what in-flight requests wrote),
    # and not even there once it has run.
    assert [m.payload for m in await outbox_naming(app, person.user.id)] == [{"identity_id": person.user.id}]
    clock.advance(minutes=15)
    await app.state.resources.outbox.drain()
    assert person.user.id not in await whole_database_text(app)
    # The search does find what is stored in clear text (another person's profile).
    for value in ("anon6@example.com", "Nameanon6", "user_anon6", "bio-anon6"):
        assert value in text


async def test_anonymize_leaves_another_persons_data_untouched(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await full_person(app, client, "anon7")
    other = await full_person(app, client, "anon8")
    other_rows = await rows_referencing(app, other.user.id)

    ok(await client.post(ANONYMIZE, headers=person.user.headers))

    assert await rows_referencing(app, other.user.id) == other_rows
    assert ok(await client.get(PROFILE, headers=other.user.headers))["display_name"] == "Nameanon8"


# Late writes ------------------------------------------------------------------------------------


async def test_rows_written_for_an_erased_account_after_the_erasure_are_swept_away(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """A request already past its sign-in check (or served from another worker's sign-in cache)
    when the account is erased may still write; the sweep that runs later removes it."""
    person = await full_person(app, client, "late1")
    other = await full_person(app, client, "late2")
    ok(await client.delete(ALL_DATA, headers=person.user.headers, params={"confirm": "true"}))
    assert await rows_referencing(app, person.user.id) == {}
    identity_id = uuid.UUID(person.user.id)

    async def late_write(uow: Any) -> None:  # what an in-flight request of that person does
        await event_journal(uow).record(identity_id, EventType.APP_OPENED)

    await in_unit_of_work(app, late_write)
    late = {"activity_events.identity_id": 1, "activity_event_counts.identity_id": 2}  # the event, its day and month
    assert await rows_referencing(app, person.user.id) == late

    # Not yet: the sweep waits until no request that saw the account can still be running.
    clock.advance(minutes=5)
    await app.state.resources.outbox.drain()
    assert await rows_referencing(app, person.user.id) == late

    clock.advance(minutes=10)
    await app.state.resources.outbox.drain()
    assert await rows_referencing(app, person.user.id) == {}
    assert await outbox_naming(app, person.user.id) == []  # the delivered sweep keeps no payload
    assert len(await rows_referencing(app, other.user.id)) >= 12  # the other person is untouched


# Every module at once ---------------------------------------------------------------------------


async def person_using_every_module(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, tag: str) -> Person:
    """A full profile plus a completed fast, a workout, a rating, a saved recipe, a weigh-in and a
    device sync: a row in the tables of every module."""
    person = await full_person(app, client, tag)
    h = person.user.headers
    fast = ok(
        await client.post(
            f"{API}/time-keeper/windows",
            json={
                "window_type": "fast",
                "protocol": "16:8",
                "start_time": (clock.now() - timedelta(hours=17)).isoformat(),
            },
            headers=h,
        ),
        201,
    )
    closed = ok(
        await client.post(f"{API}/time-keeper/windows/{fast['id']}/close", json={"end_state": "completed"}, headers=h)
    )
    assert closed["credited"] is True
    workouts = ok(await client.get(f"{API}/content/workouts", params={"limit": 1}))
    workout_id = workouts[0]["id"]
    ok(await client.post(f"{API}/content/sessions", json={"workout_id": workout_id}, headers=h), 201)
    ok(await client.post(f"{API}/content/workouts/{workout_id}/rating", json={"rating": 4}, headers=h))
    recipe = ok(await client.get(f"{API}/content/recipes", params={"limit": 1}))[0]
    ok(await client.post(f"{API}/content/recipes/saved", json={"recipe_id": recipe["id"]}, headers=h), 201)
    ok(await client.post(f"{API}/metrics", json={"metric_type": "weight_kg", "value": 81.5}, headers=h), 201)
    ok(
        await client.post(
            f"{API}/health-sync", json={"hrv": 48, "steps": 9000, "synced_at": clock.now().isoformat()}, headers=h
        ),
        201,
    )
    return person


async def test_export_holds_what_every_module_stores(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_using_every_module(app, client, clock, "all1")
    modules = ok(await client.get(EXPORT, headers=person.user.headers))["modules"]
    assert [w["window_type"] for w in modules["time_keeper"]] == ["fast"]
    assert {t["transaction_type"] for t in modules["progression"]["xp_ledger"]} >= {"fast_completed", "weight_logged"}
    assert modules["progression"]["progression_stats"]["fasts"] == 1
    assert len(modules["content"]["workout_sessions"]) == 1
    assert [r["rating"] for r in modules["content"]["workout_ratings"]] == [4]
    assert len(modules["content"]["saved_recipes"]) == 1
    assert {m["metric_type"] for m in modules["metrics"]["metrics"]} >= {"weight_kg", "health_hrv", "steps"}
    assert modules["health_sync"]["consent"]["basis"] == "first_sync"


async def test_export_keeps_the_reference_top_level_lists_with_the_real_data(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_using_every_module(app, client, clock, "all4")
    document = ok(await client.get(EXPORT, headers=person.user.headers))
    assert [w["window_type"] for w in document["fasting_history"]] == ["fast"]
    assert len(document["workouts"]) == 1
    assert {m["metric_type"] for m in document["metrics"]} >= {"weight_kg", "health_hrv", "steps"}
    assert "First Fast" in {a["achievement"]["name"] for a in document["achievements"]}
    new = ok(await client.get(EXPORT, headers=(await anonymous_user(app)).headers))
    assert (new["metrics"], new["workouts"], new["fasting_history"], new["achievements"]) == ([], [], [], [])


async def test_erasing_a_person_who_used_every_module_leaves_no_row_of_them(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_using_every_module(app, client, clock, "all2")
    other = await person_using_every_module(app, client, clock, "all3")
    before = await rows_referencing(app, person.user.id)
    for table in ("time_windows", "xp_transactions", "workout_sessions", "metrics", "health_consents"):
        assert f"{table}.identity_id" in before, table
    others = await rows_referencing(app, other.user.id)

    ok(await client.delete(ALL_DATA, headers=person.user.headers, params={"confirm": "true"}))

    assert await rows_referencing(app, person.user.id) == {}
    assert await rows_referencing(app, other.user.id) == others


async def test_anonymising_a_person_who_used_every_module_leaves_nothing_linkable(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_using_every_module(app, client, clock, "all4")
    ok(await client.post(ANONYMIZE, headers=person.user.headers))
    assert await rows_referencing(app, person.user.id) == {}
    text = await whole_database_text(app)
    for value in [*person.personal_values, person.friend_code]:
        assert value not in text
