"""Personal data at rest: encrypted (AES-256-GCM) and found by keyed hash (HMAC-SHA256).

One secret (PII_KEY, 32 random bytes in base64) yields two keys, one per purpose, so the
lookup hash reveals nothing about the encryption key. Rotating the key means re-encrypting:
the key id is stored with every ciphertext for that day.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)
KEY_ID = b"\x01"
DEVELOPMENT_SECRET = b"gonghui-development-key-not-for-production!"


class PiiVault:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("PII_KEY must hold at least 32 bytes (base64)")
        self._aead = AESGCM(_derive(secret, b"encrypt"))
        self._hash_key = _derive(secret, b"lookup")

    @classmethod
    def from_setting(cls, encoded: str) -> PiiVault:
        if not encoded:
            log.warning("PII_KEY is not set: using the development key, unfit for real data")
            return cls(DEVELOPMENT_SECRET)
        return cls(base64.b64decode(encoded))

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return KEY_ID + nonce + self._aead.encrypt(nonce, plaintext.encode(), KEY_ID)

    def decrypt(self, ciphertext: bytes) -> str:
        key_id, nonce, body = ciphertext[:1], ciphertext[1:13], ciphertext[13:]
        if key_id != KEY_ID:
            raise ValueError("ciphertext was made with an unknown key")
        return self._aead.decrypt(nonce, body, key_id).decode()

    def fingerprint(self, value: str) -> str:
        """A stable keyed hash: equal values, equal fingerprints; the value can't be recovered."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"gonghui-pii:" + purpose, hashlib.sha256).digest()
