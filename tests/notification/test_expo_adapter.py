"""The Expo push adapter against the local fake Expo server: chunks of at most 100, tickets in
order, the optional access token, retries on 429/5xx and receipts."""

from __future__ import annotations

import httpx
import pytest

from src.adapters.expo_push import ExpoPushClient, ExpoPushError, ExpoUnavailable, PushMessage
from tests.notification.fake_expo import FakeExpo


async def no_wait(_: float) -> None:
    return None


def messages(n: int) -> list[PushMessage]:
    return [PushMessage(to=f"ExponentPushToken[{i}]", title="t", body=str(i)) for i in range(n)]


async def test_messages_go_in_chunks_of_at_most_100_with_one_ticket_each(expo: FakeExpo) -> None:
    expo.unregistered.add("ExponentPushToken[7]")
    async with httpx.AsyncClient() as http:
        client = ExpoPushClient(http, base_url=expo.url, access_token="secret-token", sleep=no_wait)
        tickets = await client.send(messages(250))
    assert expo.batch_sizes == [100, 100, 50]
    assert len(tickets) == 250
    assert tickets[7].error == "DeviceNotRegistered"
    assert not tickets[7].ok
    assert all(t.ok and t.id for i, t in enumerate(tickets) if i != 7)
    assert set(expo.auth_headers) == {"Bearer secret-token"}


async def test_without_an_access_token_no_authorization_header_is_sent(expo: FakeExpo) -> None:
    async with httpx.AsyncClient() as http:
        await ExpoPushClient(http, base_url=expo.url).send(messages(1))
    assert expo.auth_headers == [None]


async def test_429_and_5xx_are_retried_then_given_up(expo: FakeExpo) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient() as http:
        client = ExpoPushClient(http, base_url=expo.url, max_retries=2, backoff_seconds=1, sleep=record)
        expo.fail_next = [429, 502]
        assert len(await client.send(messages(3))) == 3
        assert len(waits) == 2
        assert waits[1] > waits[0]
        expo.fail_next = [500, 500, 500]
        with pytest.raises(ExpoUnavailable):
            await client.send(messages(1))


async def test_a_refused_request_is_not_retried(expo: FakeExpo) -> None:
    async with httpx.AsyncClient() as http:
        client = ExpoPushClient(http, base_url=expo.url, sleep=no_wait)
        expo.fail_next = [400]
        with pytest.raises(ExpoPushError):
            await client.send(messages(1))
    assert expo.requests == 1


async def test_receipts_report_ok_errors_and_not_ready(expo: FakeExpo) -> None:
    expo.unregistered_in_receipt.add("ExponentPushToken[1]")
    async with httpx.AsyncClient() as http:
        client = ExpoPushClient(http, base_url=expo.url, sleep=no_wait)
        tickets = await client.send(messages(2))
        ids = [t.id for t in tickets if t.id]
        receipts = await client.receipts([*ids, "not-ready-yet"])
    assert receipts[ids[0]].status == "ok"
    assert receipts[ids[1]].error == "DeviceNotRegistered"
    assert "not-ready-yet" not in receipts
