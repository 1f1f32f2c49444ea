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
from pydantic import SecretStr

from gonghui_contracts.access import (
    OPERATOR,
    Grant,
    Partner,
    all_grants,
    partner_grants,
    partner_principal,
    partner_service_grants,
    service_principal,
    with_prefix,
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

    def access(self, name: str, base: KafkaAccess | None = None) -> KafkaAccess:
        """How principal `name` reaches the broker of `base` (default: the environment's)."""
        base = base or KafkaAccess()
        return base.model_copy(
            update={
                "kafka_security_protocol": "SASL_SSL" if base.uses_tls else "SASL_PLAINTEXT",
                "kafka_sasl_username": name,
                "kafka_sasl_password": SecretStr(self.load()[name]),
            }
        )

    def environment(self, name: str, base: KafkaAccess | None = None) -> dict[str, str]:
        """The KAFKA_* variables of a process that is to connect as principal `name`."""
        access = self.access(name, base)
        return {
            "KAFKA_BOOTSTRAP_SERVERS": access.kafka_bootstrap_servers,
            "KAFKA_SECURITY_PROTOCOL": access.kafka_security_protocol,
            "KAFKA_SASL_MECHANISM": access.kafka_sasl_mechanism,
            "KAFKA_SASL_USERNAME": name,
            "KAFKA_SASL_PASSWORD": access.kafka_sasl_password.get_secret_value(),
        }

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
    pruned: int = 0


def prune(access: KafkaAccess, principals_: Iterable[str], keep: Sequence[Grant]) -> int:
    """Take off the broker every ACL of these principals that `keep` does not hold (grants of
    an earlier registry, or of a test run that ended without cleaning up); returns how many."""
    admin = AdminClient(librdkafka_config(access))  # kept until its requests are answered
    wanted = {acl_binding(grant) for grant in keep}
    filters = [everything_of(who) for who in principals_]
    found = [binding for f in filters for binding in admin.describe_acls(f).result(TIMEOUT_SECONDS)]
    stale = [binding for binding in found if binding not in wanted]
    if stale:
        _wait(admin.delete_acls([_filter_of(binding) for binding in stale]))
    return len(stale)


def grant(access: KafkaAccess, grants: Sequence[Grant]) -> None:
    """Put these ACLs on the broker (those already there stay as they are)."""
    if grants:
        admin = AdminClient(librdkafka_config(access))  # kept until its requests are answered
        _wait(admin.create_acls(list(map(acl_binding, grants))))


def revoke(access: KafkaAccess, grants: Sequence[Grant]) -> None:
    """Take exactly these ACLs off the broker."""
    if grants:
        admin = AdminClient(librdkafka_config(access))  # kept until its requests are answered
        _wait(admin.delete_acls(list(map(_exactly, grants))))


def apply(
    access: KafkaAccess,
    partners: Sequence[Partner],
    credentials: Credentials,
    *,
    platform: bool = True,
    prefix: str = "",
    prune_others: bool = False,
) -> Applied:
    """Make principals SCRAM users with their passwords and grant their ACLs: the platform's
    (its services and the operator) unless `platform` is False, and these partners'; for an
    environment whose topics and groups carry `prefix`, on those names. With `prune_others`,
    their ACLs that these grants do not hold are taken off.
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
    grants = with_prefix(
        all_grants(partners)
        if platform
        else [g for p in partners for g in partner_grants(p) + partner_service_grants(p)],
        prefix,
    )
    grant(access, grants)
    pruned = prune(access, names, grants) if prune_others else 0
    return Applied(users=len(upserts), acls=len(grants), pruned=pruned)


def withdraw(access: KafkaAccess, partners: Sequence[Partner]) -> None:
    """A partner's SCRAM user and ACLs removed (and the services' on its dead letters): it can
    no longer connect nor use its topics."""
    admin = AdminClient(librdkafka_config(access))
    filters = [everything_of(partner_principal(p)) for p in partners]
    filters += [_exactly(grant) for p in partners for grant in partner_service_grants(p)]
    _wait(admin.delete_acls(filters))
    deletions: list[UserScramCredentialAlteration] = [
        UserScramCredentialDeletion(partner_principal(p), ScramMechanism.SCRAM_SHA_512)
        for p in partners
    ]
    _wait(admin.alter_user_scram_credentials(deletions))


def everything_of(principal: str) -> AclBindingFilter:
    """A filter matching every ACL of `principal`."""
    return AclBindingFilter(
        ResourceType.ANY,
        cast(str, None),  # None matches any name and any host
        ResourcePatternType.ANY,
        f"User:{principal}",
        cast(str, None),
        AclOperation.ANY,
        AclPermissionType.ANY,
    )


def _exactly(grant: Grant) -> AclBindingFilter:
    return _filter_of(acl_binding(grant))


def _filter_of(binding: AclBinding) -> AclBindingFilter:
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
