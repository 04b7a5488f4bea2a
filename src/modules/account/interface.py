"""The door into account for other modules. No other module calls it: the account's operations are
reached through its endpoints and its outbox handler only."""

from __future__ import annotations

from abc import ABC


class AccountInterface(ABC):  # noqa: B024 - deliberately without methods until a caller exists
    """Export, erasure and anonymisation of a whole account, for other modules."""
