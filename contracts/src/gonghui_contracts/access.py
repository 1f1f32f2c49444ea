"""Who may read and write which topic: Kafka principals and ACLs, derived from the registry.

The registry says who produces and who reads each topic; a partner's topics are its own: a
partner-facing topic of the registry is a family, and each partner has one topic of it, named
`<family>.<partner_id>` (its dead letters `<family>.<partner_id>.dlq`). So the broker, not the
payload, says which partner sent a record: the topic it could write is the one named after it.

- a service reads exactly the topics whose readers name it (every partner's topic of a family it
  reads) and writes exactly those it produces (every partner's topic of a family it answers on),
  plus the dead letters of what it reads;
- a partner writes only its own topic of each intake family of its kind, and reads only its own
  topic of each outcome family of its kind;
- the operator manages topics, users and ACLs, and reads and replays dead letters.

The same grants make the local broker's ACLs and the Kubernetes `KafkaUser` resources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from gonghui_contracts.envelope import EventPayload
from gonghui_contracts.topics import DLQ_SUFFIX, TOPICS, TopicSpec
from gonghui_contracts.values import PartnerKind, Service

Operation = Literal["Read", "Write", "Describe", "All"]
ResourceType = Literal["topic", "group", "cluster"]
PatternType = Literal["literal", "prefix"]
OPERATOR = "operator"
CLUSTER = "kafka-cluster"
# A partner's id ends its topics' names: no dot, so `<family>.<id>.dlq` is never a partner's topic.
PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True, order=True)
class Partner:
    """An outside organisation with credentials of its own: a hospital, a platform union, the
    12351 hotline, a court, an arbitration commission."""

    partner_id: str
    kind: PartnerKind

    def __post_init__(self) -> None:
        if not PARTNER_ID.fullmatch(self.partner_id) or self.partner_id == DLQ_SUFFIX[1:]:
            raise ValueError(
                f"partner id {self.partner_id[:60]!r}: lowercase letters, digits and -, "
                "at most 40, not 'dlq'"
            )


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL: `principal` may do `operation` on the resource (`name`, matched as `pattern`)."""

    principal: str
    resource_type: ResourceType
    name: str
    pattern: PatternType
    operation: Operation


def service_principal(service: Service) -> str:
    return f"svc-{service.value}"


def partner_principal(partner: Partner) -> str:
    return f"partner-{partner.partner_id}"


def partner_topic(family: TopicSpec, partner_id: str) -> str:
    """A partner's own topic of a partner-facing family."""
    return f"{family.name}.{partner_id}"


@cache
def is_partner_family(spec: TopicSpec) -> bool:
    """A family of per-partner topics: partners write it (intake) or read it (outcomes)."""
    return any(isinstance(p, PartnerKind) for p in spec.producers | spec.readers)


def senders(spec: TopicSpec, partners: Iterable[Partner]) -> list[Partner]:
    """The partners that write their own topic of this intake family."""
    return sorted(p for p in set(partners) if p.kind in spec.producers)


def sender_mismatches(payload: EventPayload, sender: Partner) -> list[str]:
    """`field: rule` for each field of a partner's payload that names another partner than
    the one whose topic carried it (the broker authenticated that one)."""
    problems = []
    for field, names in type(payload).SENDER_FIELDS.items():
        claimed = getattr(payload, field)
        expected = sender.partner_id if names == "partner_id" else sender.kind.value
        if claimed != expected:
            problems.append(
                f"{field}: names another partner than the one whose topic carried it ({names} "
                f"{expected!r})"
            )
    return problems


def service_grants(service: Service, partners: Iterable[Partner] = ()) -> list[Grant]:
    """A service's ACLs: its group; the topics the registry says it reads (and their dead
    letters, which it writes) and writes; of a partners' family, each known partner's own topic
    (literal names: a prefix would also cover the family's dead letters)."""
    who = service_principal(service)
    grants = [Grant(who, "group", service.value, "literal", "Read")]
    for spec in TOPICS:
        if is_partner_family(spec):
            continue
        if service in spec.producers:
            grants.append(Grant(who, "topic", spec.name, "literal", "Write"))
        if service in spec.readers:
            grants.append(Grant(who, "topic", spec.name, "literal", "Read"))
            grants.append(Grant(who, "topic", spec.dlq, "literal", "Write"))
    known = sorted(set(partners))
    grants += [g for p in known for g in partner_service_grants(p) if g.principal == who]
    return sorted(grants)


def partner_service_grants(partner: Partner) -> list[Grant]:
    """What the services need of a partner's own topics: to read its intake and dead-letter
    what they cannot take from it, and to answer it on its outcome topics."""
    grants = []
    for spec in TOPICS:
        if not is_partner_family(spec) or partner.kind not in spec.producers | spec.readers:
            continue
        topic = partner_topic(spec, partner.partner_id)
        for reader in spec.readers:
            if isinstance(reader, Service):
                grants.append(Grant(service_principal(reader), "topic", topic, "literal", "Read"))
                grants.append(
                    Grant(
                        service_principal(reader), "topic", topic + DLQ_SUFFIX, "literal", "Write"
                    )
                )
        for producer in spec.producers:
            if isinstance(producer, Service):
                grants.append(
                    Grant(service_principal(producer), "topic", topic, "literal", "Write")
                )
    return sorted(grants)


