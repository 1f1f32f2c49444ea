import base64
import json
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, LargeBinary, String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit import KitSettings, db
from servicekit.personal_data import (
    EncryptedColumn,
    LookupColumn,
    PersonalData,
    not_active,
    reencrypt,
    rekey,
)
from servicekit.pii import PiiError, PiiKeyError, PiiVault, Place, key_id_of, key_ring

HERE = Place("members", "phone_enc", "7")
ID = "11010519491231002X"


def secret() -> bytes:
    return os.urandom(32)


def encoded(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_encrypted_data_reads_back_and_never_repeats() -> None:
    vault = PiiVault({1: secret()})
    first, second = vault.encrypt("13800138000", HERE), vault.encrypt("13800138000", HERE)
    assert first != second
    assert b"13800138000" not in first
    assert vault.decrypt(first, HERE) == vault.decrypt(second, HERE) == "13800138000"


def test_a_ciphertext_moved_to_another_row_or_column_does_not_decrypt() -> None:
    vault = PiiVault({1: secret()})
    ciphertext = vault.encrypt("13800138000", HERE)
    for elsewhere in (
        Place("members", "phone_enc", "8"),
        Place("members", "name_enc", "7"),
        Place("claimants", "phone_enc", "7"),
        Place("members", "phone_en", "c7"),  # the same letters split otherwise
    ):
        with pytest.raises(PiiError, match="does not decrypt") as refused:
            vault.decrypt(ciphertext, elsewhere)
        assert "13800138000" not in str(refused.value)


def test_another_keys_ciphertext_is_refused() -> None:
    made = PiiVault({1: secret()}).encrypt("x", HERE)
    with pytest.raises(PiiError, match="does not decrypt"):
        PiiVault({1: secret()}).decrypt(made, HERE)
    with pytest.raises(PiiError, match="key 1, which is not in the key ring"):
        PiiVault({2: secret()}).decrypt(made, HERE)


def test_the_ring_encrypts_with_the_active_key_and_reads_every_key() -> None:
    one, two = secret(), secret()
    old = PiiVault({1: one})
    ring = PiiVault({1: one, 2: two})
    assert ring.active_id == 2
    assert ring.key_ids == (2, 1)
    made_before = old.encrypt("陈小明", HERE)
    made_now = ring.encrypt("陈小明", HERE)
    assert (key_id_of(made_before), key_id_of(made_now)) == (1, 2)
    assert ring.decrypt(made_before, HERE) == ring.decrypt(made_now, HERE) == "陈小明"
    staged = PiiVault({1: one, 2: two}, active=1)  # key 2 handed out before it is used
    assert key_id_of(staged.encrypt("x", HERE)) == 1
    assert staged.decrypt(made_now, HERE) == "陈小明"


def test_fingerprints_name_their_key_and_differ_across_keys() -> None:
    one, two = secret(), secret()
    old, ring = PiiVault({1: one}), PiiVault({1: one, 2: two})
    assert old.fingerprint(ID) == old.fingerprint(ID)
    assert old.fingerprint(ID).startswith("1:")
    assert ring.fingerprint(ID).startswith("2:")
    assert len(ring.fingerprint(ID)) <= 64
    assert ring.fingerprints(ID) == [ring.fingerprint(ID), old.fingerprint(ID)]
    assert PiiVault({1: secret()}).fingerprint(ID) != old.fingerprint(ID)
    assert ID not in ring.fingerprint(ID)


def test_the_ring_from_settings() -> None:
    one, two = secret(), secret()
    secrets, active = key_ring(
        keys=json.dumps({"2": encoded(two)}),
        single_key=encoded(one),
        active=None,
        development_allowed=False,
    )
    assert (secrets, active) == ({1: one, 2: two}, None)
    secrets, active = key_ring(
        keys=json.dumps({"2": encoded(two), "1": encoded(one)}),
        single_key="",
        active=1,
        development_allowed=False,
    )
    assert (secrets, active) == ({1: one, 2: two}, 1)


@pytest.mark.parametrize(
    ("keys", "single", "active", "message"),
    [
        ("", "", None, "no personal-data key: set PII_KEYS"),
        ("[1]", "", None, "must be a JSON object"),
        ("{not json", "", None, "not JSON"),
        ('{"one": "QUJD"}', "", None, "must be a number"),
        ('{"1": "***"}', "", None, "PII_KEYS key 1 is not base64"),
        ('{"1": "c2hvcnQ="}', "", None, "at least 32 bytes"),
        ("", "c2hvcnQ=", None, "at least 32 bytes"),
        ("{}", "", None, "no personal-data key"),
        (json.dumps({"3": encoded(b"k" * 32)}), "", 4, "active personal-data key 4"),
        (json.dumps({"0": encoded(b"k" * 32)}), "", None, "start at 1"),
        (json.dumps({"70000": encoded(b"k" * 32)}), "", None, "not in 1..65535"),
        (json.dumps({"1": encoded(b"k" * 32)}), encoded(b"j" * 32), None, "another secret"),
    ],
)
def test_bad_key_settings_are_refused_without_showing_the_key(
    keys: str, single: str, active: int | None, message: str
) -> None:
    with pytest.raises(PiiKeyError, match=message) as refused:
        key_ring(keys=keys, single_key=single, active=active, development_allowed=False)
    assert "a2tr" not in str(refused.value)  # base64 of the test secrets


def test_without_a_key_a_service_refuses_to_start_unless_development_is_explicit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PII_KEY", "PII_KEYS", "PII_ACTIVE_KEY", "PII_ALLOW_DEVELOPMENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PiiKeyError, match="PII_ALLOW_DEVELOPMENT_KEY=true"):
        KitSettings()
    monkeypatch.setenv("PII_ALLOW_DEVELOPMENT_KEY", "true")
    assert PiiVault.from_settings(KitSettings()).active_id == 0
    one = secret()
    monkeypatch.setenv("PII_KEY", encoded(one))
    assert PiiVault.from_settings(KitSettings()).key_ids == (1,)  # a real key wins
    monkeypatch.setenv("PII_KEYS", json.dumps({"2": encoded(secret())}))
    monkeypatch.setenv("PII_ACTIVE_KEY", "1")
    vault = PiiVault.from_settings(KitSettings())
    assert (vault.active_id, vault.key_ids) == (1, (1, 2))
    assert vault.decrypt(PiiVault({1: one}).encrypt("x", HERE), HERE) == "x"


