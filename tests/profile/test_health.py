"""Health profile: fasting-safety rules that never go stale, and health data encrypted at rest
(readable again after a key rotation)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from src.core.crypto import Keyring
from src.modules.profile import profile_service
from src.modules.profile.service import ProfileService
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.factories import anonymous_user
from tests.profile.helpers import FASTING_SAFETY, HEALTH, assert_problem, in_unit_of_work, ok, raw_rows

UNSAFE = ["diabetes_type1", "hypoglycemia", "eating_disorder_history", "pregnant", "breastfeeding"]
# How each unsafe condition reads in its warning ("Fasting is not recommended during pregnancy").
UNSAFE_WORDING = {
    "diabetes_type1": "with type 1 diabetes",
    "hypoglycemia": "with hypoglycaemia",
    "eating_disorder_history": "with a history of eating disorders",
    "pregnant": "during pregnancy",
    "breastfeeding": "while breastfeeding",
}
CAUTION = ["diabetes_type2", "heart_condition", "kidney_disease", "on_medication"]


async def safety_after(client: httpx.AsyncClient, headers: dict[str, str], update: dict[str, Any]) -> dict[str, Any]:
    ok(await client.patch(HEALTH, json=update, headers=headers))
    return ok(await client.get(FASTING_SAFETY, headers=headers))  # type: ignore[no-any-return]


# Fasting safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("condition", UNSAFE)
async def test_unsafe_condition_makes_fasting_unsafe_with_a_warning(
    app: FastAPI, client: httpx.AsyncClient, condition: str
) -> None:
    user = await anonymous_user(app)

    safety = await safety_after(client, user.headers, {"conditions": [condition]})

    assert safety["safe"] is False
    assert len(safety["warnings"]) == 1
    assert f"Fasting is not recommended {UNSAFE_WORDING[condition]}:" in safety["warnings"][0]
    assert safety["unsafe_conditions"] == [condition]
    assert safety["requires_medical_disclaimer"] is True
    health = ok(await client.get(HEALTH, headers=user.headers))
    assert health["fasting_safe"] is False


async def test_every_unsafe_condition_gets_its_own_warning(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    safety = await safety_after(client, user.headers, {"conditions": UNSAFE})

    assert safety["safe"] is False
    assert len(safety["warnings"]) == len(UNSAFE)
    assert sorted(safety["unsafe_conditions"]) == sorted(UNSAFE)


@pytest.mark.parametrize("condition", CAUTION)
async def test_caution_condition_keeps_fasting_safe_but_requires_a_disclaimer(
    app: FastAPI, client: httpx.AsyncClient, condition: str
) -> None:
    user = await anonymous_user(app)

    safety = await safety_after(client, user.headers, {"conditions": [condition]})

    assert safety["safe"] is True
    assert safety["requires_medical_disclaimer"] is True
    assert len(safety["warnings"]) == 1
    assert "doctor" in safety["warnings"][0]
    assert safety["caution_conditions"] == [condition]
    health = ok(await client.get(HEALTH, headers=user.headers))
    assert health["fasting_safe"] is True
    assert health["requires_medical_disclaimer"] is True


async def test_other_condition_is_neither_unsafe_nor_caution(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    safety = await safety_after(client, user.headers, {"conditions": ["other"]})

    assert safety == {
        "safe": True,
        "warnings": [],
        "unsafe_conditions": [],
        "caution_conditions": [],
        "requires_medical_disclaimer": False,
        "doctor_approved": False,
    }


async def test_medication_that_requires_food_adds_a_warning(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    safety = await safety_after(client, user.headers, {"takes_medication": True, "medication_requires_food": True})

    assert safety["safe"] is True
    assert len(safety["warnings"]) == 1
    assert "food" in safety["warnings"][0]


async def test_doctor_approval_makes_fasting_safe_despite_an_unsafe_condition(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    assert (await safety_after(client, user.headers, {"conditions": ["pregnant"]}))["safe"] is False

    safety = await safety_after(
        client, user.headers, {"doctor_approved_fasting": True, "doctor_consultation_date": "2026-03-01"}
    )

    assert safety["safe"] is True
    assert safety["doctor_approved"] is True
    assert safety["requires_medical_disclaimer"] is True
    assert any("during pregnancy" in w for w in safety["warnings"])
    assert await in_unit_of_work(app, lambda uow: profile_service(uow).is_fasting_safe(uuid.UUID(user.id))) is True


async def test_withdrawn_doctor_approval_makes_fasting_unsafe_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await safety_after(client, user.headers, {"conditions": ["hypoglycemia"], "doctor_approved_fasting": True})

    safety = await safety_after(client, user.headers, {"doctor_approved_fasting": None})

    assert safety["safe"] is False
    assert safety["doctor_approved"] is False


async def test_patch_without_conditions_keeps_the_flags_right(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(HEALTH, json={"conditions": ["breastfeeding", "kidney_disease"]}, headers=user.headers))

    health = ok(await client.patch(HEALTH, json={"condition_notes": "feeling fine"}, headers=user.headers))

    assert health["conditions"] == ["breastfeeding", "kidney_disease"]
    assert health["fasting_safe"] is False
    assert health["requires_medical_disclaimer"] is True
    assert (await safety_after(client, user.headers, {"takes_medication": True}))["safe"] is False
    assert await in_unit_of_work(app, lambda uow: profile_service(uow).is_fasting_safe(uuid.UUID(user.id))) is False


@pytest.mark.parametrize("cleared", [[], None])
async def test_clearing_conditions_clears_the_flags(
    app: FastAPI, client: httpx.AsyncClient, cleared: list[str] | None
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(HEALTH, json={"conditions": ["pregnant", "heart_condition"]}, headers=user.headers))

    health = ok(await client.patch(HEALTH, json={"conditions": cleared}, headers=user.headers))

    assert health["conditions"] == []
    assert health["fasting_safe"] is True
    assert health["requires_medical_disclaimer"] is False
    safety = ok(await client.get(FASTING_SAFETY, headers=user.headers))
    assert safety["safe"] is True
    assert safety["warnings"] == []


async def test_health_patch_changes_only_sent_fields(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            HEALTH,
            json={
                "conditions": ["on_medication"],
                "takes_medication": True,
                "medication_notes": "metformin 500mg",
                "emergency_contact_name": "Rui",
                "emergency_contact_phone": "+351 900 000 000",
            },
            headers=user.headers,
        )
    )

    health = ok(await client.patch(HEALTH, json={"medication_notes": None}, headers=user.headers))

    assert health["medication_notes"] is None
    assert health["conditions"] == ["on_medication"]
    assert health["takes_medication"] is True
    assert health["emergency_contact_name"] == "Rui"
    assert health["emergency_contact_phone"] == "+351 900 000 000"
    assert ok(await client.get(HEALTH, headers=user.headers)) == health


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("conditions", ["vampirism"]),
        ("conditions", "pregnant"),
        ("condition_notes", "x" * 1001),
        ("emergency_contact_phone", "ring ring"),
        ("takes_medication", "perhaps"),
        ("doctor_consultation_date", "yesterday"),
    ],
)
async def test_invalid_health_values_return_422(
    app: FastAPI, client: httpx.AsyncClient, field: str, value: Any
) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.patch(HEALTH, json={field: value}, headers=user.headers), 422, "VALIDATION_ERROR")


# Encryption at rest ----------------------------------------------------------------------------

SECRETS = {
    "conditions": ["eating_disorder_history"],
    "condition_notes": "secret-note-xyz",
    "medication_notes": "med-note-qrs",
    "emergency_contact_name": "Contact Person Zed",
    "emergency_contact_phone": "+44 7700 900123",
}


async def test_health_details_are_not_stored_in_clear_text(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(HEALTH, json=SECRETS, headers=user.headers))

    rows = await raw_rows(app, "health_profiles", user.id)

    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0].values())
    for needle in ("secret-note-xyz", "med-note-qrs", "Contact Person Zed", "7700 900123", "eating_disorder"):
        assert needle not in stored


async def test_health_details_read_back_decrypted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(HEALTH, json=SECRETS, headers=user.headers))

    health = ok(await client.get(HEALTH, headers=user.headers))

    for field, value in SECRETS.items():
        assert health[field] == value


async def test_health_data_stays_readable_after_key_rotation(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(HEALTH, json=SECRETS, headers=user.headers))
    ok(await client.patch(HEALTH, json={"condition_notes": "other-note"}, headers=other.headers))
    before = (await raw_rows(app, "health_profiles", user.id))[0]["sensitive"]
    new_key = Fernet.generate_key().decode()
    app.state.resources.keyring = Keyring([new_key, TEST_ENCRYPTION_KEY])

    rotated = await in_unit_of_work(app, lambda uow: ProfileService(uow).reencrypt_all())

    assert rotated == 2
    assert (await raw_rows(app, "health_profiles", user.id))[0]["sensitive"] != before
    assert await in_unit_of_work(app, lambda uow: ProfileService(uow).reencrypt_all()) == 0
    app.state.resources.keyring = Keyring([new_key])
    health = ok(await client.get(HEALTH, headers=user.headers))
    for field, value in SECRETS.items():
        assert health[field] == value
    assert ok(await client.get(HEALTH, headers=other.headers))["condition_notes"] == "other-note"


async def test_old_key_alone_cannot_read_rotated_data(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(HEALTH, json=SECRETS, headers=user.headers))
    new_key = Fernet.generate_key().decode()
    app.state.resources.keyring = Keyring([new_key, TEST_ENCRYPTION_KEY])
    await in_unit_of_work(app, lambda uow: ProfileService(uow).reencrypt_all())

    stored = (await raw_rows(app, "health_profiles", user.id))[0]["sensitive"]

    assert Keyring([new_key]).decrypt_json(stored)["condition_notes"] == "secret-note-xyz"
    assert not Keyring([TEST_ENCRYPTION_KEY]).is_current(stored)
