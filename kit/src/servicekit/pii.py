"""Personal data at rest: encrypted (AES-256-GCM) and found by keyed hash (HMAC-SHA256).

A key ring holds one or more secrets, each under a numeric id; the active one (by default the
highest id) makes every new ciphertext and fingerprint, the others still read and find what they
made, until `servicekit pii reencrypt` and `servicekit pii rekey` have moved everything to the
active key. Each secret yields two keys, one per purpose, so a lookup hash reveals nothing about
the encryption key.

A ciphertext is `FORMAT | key id (2 bytes) | nonce (12) | AES-GCM(plaintext)`, authenticated
with its header and its place (table, column, row) as associated data: copied to another row or
column, it no longer decrypts. A fingerprint is `<key id>:<hex>`, so that both can be found by
the key that made them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from servicekit.settings import KitSettings

log = logging.getLogger(__name__)
FORMAT = b"\x02"  # 1 was a single key without place binding
HEADER_BYTES = 3
NONCE_BYTES = 12
MIN_SECRET_BYTES = 32
MAX_KEY_ID = 0xFFFF
FINGERPRINT_HEX = 56  # with "<id>:" it fits the 64-character lookup columns
DEVELOPMENT_KEY_ID = 0  # never an operator's id: its data can't be taken for real data
DEVELOPMENT_SECRET = b"gonghui-development-key-not-for-production!"


class PiiKeyError(Exception):
    """The key settings are missing or malformed. Not a ValueError on purpose: settings
    validation would print the offending input, and that input is the secret."""


class PiiError(ValueError):
    """A ciphertext that can't be read here. Says why, never what it holds."""


@dataclass(frozen=True)
class Place:
    """Where a ciphertext is stored: its table, its column and its row's identity."""

    table: str
    column: str
    row: str

    def encoded(self) -> bytes:
        parts = (self.table.encode(), self.column.encode(), self.row.encode())
        return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


@dataclass(frozen=True)
class _Key:
    aead: AESGCM
    lookup: bytes


