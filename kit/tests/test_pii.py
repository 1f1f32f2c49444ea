import base64
import os

import pytest

from servicekit.pii import PiiVault


def vault() -> PiiVault:
    return PiiVault.from_setting(base64.b64encode(os.urandom(32)).decode())


def test_encrypted_data_reads_back_and_never_repeats() -> None:
    keeper = vault()
    first, second = keeper.encrypt("13800138000"), keeper.encrypt("13800138000")
    assert first != second
    assert b"13800138000" not in first
    assert keeper.decrypt(first) == keeper.decrypt(second) == "13800138000"


def test_fingerprints_are_stable_per_key_and_differ_across_keys() -> None:
    one, other = vault(), vault()
    assert one.fingerprint("11010519491231002X") == one.fingerprint("11010519491231002X")
    assert one.fingerprint("11010519491231002X") != other.fingerprint("11010519491231002X")


def test_another_keys_ciphertext_is_refused() -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 - the AEAD's InvalidTag
        vault().decrypt(vault().encrypt("x"))


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PiiVault.from_setting(base64.b64encode(b"short").decode())
