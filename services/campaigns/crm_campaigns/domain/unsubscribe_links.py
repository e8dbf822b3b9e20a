"""Unsubscribe links: a recipient id signed with a server secret, so a link cannot be guessed or altered. Pure.

The token is `<recipient id as 32 hex digits>.<HMAC-SHA256, base64url>`. It needs no table and never expires:
a mail read years later must still be able to unsubscribe its reader.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass

PATH = "/api/campaigns/unsubscribe/"
# Binds the signature to this use, so the same secret signing something else can never yield a valid link.
PURPOSE = b"crm.campaigns.unsubscribe:"
MAX_TOKEN = 100


@dataclass(frozen=True)
class UnsubscribeLinks:
    base_url: str
    secret: bytes

    def __post_init__(self):
        if not self.secret:
            raise ValueError("unsubscribe links need a secret")

    def token(self, recipient_id: str) -> str:
        hex_id = uuid.UUID(recipient_id).hex
        return f"{hex_id}.{self._signature(hex_id)}"

    def url(self, recipient_id: str) -> str:
        return f"{self.base_url.rstrip('/')}{PATH}{self.token(recipient_id)}"

    def recipient_of(self, token: str) -> str | None:
        """The recipient id a genuine token names; None for anything else."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 1:
            return None
        hex_id, signature = token.split(".")
        try:
            recipient_id = uuid.UUID(hex=hex_id)
        except ValueError:
            return None
        expected = self._signature(hex_id).encode()
        if recipient_id.hex != hex_id or not hmac.compare_digest(signature.encode(), expected):
            return None
        return str(recipient_id)

    def _signature(self, hex_id: str) -> str:
        digest = hmac.new(self.secret, PURPOSE + hex_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
