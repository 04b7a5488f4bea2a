"""Share cards: a 1200×630 PNG in object storage and a public page with Open Graph tags for every
share, holding only what was shared; someone else's subject is 404, an unknown page is 404, the
share still answers without storage, and the cards go with the account."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from src.core.clock import FrozenClock
from tests.factories import User, fresh_token
from tests.progression.helpers import log_fast_on
from tests.social.helpers import (
    API,
    CHALLENGES,
    SHARE,
    assert_problem,
    complete_workout,
    create_challenge,
    ok,
    person,
    utc,
)


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    return {"data_dir": tmp_path}  # stored files of each test in its own directory


class _Page(HTMLParser):
    """The meta tags and links of a share page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in found or "name" in found):
            self.meta[found.get("property") or found["name"]] = found.get("content", "")
        if tag == "a":
            self.links.append(found.get("href", ""))


def parse_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


async def share(client: httpx.AsyncClient, user: User, **body: Any) -> dict[str, Any]:
    shared: dict[str, Any] = ok(await client.post(SHARE, json=body, headers=user.headers))
    return shared


async def card_image(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(url)  # public: no sign-in
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def test_a_streak_share_has_a_png_card_and_a_public_page_that_previews_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    me, social = await person(app, client, "streaker", display_name="Streak Sue")
    for day in range(4, 11):  # seven days in a row, up to today
        await log_fast_on(client, me, day)

    shared = await share(client, me, share_type="streak")

    assert shared["title"] == "7-day fasting streak"
    image_url, share_url = shared["image_url"], shared["share_url"]
    assert image_url.startswith("http://testserver/api/v1/uploads/media/share-cards/")
    assert share_url.startswith("http://testserver/s/")
    # The bytes in object storage are the card the link serves: a 1200×630 PNG.
    key = image_url.removeprefix("http://testserver/api/v1/uploads/media/")
    stored = await app.state.resources.storage.get(key)
    assert stored is not None
    assert stored.startswith(b"\x89PNG\r\n\x1a\n")
    image = await card_image(client, image_url)
    assert (image.format, image.size) == ("PNG", (1200, 630))
    assert (await client.get(image_url)).content == stored

    response = await client.get(share_url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-robots-tag"] == "noindex"
    page = parse_page(response.text)
    assert page.meta["og:image"] == image_url
    assert page.meta["og:url"] == share_url
    assert page.meta["og:title"] == "7-day fasting streak"
    assert "7 days" in page.meta["og:description"]
    assert page.meta["twitter:card"] == "summary_large_image"
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "630")
    assert "ugoki://share/streak" in page.links
    # The page does not say who shared it.
    for private in (me.id, "streaker", "Streak Sue", social["friend_code"]):
        assert private not in response.text

    # Sharing the same thing again reuses the card; a new figure gets a new one.
    assert await share(client, me, share_type="streak") == shared
    other = await share(client, me, share_type="level_up")
    assert other["image_url"] != image_url
    level = await card_image(client, other["image_url"])
    assert level.size == (1200, 630)


async def test_someone_elses_achievement_is_404_and_unknown_pages_are_404(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, _ = await person(app, client, "ana")
    ben, _ = await person(app, client, "ben")
    await log_fast_on(client, ana, 9)
    mine = ok(await client.get(f"{API}/progression/achievements/mine", headers=ana.headers))
    unlocked = next(a for a in mine if a["is_unlocked"])

    refused = await client.post(
        SHARE, json={"share_type": "achievement", "related_id": unlocked["achievement_id"]}, headers=ben.headers
    )
    assert_problem(refused, 404, "SHARE_SUBJECT_NOT_FOUND")
    shared = await share(client, ana, share_type="achievement", related_id=unlocked["achievement_id"])
    page = parse_page((await client.get(shared["share_url"])).text)
    assert page.meta["og:title"] == f"Achievement unlocked: {unlocked['achievement']['name']}"
    assert page.meta["og:image"] == shared["image_url"]

    for key in ("AAAAAAAAAAAAAAAAAAAAAA", "nope", "x" * 300, "%00"):
        assert_problem(await client.get(f"/s/{key}"), 404, "SHARE_NOT_FOUND")
    assert_problem(await client.get("/s/..%2F..%2Fetc%2Fpasswd"), 404)


async def test_the_page_of_a_won_challenge_keeps_its_name_and_escapes_the_message(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    ana, _ = await person(app, client, "ana")
    name = "Café sprint 🔥 " + "très long " * 8
    created = await create_challenge(
        client, ana, name=name.strip(), challenge_type="workout_count", goal_value=1, end_date="2026-03-11"
    )
    await complete_workout(app, ana, utc(3, 10, 9))
    clock.set(utc(3, 12, 17))
    await fresh_token(app, ana)
    await app.state.resources.outbox.drain()  # the challenge closes: Ana won
    assert ok(await client.get(f"{CHALLENGES}/{created['id']}", headers=ana.headers))["winner_id"] == ana.id

    shared = await share(
        client, ana, share_type="challenge_win", related_id=created["id"], custom_message='<script>alert("hi")</script>'
    )

    assert (await card_image(client, shared["image_url"])).size == (1200, 630)
    response = await client.get(shared["share_url"])
    assert "<script>" not in response.text
    page = parse_page(response.text)
    assert page.meta["og:title"] == f"Won: {name.strip()}"  # the page keeps every character
    assert page.meta["og:description"] == '<script>alert("hi")</script>'  # as text, escaped in the HTML
    assert f"ugoki://share/challenge_win/{created['id']}" in page.links


async def test_a_workout_page_names_the_workout_without_its_figures(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    from tests.content.helpers import SESSIONS, start, workout_named

    ana, _ = await person(app, client, "ana")
    tabata = await workout_named(client, "Tabata Torch")
    session = await start(client, ana, tabata["id"])
    clock.advance(minutes=15)
    await fresh_token(app, ana)
    ok(await client.post(f"{SESSIONS}/{session['id']}/complete", headers=ana.headers, json={}))

    shared = await share(client, ana, share_type="workout", related_id=session["id"])

    assert "kcal" in shared["message"]  # the text for the person's own share sheet
    page = parse_page((await client.get(shared["share_url"])).text)
    assert page.meta["og:description"] == "I just finished Tabata Torch on UGOKI"


async def test_without_storage_the_share_answers_with_no_image(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "nostore")
    app.state.resources.storage = None

    shared = await share(client, me, share_type="streak")

    assert shared["title"] == "0-day fasting streak"
    assert shared["image_url"] is None
    assert shared["share_url"] is None


async def test_a_storage_outage_leaves_the_share_without_a_card(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    me, _ = await person(app, client, "outage")
    (tmp_path / "uploads").write_bytes(b"a file where the storage directory should be")

    shared = await share(client, me, share_type="level_up")

    assert shared["title"].startswith("Level 1")
    assert (shared["image_url"], shared["share_url"]) == (None, None)
    (tmp_path / "uploads").unlink()  # storage is back: the next share gets its card
    again = await share(client, me, share_type="level_up")
    assert (await client.get(again["share_url"])).status_code == 200


async def test_cards_are_exported_and_go_with_the_account(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    me, _ = await person(app, client, "leaver")
    other, _ = await person(app, client, "stayer")
    shared = await share(client, me, share_type="level_up", custom_message="Level two!")
    kept = await share(client, other, share_type="level_up")
    stored = list((tmp_path / "uploads" / "share-cards").iterdir())
    assert len(stored) == 2

    exported = ok(await client.get(f"{API}/profile/export", headers=me.headers))["modules"]["social"]["share_cards"]
    assert [(c["share_type"], c["message"]) for c in exported] == [("level_up", "Level two!")]
    assert shared["share_url"].endswith(exported[0]["page"])

    ok(await client.delete(f"{API}/profile/all-data?confirm=true", headers=me.headers))
    assert_problem(await client.get(shared["share_url"]), 404, "SHARE_NOT_FOUND")
    await app.state.resources.outbox.drain()  # the image is deleted after the erasure committed
    assert (await client.get(shared["image_url"])).status_code == 404
    assert [p.name for p in (tmp_path / "uploads" / "share-cards").iterdir()] == [kept["image_url"].rsplit("/", 1)[1]]
    assert (await client.get(kept["share_url"])).status_code == 200
