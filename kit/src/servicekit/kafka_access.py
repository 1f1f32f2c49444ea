"""How a client reaches Kafka: where, over which protocol, as whom. Read from the environment
(KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
KAFKA_SASL_PASSWORD, KAFKA_SSL_CAFILE), the same for services, operator commands, tools and
tests, so every client of a secured broker authenticates the same way."""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


class KafkaAccess(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str = ""

    def model_post_init(self, _context: object) -> None:
        if self.uses_sasl and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )

    @property
    def uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL")

    @property
    def uses_tls(self) -> bool:
        return self.kafka_security_protocol.endswith("SSL")

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls:
            return None
        return ssl.create_default_context(cafile=self.kafka_ssl_cafile or None)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.kafka_bootstrap_servers,
            "security_protocol": self.kafka_security_protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self._ssl_context()
        if self.uses_sasl:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = self.kafka_sasl_password.get_secret_value()
        return options


def client_options(bootstrap: str | None = None) -> dict[str, Any]:
    """aiokafka keyword arguments from the environment, for `bootstrap` if given."""
    access = KafkaAccess(kafka_bootstrap_servers=bootstrap) if bootstrap else KafkaAccess()
    return access.client_options()
