"""Sending signed webhooks to addresses people give us, safely.

Signatures follow the Standard Webhooks specification (https://www.standardwebhooks.com/): the
secret is `whsec_` + base64 of 32 random bytes; each message carries `webhook-id`,
`webhook-timestamp` (Unix seconds) and `webhook-signature` = `v1,` + base64(HMAC-SHA256(secret,
"{id}.{timestamp}.{body}")).

A target is refused when its scheme is not HTTPS or when any address its host resolves to is not
a public unicast address (loopback, private, link-local, carrier-grade NAT, multicast, reserved,
cloud metadata...), unless `allow_private` is set (local development and tests). The request is
sent to the address that was checked (the host stays in `Host` and in TLS SNI), so a name that
resolves differently a moment later cannot redirect it; redirects are not followed; at most
`MAX_RESPONSE_BYTES` of the answer are read, within the timeout. No domain rules here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "UGOKI-Webhooks/1"

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not receive webhooks (scheme, credentials, or an address that is not public)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url_shape(url: str, *, allow_private: bool) -> None:
    """Refuse what can be judged without resolving the host."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise TargetRefused("Webhook URLs must use https")
    if not parts.hostname:
        raise TargetRefused("The URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("The URL may not carry credentials")


async def resolve_target(url: str, *, allow_private: bool) -> IPAddress:
    """The address to send to: every address the host resolves to must be public (unless
    `allow_private`); raises TargetRefused otherwise or when it does not resolve."""
    check_url_shape(url, allow_private=allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused("The host does not resolve") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise TargetRefused("The host does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused("Webhook URLs must point to a public internet address")
    return addresses[0]


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    def __init__(self, http: httpx.AsyncClient, *, allow_private: bool, timeout_seconds: float) -> None:
        self.http = http
        self.allow_private = allow_private
        self.timeout = timeout_seconds

    async def send(self, url: str, *, secret: str, msg_id: str, timestamp: int, body: bytes) -> SendResult:
        try:
            address = await resolve_target(url, allow_private=self.allow_private)
        except TargetRefused as exc:
            return SendResult(None, str(exc))
        parts = urlsplit(url)
        host = parts.hostname or ""
        pinned_host = f"[{address}]" if address.version == 6 else str(address)
        netloc = pinned_host + (f":{parts.port}" if parts.port else "")
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        headers = {
            "Host": parts.netloc,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }
        try:
            async with asyncio.timeout(self.timeout):
                request = self.http.build_request(
                    "POST",
                    pinned,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": host},
                    timeout=self.timeout,
                )
                response = await self.http.send(request, stream=True, follow_redirects=False)
                try:
                    received = 0
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= MAX_RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return SendResult(None, "timed out")
        except httpx.HTTPError as exc:
            return SendResult(None, type(exc).__name__)
        return SendResult(response.status_code)