class PiiVault:
    def __init__(self, secrets: Mapping[int, bytes], active: int | None = None) -> None:
        if not secrets:
            raise PiiKeyError("the personal-data key ring is empty")
        for key_id, secret in secrets.items():
            if not DEVELOPMENT_KEY_ID <= key_id <= MAX_KEY_ID:
                raise PiiKeyError(f"personal-data key id {key_id} is not in 1..{MAX_KEY_ID}")
            if len(secret) < MIN_SECRET_BYTES:
                raise PiiKeyError(
                    f"personal-data key {key_id} must hold at least {MIN_SECRET_BYTES} bytes"
                )
        self.active_id = max(secrets) if active is None else active
        if self.active_id not in secrets:
            raise PiiKeyError(f"the active personal-data key {self.active_id} is not in the ring")
        self._keys = {
            key_id: _Key(AESGCM(_derive(secret, b"encrypt")), _derive(secret, b"lookup"))
            for key_id, secret in secrets.items()
        }
        self.key_ids = (
            self.active_id,
            *sorted((k for k in secrets if k != self.active_id), reverse=True),
        )

    @classmethod
    def from_settings(cls, settings: KitSettings) -> PiiVault:
        """The vault of a service's settings (validated when they were read)."""
        secrets, active = key_ring(
            keys=settings.pii_keys.get_secret_value(),
            single_key=settings.pii_key.get_secret_value(),
            active=settings.pii_active_key,
            development_allowed=settings.pii_allow_development_key,
        )
        if active == DEVELOPMENT_KEY_ID:
            log.warning("no personal-data key: using the development key, unfit for real data")
        return cls(secrets, active)

    @classmethod
    def development(cls) -> PiiVault:
        return cls({DEVELOPMENT_KEY_ID: DEVELOPMENT_SECRET})

    def encrypt(self, plaintext: str, place: Place) -> bytes:
        header = self.header()
        nonce = os.urandom(NONCE_BYTES)
        body = self._keys[self.active_id].aead.encrypt(
            nonce, plaintext.encode(), header + place.encoded()
        )
        return header + nonce + body

    def decrypt(self, ciphertext: bytes, place: Place) -> str:
        key = self._keys.get(key_id_of(ciphertext))
        if key is None:
            raise PiiError(
                f"the ciphertext names personal-data key {key_id_of(ciphertext)}, "
                "which is not in the key ring"
            )
        header = ciphertext[:HEADER_BYTES]
        nonce = ciphertext[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        try:
            plaintext = key.aead.decrypt(
                nonce, ciphertext[HEADER_BYTES + NONCE_BYTES :], header + place.encoded()
            )
        except InvalidTag:
            raise PiiError(
                f"the ciphertext in {place.table}.{place.column} does not decrypt: "
                "made for another place or damaged"
            ) from None
        return plaintext.decode()

    def header(self, key_id: int | None = None) -> bytes:
        """The first bytes of every ciphertext made with `key_id` (default: the active key)."""
        return FORMAT + (self.active_id if key_id is None else key_id).to_bytes(2, "big")

    def fingerprint(self, value: str, key_id: int | None = None) -> str:
        """A stable keyed hash: equal values, equal fingerprints; the value can't be recovered."""
        key_id = self.active_id if key_id is None else key_id
        digest = hmac.new(self._keys[key_id].lookup, value.encode(), hashlib.sha256).hexdigest()
        return f"{fingerprint_prefix(key_id)}{digest[:FINGERPRINT_HEX]}"

    def fingerprints(self, value: str) -> list[str]:
        """The value's fingerprint under every key of the ring, the active key's first: what a
        lookup matches while stored fingerprints are being moved to the active key."""
        return [self.fingerprint(value, key_id) for key_id in self.key_ids]


def key_id_of(ciphertext: bytes) -> int:
    if len(ciphertext) < HEADER_BYTES + NONCE_BYTES or ciphertext[:1] != FORMAT:
        raise PiiError("not a ciphertext of this format")
    return int.from_bytes(ciphertext[1:HEADER_BYTES], "big")


def fingerprint_prefix(key_id: int) -> str:
    return f"{key_id}:"


def key_ring(
    *, keys: str, single_key: str, active: int | None, development_allowed: bool
) -> tuple[dict[int, bytes], int | None]:
    """The secrets by id and the active id from the settings (PII_KEYS, PII_KEY, PII_ACTIVE_KEY,
    PII_ALLOW_DEVELOPMENT_KEY). Error messages name settings and ids, never key material."""
    secrets: dict[int, bytes] = {}
    if keys.strip():
        try:
            entries = json.loads(keys)
        except json.JSONDecodeError:
            raise PiiKeyError("PII_KEYS is not JSON") from None
        if not isinstance(entries, dict):
            raise PiiKeyError('PII_KEYS must be a JSON object: {"<id>": "<base64 secret>", ...}')
        for name, encoded in entries.items():
            if not (isinstance(name, str) and name.isascii() and name.isdigit()):
                raise PiiKeyError("PII_KEYS: every key id must be a number")
            if not isinstance(encoded, str):
                raise PiiKeyError(f"PII_KEYS: key {int(name)} must be a base64 string")
            secrets[int(name)] = _decoded(encoded, f"PII_KEYS key {int(name)}")
    if single_key.strip():
        secret = _decoded(single_key, "PII_KEY")
        if secrets.get(1, secret) != secret:
            raise PiiKeyError("PII_KEY is key 1, and PII_KEYS gives key 1 another secret")
        secrets[1] = secret
    if DEVELOPMENT_KEY_ID in secrets:
        raise PiiKeyError("personal-data key ids start at 1 (0 is the development key's)")
    if not secrets:
        if not development_allowed:
            raise PiiKeyError(
                "no personal-data key: set PII_KEYS (or PII_KEY); for development only, "
                "PII_ALLOW_DEVELOPMENT_KEY=true uses the built-in development key"
            )
        return {DEVELOPMENT_KEY_ID: DEVELOPMENT_SECRET}, DEVELOPMENT_KEY_ID
    PiiVault(secrets, active)  # the same checks as at start: ids, lengths, the active key
    return secrets, active


def _decoded(encoded: str, name: str) -> bytes:
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PiiKeyError(f"{name} is not base64") from None


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"gonghui-pii:" + purpose, hashlib.sha256).digest()
