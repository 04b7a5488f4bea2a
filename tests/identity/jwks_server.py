"""A local stand-in for Google's and Apple's key endpoints.

RSA keys are generated for the test run and published as JWKS documents by a small HTTP server
on 127.0.0.1 (a background thread, a free port), so the app's real verifier fetches them over
real HTTP. `IdTokenMinter` signs ID tokens the way the providers do (RS256, `kid` header).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

GOOGLE_ISSUER = "https://accounts.google.com"
APPLE_ISSUER = "https://appleid.apple.com"
GOOGLE_CLIENT_ID = "ugoki-test.apps.googleusercontent.com"
APPLE_CLIENT_ID = "app.ugoki.test"

GOOGLE_KEYS_PATH = "/google/oauth2/v3/certs"
APPLE_KEYS_PATH = "/apple/auth/keys"
FAILING_PATH = "/failing/keys"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        assert isinstance(jwk, dict)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """A token with `alg: none` and an empty signature."""
    return f"{_b64(json.dumps(dict(header)).encode())}.{_b64(json.dumps(dict(claims)).encode())}."


def hmac_token(secret: bytes, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """An HS256 token keyed with `secret` (e.g. the provider's public key: the algorithm-confusion trick)."""
    signing_input = f"{_b64(json.dumps(dict(header)).encode())}.{_b64(json.dumps(dict(claims)).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@dataclass
class IdTokenMinter:
    """Signs ID tokens for one provider."""

    key: SigningKey
    issuer: str
    audience: str

    def claims(self, subject: str, *, now: datetime, lifetime: timedelta = timedelta(hours=1)) -> dict[str, Any]:
        return {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "email": f"{subject}@example.com",
            "email_verified": True,
        }

    def token(
        self,
        subject: str,
        *,
        now: datetime,
        lifetime: timedelta = timedelta(hours=1),
        key: SigningKey | None = None,
        kid: str | None = None,
        **overrides: Any,
    ) -> str:
        claims = self.claims(subject, now=now, lifetime=lifetime)
        claims.update(overrides)
        signer = key or self.key
        return jwt.encode(claims, signer.private, algorithm="RS256", headers={"kid": kid or self.key.kid})


@dataclass
class JwksServer:
    google_key: SigningKey
    apple_key: SigningKey
    rogue_key: SigningKey  # never published: stands for an attacker's key
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def google(self) -> IdTokenMinter:
        return IdTokenMinter(self.google_key, GOOGLE_ISSUER, GOOGLE_CLIENT_ID)

    @property
    def apple(self) -> IdTokenMinter:
        return IdTokenMinter(self.apple_key, APPLE_ISSUER, APPLE_CLIENT_ID)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def settings(self) -> dict[str, object]:
        """Settings overrides that make the app trust this server for Google and Apple."""
        return {
            "google_client_ids": [GOOGLE_CLIENT_ID],
            "google_jwks_url": self.url(GOOGLE_KEYS_PATH),
            "apple_client_ids": [APPLE_CLIENT_ID],
            "apple_jwks_url": self.url(APPLE_KEYS_PATH),
        }

    def _documents(self) -> dict[str, dict[str, Any]]:
        return {
            GOOGLE_KEYS_PATH: {"keys": [self.google_key.public_jwk()]},
            APPLE_KEYS_PATH: {"keys": [self.apple_key.public_jwk()]},
        }

    def start(self) -> None:
        documents = self._documents()
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                document = documents.get(self.path)
                if document is None:
                    status = 500 if self.path == FAILING_PATH else 404
                    body = b'{"error": "unavailable"}'
                else:
                    status = 200
                    body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="jwks-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_jwks_server() -> JwksServer:
    server = JwksServer(
        google_key=SigningKey.generate(f"google-{uuid.uuid4().hex[:8]}"),
        apple_key=SigningKey.generate(f"apple-{uuid.uuid4().hex[:8]}"),
        rogue_key=SigningKey.generate(f"rogue-{uuid.uuid4().hex[:8]}"),
    )
    server.start()
    return server


def unreachable_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/keys"