# Rotation on a small table: encrypted columns named by their row, and a unique lookup column.


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "people"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[bytes] = mapped_column(LargeBinary)
    phone: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Claim(Base):
    """A row named by two columns."""

    __tablename__ = "claims"

    case_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[bytes] = mapped_column(LargeBinary)


PERSON_RESIDENT_ID = EncryptedColumn(Person.resident_id, Person.person_id)
PERSON_PHONE = EncryptedColumn(Person.phone, Person.person_id)
CLAIM_NAME = EncryptedColumn(Claim.name, Claim.case_no, Claim.sequence)


async def person_key(_session: object, vault: PiiVault, row: Mapping[str, Any]) -> str:
    place = PERSON_RESIDENT_ID.at(row["person_id"])
    return vault.fingerprint(vault.decrypt(row["resident_id"], place))


DATA = PersonalData(
    encrypted=(PERSON_RESIDENT_ID, PERSON_PHONE, CLAIM_NAME),
    lookups=(
        LookupColumn(
            Person.person_key,
            row=(Person.person_id,),
            inputs=(Person.resident_id,),
            recompute=person_key,
        ),
    ),
)
PEOPLE = [(f"4401{n:014d}", f"1380013{n:04d}" if n % 3 else None) for n in range(23)]
CLAIMS = [
    (case_no, sequence, f"工人{case_no}-{sequence}")
    for case_no in (1, 2)
    for sequence in range(1, 6)
]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path}/pii.db")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield db.session_factory(engine)
    await engine.dispose()


async def add_people(sessions: async_sessionmaker[AsyncSession], vault: PiiVault) -> None:
    async with sessions.begin() as session:
        for resident_id, phone in PEOPLE:
            person_id = uuid.uuid4()
            session.add(
                Person(
                    person_id=person_id,
                    person_key=vault.fingerprint(resident_id),
                    resident_id=vault.encrypt(resident_id, PERSON_RESIDENT_ID.at(person_id)),
                    phone=phone and vault.encrypt(phone, PERSON_PHONE.at(person_id)),
                )
            )
        for case_no, sequence, name in CLAIMS:
            place = CLAIM_NAME.at(case_no, sequence)
            session.add(Claim(case_no=case_no, sequence=sequence, name=vault.encrypt(name, place)))


async def find(
    sessions: async_sessionmaker[AsyncSession], vault: PiiVault, resident_id: str
) -> Person | None:
    async with sessions() as session:
        found: Person | None = await session.scalar(
            select(Person).where(Person.person_key.in_(vault.fingerprints(resident_id)))
        )
        return found


