"""The personal-data key ring in membership: members who joined under key 1 stay findable while
key 2 comes in, `servicekit pii` moves their data and fingerprints to key 2, and key 1 can go."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gonghui_contracts.events import JoinRequested
from gonghui_contracts.values.resident_id import check_character
from membership import service
from membership.models import MEMBER_PHONE, MEMBER_RESIDENT_ID, Base
from servicekit import UnitOfWork, db
from servicekit.cli import app
from servicekit.pii import PiiVault, key_id_of

TODAY = date(2026, 11, 27)
PEOPLE = [
    (base + check_character(base), f"1380013{n:04d}")
    for n in range(12)
    for base in [f"44010619900101{n:03d}"]
]


def request(resident_id: str, phone: str) -> JoinRequested:
    return JoinRequested(
        request_ref=f"app-{uuid.uuid4().hex}",
        partner_id="app",
        channel="county_qr",
        name="王五",
        resident_id=resident_id,
        phone=phone,
        region_code="440111",
        industry="express_delivery",
    )


async def join_all(url: str, vault: PiiVault, people: list[tuple[str, str]]) -> list[str]:
    engine = db.create_engine(url)
    async with engine.begin() as connection:
        for tables in (db.kit_metadata, Base.metadata):
            await connection.run_sync(tables.create_all)
    uow = UnitOfWork(db.session_factory(engine), "membership")
    outcomes: list[str] = []
    for resident_id, phone in people:
        async with uow() as unit:
            outcomes.append(
                (await service.join(unit, vault, request(resident_id, phone), TODAY)).outcome
            )
    await engine.dispose()
    return outcomes


async def stored(url: str, vault: PiiVault) -> dict[str, tuple[str, str, int]]:
    """Each member found by resident ID with this vault: fingerprint, phone, phone's key id."""
    engine = db.create_engine(url)
    uow, found = UnitOfWork(db.session_factory(engine), "membership"), {}
    for resident_id, _ in PEOPLE:
        async with uow() as unit:
            member = await service.find_person(unit, vault, resident_id)
        if member is not None:
            place = MEMBER_RESIDENT_ID.at(member.member_id)
            assert vault.decrypt(member.resident_id_enc, place) == resident_id
            phone = vault.decrypt(member.phone_enc, MEMBER_PHONE.at(member.member_id))
            found[resident_id] = (member.person_key, phone, key_id_of(member.phone_enc))
    await engine.dispose()
    return found


def pii(url: str, keys: dict[int, bytes], *args: str) -> str:
    ring = json.dumps({str(k): base64.b64encode(v).decode() for k, v in keys.items()})
    result = CliRunner().invoke(
        app, ["pii", *args], env={"DATABASE_URL": url, "PII_KEYS": ring}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def left(status: str) -> dict[str, int]:
    """The table of `servicekit pii status`: column → values not under the active key."""
    cells = [line.split("│") for line in status.splitlines() if "│" in line]
    return {row[1].strip(): int(row[2]) for row in cells if row[1].strip() != "column"}


def test_members_stay_findable_through_a_key_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PII_KEY", "PII_ACTIVE_KEY", "PII_ALLOW_DEVELOPMENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path}/membership.db"
    one, two = os.urandom(32), os.urandom(32)
    old, ring, new = PiiVault({1: one}), PiiVault({1: one, 2: two}), PiiVault({2: two})
    first, later = PEOPLE[:10], PEOPLE[10:]
    assert asyncio.run(join_all(url, old, first)) == ["joined"] * 10

    # Key 2 is in the ring and active: the members of key 1 are found, not joined again.
    assert asyncio.run(join_all(url, ring, PEOPLE)) == ["already_member"] * 10 + ["joined"] * 2
    during = asyncio.run(stored(url, ring))
    assert {rid: key[:2] for rid, (key, _, _) in during.items()} == {
        **{rid: "1:" for rid, _ in first},
        **{rid: "2:" for rid, _ in later},
    }
    assert len(asyncio.run(stored(url, new))) == 2  # without key 1, only the later ones

    stopped = pii(
        url, {1: one, 2: two}, "reencrypt", "membership", "--batch-size", "4", "--max-batches", "1"
    )
    assert "run the command again" in stopped
    assert left(pii(url, {1: one, 2: two}, "status", "membership")) == {
        "members.resident_id_enc": 6,  # 4 of 10 re-encrypted by the stopped run
        "members.phone_enc": 10,
        "members.name_enc": 10,
        "members.person_key": 10,
    }
    pii(url, {1: one, 2: two}, "reencrypt", "membership", "--batch-size", "4")
    pii(url, {1: one, 2: two}, "rekey", "membership", "--batch-size", "4")
    assert set(left(pii(url, {1: one, 2: two}, "status", "membership")).values()) == {0}

    after = asyncio.run(stored(url, new))  # key 1 has left the ring
    assert set(after) == {rid for rid, _ in PEOPLE}
    assert {rid: phone for rid, (_, phone, _) in after.items()} == dict(PEOPLE)
    assert {key[:2] for key, _, _ in after.values()} == {"2:"}
    assert {made_by for _, _, made_by in after.values()} == {2}
    assert asyncio.run(join_all(url, new, PEOPLE)) == ["already_member"] * 12
