"""Field-level encryption for health data at rest (Fernet: AES-128-CBC + HMAC-SHA256).

`DATA_ENCRYPTION_KEYS` lists Fernet keys, newest first: the first encrypts, all decrypt, so a key
can be rotated by prepending a new one and re-encrypting (`scripts/rotate_encryption_key.py`). In
development, when no key is configured, one is generated once and kept under `DATA_DIR`;
staging/production refuse to start without a configured key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

DEV_KEY_FILE = "dev-encryption.key"


class DecryptionFailed(Exception):
    """Stored ciphertext could not be read with any configured key."""


class Keyring:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
        self._multi = MultiFernet(self._fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionFailed("encrypted field cannot be decrypted with the configured keys") from exc

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":"), default=str))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def rotate(self, token: str) -> str:
        """Re-encrypt with the primary (first) key."""
        return self._multi.rotate(token.encode()).decode()

    def is_current(self, token: str) -> bool:
        try:
            self._fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True


def development_key(data_dir: Path) -> str:
    """The development key, generated on first use and kept (owner-readable only) under data_dir."""
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
