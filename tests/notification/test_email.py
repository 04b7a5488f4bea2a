"""Email goes through SMTP (a local server here) only when SMTP_URL is set, the person switched
email on and the address is the one they sign in with; it is sent once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from httpx import AsyncClient

from src.adapters.email import SmtpConfig
from tests.factories import admin_user, email_user
from tests.notification.fake_expo import FakeExpo
from tests.notification.helpers import NOTIFICATIONS, deliver, ok, set_preferences


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def settings_overrides(expo: FakeExpo, smtp: tuple[Inbox, int]) -> dict[str, object]:
    return {
        "push_provider": "expo",
        "expo_push_url": expo.url,
        "smtp_url": f"smtp://127.0.0.1:{smtp[1]}",
        "smtp_from": "UGOKI <no-reply@ugoki.test>",
    }


async def test_email_to_the_verified_address_is_sent_once(
    app: FastAPI, client: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    admin = await admin_user(app)
    user = await email_user(app)
    await set_preferences(client, user, email_address=user.email)
    body = {"identity_id": user.id, "category": "system", "title": "Your weekly summary", "body": "Well done"}
    ok(await client.post(f"{NOTIFICATIONS}/send", headers=admin.headers, json=body), 202)
    await deliver(app)
    await deliver(app)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == [user.email]
    assert message["Subject"] == "Your weekly summary"
    assert message["From"] == "UGOKI <no-reply@ugoki.test>"
    assert message["Message-ID"].endswith("@notifications.ugoki.app>")
    assert "Well done" in message.get_payload()


async def test_no_email_when_switched_off_or_without_an_address(
    app: FastAPI, client: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    admin = await admin_user(app)
    switched_off = await email_user(app)
    await set_preferences(client, switched_off, email_address=switched_off.email, email_enabled=False)
    no_address = await email_user(app)
    for user in (switched_off, no_address):
        body = {"identity_id": user.id, "category": "system", "title": "Hi", "body": "Hello"}
        ok(await client.post(f"{NOTIFICATIONS}/send", headers=admin.headers, json=body), 202)
    await deliver(app)
    assert inbox.messages == []


def test_smtp_url_forms() -> None:
    plain = SmtpConfig.from_url("smtp://mailer:p%40ss@mail.example:2525?starttls=true")
    assert (plain.host, plain.port, plain.username, plain.password) == ("mail.example", 2525, "mailer", "p@ss")
    assert plain.start_tls
    assert not plain.use_tls
    implicit = SmtpConfig.from_url("smtps://mail.example")
    assert implicit.use_tls
    assert implicit.port == 465
    with pytest.raises(ValueError, match="SMTP_URL"):
        SmtpConfig.from_url("http://mail.example")
