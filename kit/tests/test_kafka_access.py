"""Every Kafka client authenticates as the environment says."""

from __future__ import annotations

import pytest

from servicekit.kafka_access import KafkaAccess, client_options


def test_plaintext_by_default_with_the_bootstrap_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL", raising=False)
    assert client_options("10.0.0.1:9092") == {
        "bootstrap_servers": "10.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_scram_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "svc-aid")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    options = client_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("svc-aid", "s3cret")


def test_sasl_without_credentials_is_refused_without_showing_any(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "svc-aid")
    monkeypatch.delenv("KAFKA_SASL_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaAccess()
