"""Signing by the Standard Webhooks convention (https://www.standardwebhooks.com/).

The secret is ``whsec_`` and 32 random bytes in base64; a message is signed as
``HMAC-SHA256(secret, f"{webhook-id}.{webhook-timestamp}.{body}")`` and sent as
``webhook-signature: v1,<base64>`` (several signatures, space-separated, while a rotated secret
still counts). Receivers can check it with any Standard Webhooks library (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 - the convention's prefix, no secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes) -> dict:
    """The three Standard Webhooks headers, signed with each secret given."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_
        ),
    }