def partner_grants(partner: Partner) -> list[Grant]:
    who = partner_principal(partner)
    grants = [Grant(who, "group", f"{partner.partner_id}.", "prefix", "Read")]
    for spec in TOPICS:
        if partner.kind in spec.producers:
            grants.append(
                Grant(who, "topic", partner_topic(spec, partner.partner_id), "literal", "Write")
            )
        if partner.kind in spec.readers:
            grants.append(
                Grant(who, "topic", partner_topic(spec, partner.partner_id), "literal", "Read")
            )
    return sorted(grants)


def operator_grants() -> list[Grant]:
    return [
        Grant(OPERATOR, "cluster", CLUSTER, "literal", "All"),
        Grant(OPERATOR, "group", "*", "literal", "All"),
        Grant(OPERATOR, "topic", "*", "literal", "All"),
    ]


def platform_grants(partners: Iterable[Partner] = ()) -> list[Grant]:
    """The ACLs of the platform's services and of these partners: what an environment of
    its own (a topic prefix) needs; the operator's are cluster-wide."""
    known = sorted(set(partners))
    grants = [g for service in Service for g in service_grants(service, known)]
    return grants + [g for partner in known for g in partner_grants(partner)]


def all_grants(partners: Iterable[Partner] = ()) -> list[Grant]:
    """Every ACL of the platform: its services, these partners, the operator."""
    return platform_grants(partners) + operator_grants()


def placed(spec: TopicSpec, partners: Iterable[Partner] = ()) -> list[tuple[str, bool]]:
    """The topics a registry entry makes on the broker, each with whether it has a dead-letter
    twin: the topic itself; for a partner family, each partner's own topic of it instead (the
    twin for those the platform reads)."""
    if not is_partner_family(spec):
        return [(spec.name, True)]
    return [
        (partner_topic(spec, p.partner_id), p.kind in spec.producers)
        for p in sorted(set(partners))
        if p.kind in spec.producers | spec.readers
    ]


def topic_names(partners: Iterable[Partner] = (), specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """Every topic the platform needs with these partners, dead letters included."""
    known = sorted(set(partners))
    return [
        name
        for spec in specs
        for topic, twin in placed(spec, known)
        for name in ([topic, topic + DLQ_SUFFIX] if twin else [topic])
    ]


def covers(grant: Grant, name: str) -> bool:
    """Whether the grant's resource pattern matches the resource `name`."""
    if grant.name == "*":
        return True
    return name.startswith(grant.name) if grant.pattern == "prefix" else name == grant.name


def with_prefix(grants: Iterable[Grant], prefix: str) -> list[Grant]:
    """The grants of an environment whose topics and groups carry `prefix` (KAFKA_TOPIC_PREFIX):
    several environments, or test runs, sharing one cluster each keep to their own names."""
    return sorted(
        replace(grant, name=prefix + grant.name)
        if grant.resource_type != "cluster" and grant.name != "*"
        else grant
        for grant in grants
    )


def partner_topics(partner: Partner) -> list[str]:
    """The topics a new partner needs: its own of each family of its kind, and dead letters
    of those it writes."""
    return topic_names([partner], [spec for spec in TOPICS if is_partner_family(spec)])


EXAMPLE_PARTNERS = (
    Partner("sf-express-guangzhou", PartnerKind.PLATFORM_UNION),
    Partner("gz-express-federation", PartnerKind.INDUSTRY_FEDERATION),
    Partner("sz-h-016", PartnerKind.HOSPITAL),
    Partner("gz-12351", PartnerKind.HOTLINE_12351),
    Partner("gz-intermediate-court", PartnerKind.COURT),
    Partner("gz-labour-arbitration", PartnerKind.ARBITRATION),
    Partner("gz-medical-insurance", PartnerKind.MEDICAL_INSURANCE),
    Partner("sz-i-gong", PartnerKind.APP_GATEWAY),
)


def acl_table(partners: Iterable[Partner] = EXAMPLE_PARTNERS) -> str:
    """The grants as a Markdown table, one row per principal (the README's, with one partner of
    each kind)."""
    grants = all_grants(partners)
    rows = ["| principal | reads | writes | also |", "|---|---|---|---|"]
    for who in dict.fromkeys(g.principal for g in grants):
        mine = [g for g in grants if g.principal == who]

        def names(operation: str, mine: list[Grant] = mine) -> str:
            found = [
                _shown(g) for g in mine if g.resource_type == "topic" and g.operation == operation
            ]
            return "<br>".join(found) or "—"

        also = [
            f"{g.operation} {g.resource_type} {_shown(g)}"
            for g in mine
            if g.resource_type != "topic" or g.operation not in ("Read", "Write")
        ]
        rows.append(f"| `{who}` | {names('Read')} | {names('Write')} | {'<br>'.join(also)} |")
    return "\n".join(rows) + "\n"


def _shown(grant: Grant) -> str:
    """The resource's name as the table shows it: a prefix ends in `*`."""
    return f"`{grant.name}{'*' if grant.pattern == 'prefix' else ''}`"