async def everything(
    sessions: async_sessionmaker[AsyncSession], vault: PiiVault
) -> tuple[set[tuple[str, str | None]], set[tuple[int, int, str]], set[int]]:
    """What the tables hold, decrypted, and the ids of the keys that made it."""
    async with sessions() as session:
        people = (await session.scalars(select(Person))).all()
        claims = (await session.scalars(select(Claim))).all()
    made_by = {key_id_of(p.resident_id) for p in people} | {key_id_of(c.name) for c in claims}
    made_by |= {key_id_of(p.phone) for p in people if p.phone is not None}
    return (
        {
            (
                vault.decrypt(p.resident_id, PERSON_RESIDENT_ID.at(p.person_id)),
                None if p.phone is None else vault.decrypt(p.phone, PERSON_PHONE.at(p.person_id)),
            )
            for p in people
        },
        {
            (c.case_no, c.sequence, vault.decrypt(c.name, CLAIM_NAME.at(c.case_no, c.sequence)))
            for c in claims
        },
        made_by,
    )


async def test_reencryption_stops_after_a_batch_limit_and_resumes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one, two = secret(), secret()
    await add_people(sessions, PiiVault({1: one}))
    ring = PiiVault({1: one, 2: two})
    assert (await not_active(sessions, ring, DATA))["people.resident_id"] == len(PEOPLE)

    first = await reencrypt(sessions, ring, DATA, batch_size=5, max_batches=3)
    assert [(p.column, p.moved, p.finished) for p in first] == [("people.resident_id", 15, False)]
    people, claims, made_by = await everything(sessions, ring)
    assert made_by == {1, 2}
    assert (await not_active(sessions, ring, DATA))["people.resident_id"] == len(PEOPLE) - 15

    rest = await reencrypt(sessions, ring, DATA, batch_size=5)
    phones = sum(1 for _, phone in PEOPLE if phone)
    assert [(p.column, p.moved, p.failed, p.finished) for p in rest] == [
        ("people.resident_id", len(PEOPLE) - 15, 0, True),
        ("people.phone", phones, 0, True),
        ("claims.name", len(CLAIMS), 0, True),
    ]
    people, claims, made_by = await everything(sessions, PiiVault({2: two}))  # key 1 gone
    assert made_by == {2}
    assert people == set(PEOPLE)
    assert claims == set(CLAIMS)
    again = await reencrypt(sessions, ring, DATA, batch_size=5)
    assert sum(p.moved for p in again) == 0


async def test_a_ciphertext_moved_to_another_row_is_left_and_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one, two = secret(), secret()
    await add_people(sessions, PiiVault({1: one}))
    async with sessions.begin() as session:
        first, second = (await session.scalars(select(Person).limit(2))).all()
        first.resident_id = second.resident_id  # copied over by hand
    ring = PiiVault({1: one, 2: two})
    report = await reencrypt(sessions, ring, DATA, batch_size=4)
    resident_ids = report[0]
    assert (resident_ids.column, resident_ids.failed, resident_ids.finished) == (
        "people.resident_id",
        1,
        True,
    )
    assert resident_ids.moved == len(PEOPLE) - 1
    async with sessions() as session:
        moved = await session.get(Person, first.person_id)
    assert moved is not None
    with pytest.raises(PiiError, match="does not decrypt"):
        ring.decrypt(moved.resident_id, PERSON_RESIDENT_ID.at(moved.person_id))


async def test_rotating_the_lookup_key_keeps_everyone_findable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one, two = secret(), secret()
    await add_people(sessions, PiiVault({1: one}))
    ring = PiiVault({1: one, 2: two})
    for resident_id, _ in PEOPLE:  # while rotating: found by their key-1 fingerprints
        assert await find(sessions, ring, resident_id) is not None
    assert await find(sessions, PiiVault({2: two}), PEOPLE[0][0]) is None

    first = await rekey(sessions, ring, DATA, batch_size=10, max_batches=1)
    assert [(p.moved, p.finished) for p in first] == [(10, False)]
    for resident_id, _ in PEOPLE:  # half-way: some under key 1, some under key 2
        assert await find(sessions, ring, resident_id) is not None
    rest = await rekey(sessions, ring, DATA, batch_size=10)
    assert [(p.moved, p.failed, p.finished) for p in rest] == [(len(PEOPLE) - 10, 0, True)]
    await reencrypt(sessions, ring, DATA)
    assert set((await not_active(sessions, ring, DATA)).values()) == {0}

    without_one = PiiVault({2: two})
    async with sessions() as session:
        keys = set((await session.scalars(select(Person.person_key))).all())
    assert {key.split(":")[0] for key in keys} == {"2"}
    for resident_id, phone in PEOPLE:
        person = await find(sessions, without_one, resident_id)
        assert person is not None
        stored = without_one.decrypt(person.resident_id, PERSON_RESIDENT_ID.at(person.person_id))
        assert stored == resident_id
        if phone:
            assert person.phone is not None
            assert without_one.decrypt(person.phone, PERSON_PHONE.at(person.person_id)) == phone
