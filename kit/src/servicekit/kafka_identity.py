"""Putting the registry's principals and ACLs on a broker: SCRAM credentials for each principal
(passwords generated once and kept in a file of mode 0600), and the ACLs of `access`.

librdkafka's admin client does this (aiokafka's has no ACL or SCRAM requests)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from gonghui_contracts.access import (
    OPERATOR,
    Grant,
    Partner,
    all_grants,
    dead_letter_grants,
    partner_grants,
    partner_principal,
    service_principal,
)
from gonghui_contracts.values import Service
from servicekit.kafka_access import KafkaAccess

SCRAM_ITERATIONS = 8192
TIMEOUT_SECONDS = 30.0
_OPERATIONS = {
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Describe": AclOperation.DESCRIBE,
    "All": AclOperation.ALL,
}
_RESOURCES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "cluster": ResourceType.BROKER,
}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefix": ResourcePatternType.PREFIXED}


def principals(partners: Iterable[Partner]) -> list[str]:
    return [
        *(service_principal(s) for s in Service),
        *(partner_principal(p) for p in partners),
        OPERATOR,
    ]


@dataclass
class Credentials:
    """Principal → password, in a JSON file only its owner may read."""

    path: Path

    def load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        loaded: dict[str, str] = json.loads(self.path.read_text("utf-8"))
        return loaded

    def ensure(self, names: Sequence[str]) -> dict[str, str]:
        """Every name's password, making those that are missing; the file is written 0600."""
        known = self.load()
        missing = [name for name in names if name not in known]
        if missing:
            known.update({name: secrets.token_urlsafe(24) for name in missing})
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(known, out, indent=1, sort_keys=True)
            os.chmod(self.path, 0o600)
        return known


def librdkafka_config(access: KafkaAccess) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": access.kafka_bootstrap_servers,
        "security.protocol": access.kafka_security_protocol,
    }
    if access.uses_sasl:
        config["sasl.mechanism"] = access.kafka_sasl_mechanism
        config["sasl.username"] = access.kafka_sasl_username
        config["sasl.password"] = access.kafka_sasl_password.get_secret_value()
    if access.uses_tls and access.kafka_ssl_cafile:
        config["ssl.ca.location"] = access.kafka_ssl_cafile
    return config


def acl_binding(grant: Grant) -> AclBinding:
    return AclBinding(
        _RESOURCES[grant.resource_type],
        grant.name,
        _PATTERNS[grant.pattern],
        f"User:{grant.principal}",
        "*",
        _OPERATIONS[grant.operation],
        AclPermissionType.ALLOW,
    )


@dataclass(frozen=True)
class Applied:
    users: int
    acls: int


def apply(
    access: KafkaAccess,
    partners: Sequence[Partner],
    credentials: Credentials,
    *,
    platform: bool = True,
) -> Applied:
    """Make principals SCRAM users with their passwords and grant their ACLs: the platform's
    (its services and the operator) unless `platform` is False, and these partners'.
    Idempotent: run it again after adding a partner."""
    admin = AdminClient(librdkafka_config(access))
    names = principals(partners) if platform else [partner_principal(p) for p in partners]
    passwords = credentials.ensure(names)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            name,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            passwords[name].encode(),
        )
        for name in names
    ]
    _wait(admin.alter_user_scram_credentials(upserts))
    grants = (
        all_grants(partners)
        if platform
        else [g for p in partners for g in partner_grants(p) + dead_letter_grants(p)]
    )
    _wait(admin.create_acls([acl_binding(grant) for grant in grants]))
    return Applied(users=len(upserts), acls=len(grants))


def withdraw(access: KafkaAccess, partners: Sequence[Partner]) -> None:
    """A partner's SCRAM user and ACLs removed (and the services' on its dead letters): it can
    no longer connect nor use its topics."""
    admin = AdminClient(librdkafka_config(access))
    filters = [
        AclBindingFilter(
            ResourceType.ANY,
            cast(str, None),  # None matches any name and any host
            ResourcePatternType.ANY,
            f"User:{partner_principal(p)}",
            cast(str, None),
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        for p in partners
    ]
    filters += [_exactly(grant) for p in partners for grant in dead_letter_grants(p)]
    _wait(admin.delete_acls(filters))
    deletions: list[UserScramCredentialAlteration] = [
        UserScramCredentialDeletion(partner_principal(p), ScramMechanism.SCRAM_SHA_512)
        for p in partners
    ]
    _wait(admin.alter_user_scram_credentials(deletions))


def _exactly(grant: Grant) -> AclBindingFilter:
    binding = acl_binding(grant)
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _wait(futures: dict[Any, Any]) -> None:
    for future in futures.values():
        future.result(timeout=TIMEOUT_SECONDS)
