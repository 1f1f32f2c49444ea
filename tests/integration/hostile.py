"""Hostile partner messages, deterministic for a seed: envelopes drawn by Hypothesis from the
committed JSON Schemas (`contracts/schemas/`) and then broken, valid requests with one bad value
(non-ASCII digits in an identifier, bidi overrides, NUL and control characters in names), and
bodies no schema describes (deep nesting, 20,000 extra fields, bodies at and past the broker's
size limit, unknown event types and schema versions, envelopes missing fields, empty values,
JSON that is not an object, bytes that are not JSON).

Every hostile message must end as a rejection outcome or a dead letter; the valid requests
around them are built from `gonghui_contracts.samples` and must each get one answer.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from gonghui_contracts import Envelope, access, samples
from gonghui_contracts.envelope import EventPayload
from gonghui_contracts.events import (
    DisputeFiled,
    InjuryReported,
    JoinRequested,
    SeatRequested,
    SettlementRecorded,
)
from gonghui_contracts.values import PartnerKind

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
JOINS = "partner.membership.join-requests.v1"
INJURIES = "partner.aid.injury-reports.v1"
FILINGS = "partner.legal.filings.v1"
SETTLEMENTS = "partner.aid.settlements.v1"
SEAT_REQUESTS = "partner.skills.seat-requests.v1"
# The partner that publishes each intake, on its own topic: a valid message names it
SENDERS = {
    JOINS: access.Partner("sf-express-guangzhou", PartnerKind.PLATFORM_UNION),
    INJURIES: access.Partner("sz-h-016", PartnerKind.HOSPITAL),
    FILINGS: access.Partner("gz-12351", PartnerKind.HOTLINE_12351),
    SETTLEMENTS: access.Partner("gz-medical-insurance", PartnerKind.MEDICAL_INSURANCE),
    SEAT_REQUESTS: access.Partner("sz-i-gong", PartnerKind.APP_GATEWAY),
}
BROKER_LIMIT = 1_048_588  # Kafka's default message.max.bytes, the local broker's
Json = Any

# ------------------------------------------------------------ JSON Schema -> Hypothesis

ANNOTATIONS = frozenset({"title", "description", "examples", "default", "x-personal-data"})
HANDLED = frozenset(
    {
        "$defs", "$ref", "anyOf", "const", "enum", "type", "format", "pattern", "minLength",
        "maxLength", "minimum", "maximum", "items", "minItems", "maxItems", "properties",
        "required", "additionalProperties",
    }
)  # fmt: skip
MAX_DRAWN_ITEMS = 2  # arrays are drawn short: the breakage, not the size, is the point
OFFSETS = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]


def from_schema(schema: dict[str, Json], root: dict[str, Json]) -> st.SearchStrategy[Json]:
    """Values valid under `schema` (the subset of JSON Schema the contracts' export uses); a
    keyword it does not know is an error, so a richer schema is never drawn from half-read.
    (hypothesis-jsonschema 0.23.1 fails on Hypothesis 6.170: it relies on internals since
    changed, `'many' object has no attribute 'more'`.)"""
    unknown = set(schema) - HANDLED - ANNOTATIONS
    if unknown:
        raise ValueError(f"JSON Schema keywords not handled: {sorted(unknown)}")
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return st.deferred(lambda: from_schema(root["$defs"][name], root))
    if "anyOf" in schema:
        return st.one_of([from_schema(branch, root) for branch in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        return _object(schema, root)
    if kind == "array":
        items = from_schema(schema["items"], root)
        low = schema.get("minItems", 0)
        return st.lists(
            items,
            min_size=low,
            max_size=max(low, min(MAX_DRAWN_ITEMS, schema.get("maxItems", MAX_DRAWN_ITEMS))),
        )
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    if kind == "number":
        low = schema.get("minimum")
        return st.integers(min_value=low) | st.floats(
            min_value=low, allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise ValueError(f"JSON Schema type not handled: {kind!r}")


def _object(schema: dict[str, Json], root: dict[str, Json]) -> st.SearchStrategy[Json]:
    if schema.get("additionalProperties", True) is not False:
        raise ValueError("only closed objects (additionalProperties: false) are drawn")
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: from_schema(sub, root) for name, sub in properties.items() if name in required},
        optional={
            name: from_schema(sub, root) for name, sub in properties.items() if name not in required
        },
    )


def _string(schema: dict[str, Json]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    fmt = schema.get("format")
    if fmt == "uuid":
        return st.uuids().map(str)
    if fmt == "date":
        return st.dates().map(date.isoformat)
    if fmt == "date-time":
        return st.datetimes(timezones=st.sampled_from(OFFSETS)).map(datetime.isoformat)
    if fmt is not None:
        raise ValueError(f"JSON Schema format not handled: {fmt!r}")
    if "pattern" in schema:
        return st.from_regex(str(schema["pattern"]), fullmatch=True).filter(
            lambda s: low <= len(s) <= (high if high is not None else len(s))
        )
    return st.text(min_size=low, max_size=high)


def schema_draws(event: str, count: int, seed_value: int) -> list[dict[str, Json]]:
    """`count` envelopes drawn from `contracts/schemas/<event>.v1.json`, the same for a seed."""
    schema = json.loads((SCHEMAS / f"{event}.v1.json").read_text("utf-8"))
    strategy = from_schema(schema, schema)
    drawn: list[dict[str, Json]] = []

    @seed(seed_value)
    @settings(
        database=None,
        max_examples=count,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(envelope: dict[str, Json]) -> None:
        drawn.append(envelope)

    collect()
    if len(drawn) < count:
        raise AssertionError(f"Hypothesis drew {len(drawn)} {event} envelopes, {count} wanted")
    return drawn[:count]


# ------------------------------------------------------------ messages


@dataclass(frozen=True)
class Message:
    topic: str  # the registry's name of the partner topic
    key: bytes | None
    value: bytes
    kind: str  # "valid", or what is wrong with it
    event_id: uuid.UUID | None  # what an answer's causation_id names, if the envelope is readable
    ref: str | None = None  # a valid request's reference, echoed in its outcome
    headers: tuple[tuple[str, str], ...] = ()  # Kafka headers

    @property
    def hostile(self) -> bool:
        return self.kind != "valid"


def dumps(value: Json) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Partner:
    """What the generator needs to know of one partner topic."""

    topic: str
    code: str  # in keys and references
    events: tuple[str, ...]  # the schemas drawn from
    ref_field: str
    valid: Callable[[random.Random, str], EventPayload]
    identifiers: tuple[str, ...]  # dotted paths into data; digits only, or nearly
    texts: tuple[str, ...]  # names and free text


def _join(rng: random.Random, ref: str) -> EventPayload:
    return JoinRequested(
        request_ref=ref,
        partner_id=SENDERS[JOINS].partner_id,
        channel="partner_batch",
        name=samples.person_name(rng),
        resident_id=samples.adult_resident_id(rng),
        phone=samples.mobile_phone(rng),
        region_code="440111",
        industry="express_delivery",
    )


def _injury(rng: random.Random, ref: str) -> EventPayload:
    return InjuryReported.model_validate(
        {
            "report_ref": ref,
            "reporter": "hospital",
            "hospital_id": SENDERS[INJURIES].partner_id,
            "worker": {
                "name": samples.person_name(rng),
                "resident_id": samples.adult_resident_id(rng),
                "phone": samples.mobile_phone(rng),
            },
            "employer": {"credit_code": samples.employer_credit_code(rng), "name": "测试工厂"},
            "industry": "manufacturing",
            "injured_on": date.today().isoformat(),
            "injury_kind": rng.choice(["fracture", "laceration", "burn"]),
            "severity": "minor",
            "admission": rng.choice(["admitted", "outpatient"]),
        }
    )


def _filing(rng: random.Random, ref: str) -> EventPayload:
    return DisputeFiled.model_validate(
        {
            "channel": SENDERS[FILINGS].kind.value,
            "filing_ref": ref,
            "employer": {
                "credit_code": samples.employer_credit_code(rng, "440111"),
                "name": "测试制衣厂",
            },
            "industry": "manufacturing",
            "district_code": "440111",
            "kind": "wage_arrears",
            "arose_on": (date.today() - timedelta(days=rng.randint(5, 60))).isoformat(),
            "workers": [
                {
                    "name": samples.person_name(rng),
                    "resident_id": samples.adult_resident_id(rng),
                    "phone": samples.mobile_phone(rng),
                    "claimed": f"{rng.randint(1000, 20000)}.00",
                }
                for _ in range(rng.randint(1, 3))
            ],
        }
    )


def _settlement(rng: random.Random, ref: str) -> EventPayload:
    admitted = date.today() - timedelta(days=rng.randint(3, 60))
    out_of_pocket = rng.randint(600, 20_000)
    return SettlementRecorded.model_validate(
        {
            "settlement_id": ref,
            "revision": 0,
            "bureau_id": SENDERS[SETTLEMENTS].partner_id,
            "resident_id": samples.adult_resident_id(rng),
            "hospital": "广州市第一人民医院",
            "admitted_on": admitted.isoformat(),
            "discharged_on": (admitted + timedelta(days=rng.randint(0, 2))).isoformat(),
            "total_cost": f"{out_of_pocket * 2}.00",
            "basic_paid": f"{out_of_pocket}.00",
            "out_of_pocket_in_list": f"{out_of_pocket}.00",
            "diagnosis": rng.choice(["general", "chronic", "injury"]),
        }
    )


def _seat_request(rng: random.Random, ref: str) -> EventPayload:
    return SeatRequested(
        request_ref=ref,
        gateway_id=SENDERS[SEAT_REQUESTS].partner_id,
        member_id=uuid.UUID(int=rng.getrandbits(128)),
        session_id=uuid.UUID(int=rng.getrandbits(128)),
    )


PARTNERS = (
    Partner(
        JOINS,
        "j",
        ("membership.join-requested",),
        "request_ref",
        _join,
        ("resident_id", "phone", "region_code"),
        ("name",),
    ),
    Partner(
        INJURIES,
        "i",
        ("aid.injury-reported", "aid.patient-discharged"),
        "report_ref",
        _injury,
        ("worker.resident_id", "worker.phone", "employer.credit_code"),
        ("worker.name", "employer.name"),
    ),
    Partner(
        FILINGS,
        "f",
        ("legal.dispute-filed",),
        "filing_ref",
        _filing,
        ("workers.0.resident_id", "workers.0.phone", "employer.credit_code", "district_code"),
        ("workers.0.name", "employer.name"),
    ),
    Partner(
        SETTLEMENTS,
        "s",
        ("aid.settlement-recorded", "aid.settlement-reversed"),
        "settlement_id",
        _settlement,
        ("resident_id", "settlement_id"),
        ("hospital",),
    ),
    Partner(
        SEAT_REQUESTS,
        "q",
        ("skills.seat-requested",),
        "request_ref",
        _seat_request,
        ("request_ref",),
        ("request_ref",),
    ),
)
BY_TOPIC = {partner.topic: partner for partner in PARTNERS}

DIGITS = {  # other scripts' digits 0-9, each of which Python's int() and `\d` take
    "fullwidth": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "devanagari": "०१२३४५६७८९",
}
CHARACTERS = {  # put into a name or other free text
    "bidi-override": "\u202e",
    "bidi-isolate": "\u2067",
    "nul": "\u0000",
    "control": "\u001b[2J\u0007",
    "lone-surrogate": "\ud800",
}
ENVELOPE_FIELDS = (
    "event_id", "event_type", "schema_version", "occurred_at", "producer", "correlation_id",
    "key", "data",
)  # fmt: skip


def _path(data: dict[str, Json], dotted: str) -> tuple[Any, str | int]:
    """The container holding `dotted` inside `data`, and its last step."""
    node: Any = data
    steps: list[str | int] = [int(s) if s.isdigit() else s for s in dotted.split(".")]
    for step in steps[:-1]:
        node = node[step]
    return node, steps[-1]


Maker = Callable[[dict[str, Json]], "Message"]


def residents(value: Json) -> set[str]:
    """Every resident ID in a JSON value."""
    if isinstance(value, dict):
        found = {v for k, v in value.items() if k == "resident_id" and isinstance(v, str)}
        return found.union(*(residents(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(residents(v) for v in value))
    return set()


def required_data_fields(event_type: str) -> list[str]:
    schema = json.loads((SCHEMAS / f"{event_type}.v1.json").read_text("utf-8"))
    name = schema["properties"]["data"]["$ref"].removeprefix("#/$defs/")
    return sorted(schema["$defs"][name]["required"])


class Generator:
    """The messages for one partner topic, deterministic for a seed."""

    def __init__(self, partner: Partner, seed_value: int) -> None:
        self.partner = partner
        self.seed = seed_value
        self.rng = random.Random(seed_value)
        self.numbered = 0
        self.people: set[str] = set()

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def key(self, kind: str) -> str:
        self.numbered += 1
        return f"fz-{self.partner.code}-{kind}-{self.numbered:05d}"

    def envelope(self, payload: EventPayload, key: str) -> dict[str, Json]:
        wrapped: dict[str, Json] = json.loads(
            Envelope.wrap(payload, key=key, producer="it-partner").to_bytes()
        )
        wrapped["event_id"] = wrapped["correlation_id"] = str(self.new_id())
        wrapped["occurred_at"] = f"{date.today().isoformat()}T09:30:00+08:00"
        return wrapped

    def valid_envelope(self, ref: str) -> dict[str, Json]:
        while True:  # one request per person, so that every valid request is answered as new
            payload = self.partner.valid(self.rng, ref)
            people = residents(payload.model_dump())
            if not people & self.people:
                self.people |= people
                return self.envelope(payload, ref)

    def valid(self) -> Message:
        ref = self.key("valid")
        envelope = self.valid_envelope(ref)
        return Message(
            self.partner.topic,
            ref.encode(),
            dumps(envelope),
            "valid",
            uuid.UUID(envelope["event_id"]),
            ref,
        )

    def hostile(
        self, kind: str, envelope: dict[str, Json] | None, value: bytes, *, keyed: bool = True
    ) -> Message:
        """A hostile message, keyed uniquely (or with no key, where the value is unique)."""
        event_id = None
        if envelope is not None:
            with contextlib.suppress(ValueError):
                event_id = uuid.UUID(str(envelope.get("event_id")))
        key = self.key("h").encode() if keyed else None
        return Message(self.partner.topic, key, value, kind, event_id)

    # ---- each kind: one message from a schema draw (`drawn`), a valid request, or nothing

    def drawn_envelope(self, drawn: dict[str, Json]) -> dict[str, Json]:
        envelope = json.loads(json.dumps(drawn))
        envelope["event_id"] = str(self.new_id())  # every message is new to the inbox
        return dict(envelope)

    def wrong_type(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        data = envelope["data"]
        field = self.rng.choice(required_data_fields(envelope["event_type"]))
        current = data[field]  # a string, a list or an object
        wrong: list[Json] = [12345, 1.5, True, None, ["x"], {"x": 1}, "text"]
        data[field] = self.rng.choice([w for w in wrong if type(w) is not type(current)])
        return self.hostile(f"schema-draw/wrong-type/{field}", envelope, dumps(envelope))

    def extra_fields(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        for n in range(self.rng.randint(1, 5)):
            envelope["data"][f"unexpected_{n}"] = self.rng.choice([n, "x", None, [n], {"n": n}])
        return self.hostile("schema-draw/extra-fields", envelope, dumps(envelope))

    def missing_field(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        del envelope["data"][self.rng.choice(required_data_fields(envelope["event_type"]))]
        return self.hostile("schema-draw/missing-field", envelope, dumps(envelope))

    def too_long(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        data = envelope["data"]
        field = self.rng.choice([f for f, v in sorted(data.items()) if isinstance(v, str)])
        data[field] = "9" * 1000  # every string of the requests has a format or a maximum
        return self.hostile("schema-draw/too-long", envelope, dumps(envelope))

    def data_not_object(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        envelope["data"] = self.rng.choice([None, [], "data", 7])
        return self.hostile("envelope/data-not-an-object", envelope, dumps(envelope))

    def unknown_event_type(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        envelope["event_type"] = self.rng.choice(
            [f"{envelope['event_type']}-v2", "membership.join-requested.v1", "unknown", "事件"]
        )
        return self.hostile("envelope/unknown-event-type", envelope, dumps(envelope))

    def foreign_event_type(self, drawn: dict[str, Json]) -> Message:
        """A valid event of another partner topic, sent to this one."""
        others = [p for p in PARTNERS if p is not self.partner]
        other = Generator(self.rng.choice(others), self.rng.getrandbits(32))
        envelope = other.valid_envelope(other.key("valid"))
        envelope["event_id"] = str(self.new_id())
        return self.hostile("envelope/event-type-of-another-topic", envelope, dumps(envelope))

    def unknown_schema_version(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        envelope["schema_version"] = self.rng.choice([2, 9, 2**31, 2**70])
        return self.hostile("envelope/unknown-schema-version", envelope, dumps(envelope))

    def bad_schema_version(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        envelope["schema_version"] = self.rng.choice([0, -1, 1.5, None, "v1", [1]])
        return self.hostile("envelope/bad-schema-version", envelope, dumps(envelope))

    def envelope_missing(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        missing = self.rng.choice(ENVELOPE_FIELDS)
        del envelope[missing]
        return self.hostile(f"envelope/missing-{missing}", envelope, dumps(envelope))

    def envelope_bad(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        field, value = self.rng.choice(
            [
                ("occurred_at", "2024-06-27T09:30:00"),  # no timezone
                ("occurred_at", "yesterday"),
                ("correlation_id", "not-a-uuid"),
                ("key", ""),
                ("key", "k" * 201),
                ("producer", ""),
                ("event_id", "１２３４"),
            ]
        )
        envelope[field] = value
        return self.hostile(f"envelope/bad-{field}", envelope, dumps(envelope))

    def twenty_thousand_fields(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        envelope["data"].update({f"extra_{n:05d}": n for n in range(20_000)})
        return self.hostile("size/20000-extra-fields", envelope, dumps(envelope))

    def deep_in_data(self, drawn: dict[str, Json]) -> Message:
        envelope = self.drawn_envelope(drawn)
        envelope["data"]["nested"] = "@NEST@"
        text = dumps(envelope).replace(b'"@NEST@"', b"[" * 10_000 + b"]" * 10_000)
        return self.hostile("nesting/10000-levels-in-data", envelope, text)

    def deep_document(self, drawn: dict[str, Json]) -> Message:
        depth = 10_000
        return self.hostile("nesting/10000-levels", None, b'{"a":' * depth + b"1" + b"}" * depth)

    def body_of(self, size: int, kind: str, *, readable: bool = True) -> Message:
        """A valid request whose name is padded so that the body is `size` bytes (its envelope
        without an event_id unless `readable`)."""
        envelope = self.valid_envelope(self.key("oversize"))
        envelope["event_id"] = str(self.new_id())
        if not readable:
            del envelope["event_id"]
        container, step = _path(envelope["data"], self.partner.texts[0])
        container[step] = "@PAD@"
        text = dumps(envelope)
        return self.hostile(kind, envelope, text.replace(b"@PAD@", b"x" * (size - len(text) + 7)))

    def valid_with(
        self, kind: str, change: Callable[[Any, str | int], None], field: str
    ) -> Message:
        envelope = self.valid_envelope(self.key("base"))
        envelope["event_id"] = str(self.new_id())
        container, step = _path(envelope["data"], field)
        change(container, step)
        # ensure_ascii keeps a lone surrogate as its JSON escape (it cannot be UTF-8)
        return self.hostile(f"{kind}/{field}", envelope, json.dumps(envelope).encode())

    def other_digits(self, drawn: dict[str, Json]) -> Message:
        script = self.rng.choice(sorted(DIGITS))
        field = self.rng.choice(self.partner.identifiers)

        def change(container: Any, step: str | int) -> None:
            container[step] = "".join(
                DIGITS[script][int(c)] if c in "0123456789" else c for c in container[step]
            )

        return self.valid_with(f"text/{script}-digits", change, field)

    def character(self, name: str) -> Maker:
        def make(drawn: dict[str, Json]) -> Message:
            field = self.rng.choice(self.partner.texts)

            def change(container: Any, step: str | int) -> None:
                value = container[step]
                at = self.rng.randint(0, len(value))
                container[step] = value[:at] + CHARACTERS[name] + value[at:]

            return self.valid_with(f"text/{name}", change, field)

        return make

    def not_an_object(self, drawn: dict[str, Json]) -> Message:
        value = self.rng.choice([[], "a string", 42, None, True, [self.drawn_envelope(drawn)]])
        return self.hostile("json/not-an-object", None, dumps(value))

    def not_json(self, drawn: dict[str, Json]) -> Message:
        whole = dumps(self.drawn_envelope(drawn))
        if self.rng.random() < 0.3:  # noise, with no key
            return self.hostile("json/not-json", None, self.rng.randbytes(64), keyed=False)
        value = self.rng.choice(
            [
                self.rng.randbytes(self.rng.randint(1, 300)),
                b"\xff\xfe" + whole,  # not UTF-8
                whole[: self.rng.randint(1, len(whole) - 1)],  # cut short
                whole + b" trailing",
                whole.replace(b"{", b"{/* comment */", 1),
                b'{"event_id": NaN}',
            ]
        )
        return self.hostile("json/not-json", None, value)

    def declared(self, content_type: str, value: bytes) -> Message:
        """A body that is not what its content-type header says."""
        kind = f"headers/not-{content_type.replace('/', '-')}"
        message = self.hostile(kind, None, value)
        return replace(message, headers=(("content-type", content_type),))

    def empty(self, drawn: dict[str, Json]) -> Message:
        return self.hostile("json/empty", None, b"")

    def overflowing_claims(self, drawn: dict[str, Json]) -> Message:
        def change(container: Any, step: str | int) -> None:
            for worker in container[step]:
                worker["claimed"] = "999999999999.99"  # 14 digits each; the sum has 15
            container[step].append({**container[step][0], "resident_id": self._person()})

        return self.valid_with("sum/claims-overflow", change, "workers")

    def too_many_workers(self, drawn: dict[str, Json]) -> Message:
        def change(container: Any, step: str | int) -> None:
            first = container[step][0]
            container[step] = [{**first, "resident_id": self._person()} for _ in range(2_001)]

        return self.valid_with("size/2001-workers", change, "workers")

    def _person(self) -> str:
        while (person := samples.adult_resident_id(self.rng)) in self.people:
            pass
        self.people.add(person)
        return person

    def kinds(self) -> tuple[list[Maker], list[Maker]]:
        """(made once each, made in turn until the count is reached)."""
        few: list[Maker] = [
            self.twenty_thousand_fields,
            self.twenty_thousand_fields,
            self.deep_in_data,
            self.deep_document,
            lambda _: self.body_of(1_000_000, "size/1MB-name"),
            lambda _: self.body_of(BROKER_LIMIT - 600, "size/at-broker-limit", readable=False),
            lambda _: self.body_of(2_000_000, "size/2MB-past-broker-limit"),
            lambda d: self.declared("application/json", b"{" + dumps(d)),
            lambda _: self.declared("text/plain", b"\xff\xfe\xfd not UTF-8"),
        ]
        if self.partner.topic == FILINGS:
            few += [self.too_many_workers, self.overflowing_claims, self.overflowing_claims]
        turns: list[Maker] = [
            self.wrong_type,
            self.extra_fields,
            self.missing_field,
            self.too_long,
            self.data_not_object,
            self.unknown_event_type,
            self.foreign_event_type,
            self.unknown_schema_version,
            self.bad_schema_version,
            self.envelope_missing,
            self.envelope_bad,
            self.other_digits,
            self.other_digits,
            *(self.character(name) for name in sorted(CHARACTERS)),
            self.not_an_object,
            self.not_json,
            self.empty,
        ]
        return few, turns

    def hostile_messages(self, count: int) -> list[Message]:
        per_event = count // len(self.partner.events) + 1
        draws = [
            envelope
            for n, event in enumerate(self.partner.events)
            for envelope in schema_draws(event, per_event, self.seed + n)
        ]
        self.rng.shuffle(draws)
        few, turns = self.kinds()
        makers: Iterator[Maker] = iter(
            few + [turns[n % len(turns)] for n in range(count - len(few))]
        )
        return [make(drawn) for make, drawn in zip(makers, draws, strict=False)]

    def burst(self, valid: int, hostile: int) -> list[Message]:
        """A third of the valid requests, then the hostile messages among another third, then
        the last third."""
        third = valid // 3
        before = [self.valid() for _ in range(third)]
        among = [self.valid() for _ in range(third)] + self.hostile_messages(hostile)
        self.rng.shuffle(among)
        after = [self.valid() for _ in range(valid - 2 * third)]
        messages = before + among + after
        pairs = [(m.key, m.value) for m in messages]
        assert len(set(pairs)) == len(pairs), "two messages of the burst are the same"
        return messages


def burst(topic: str, valid: int, hostile: int, seed_value: int) -> list[Message]:
    return Generator(BY_TOPIC[topic], seed_value).burst(valid, hostile)


def kcat_input(messages: list[Message], key_delimiter: bytes, delimiter: bytes) -> bytes:
    """kcat -P's input: `key<key delimiter>value<delimiter>` per message, a message without a
    key with no key delimiter. Neither delimiter may occur inside a key or value."""
    for message in messages:
        for part in (message.key or b"", message.value):
            assert delimiter not in part
            assert key_delimiter not in part
    return b"".join(
        (m.key + key_delimiter if m.key is not None else b"") + m.value + delimiter
        for m in messages
    )
