"""SMTP email client (`SMTP_URL`: smtp://user:password@host:port, `?starttls=true`, or smtps://).

`send` hands one plain-text message to the server and returns its Message-ID. The caller passes a
stable Message-ID (derived from what it delivers) so a retried message is recognisable as the same
message by the receiving side.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib


class EmailUnavailable(Exception):
    """The SMTP server could not be reached or refused the message for now: try again later."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:port")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit,
            start_tls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
        )


class SmtpMailer:
    def __init__(self, config: SmtpConfig, *, sender: str, timeout: float = 10.0) -> None:
        self.config = config
        self.sender = sender
        self.timeout = timeout

    async def send(self, *, to: str, subject: str, text: str, message_id: str) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message.set_content(text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.config.host,
                port=self.config.port,
                username=self.config.username,
                password=self.config.password,
                use_tls=self.config.use_tls,
                start_tls=self.config.start_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise EmailUnavailable(type(exc).__name__) from exc
        return message_id
