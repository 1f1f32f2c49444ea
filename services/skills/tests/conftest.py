"""What the skills tests share: a unit of work on a fresh SQLite file, and members joining."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gonghui_contracts.events import MemberJoined
from gonghui_contracts.values import Industry, JoinChannel
from servicekit import UnitOfWork
from servicekit.app import install_error_handlers
from servicekit.clock import Clock
from servicekit.identity import Caller, authenticated
from servicekit.testing import sqlite_sessions
from skills import api, main, members
from skills.models import Base
from skills.rules import DEFAULT_TERMS

Join = Callable[[UnitOfWork], Awaitable[uuid.UUID]]


async def join(uow: UnitOfWork) -> uuid.UUID:
    """A new member of a Futian union, as membership's event tells skills."""
    member_id = uuid.uuid4()
    async with uow() as unit:
        await members.joined(
            unit,
            [
                MemberJoined(
                    member_id=member_id,
                    union_id="440304-union",
                    region_code="440304",
                    city_code="440300",
                    industry=Industry.EXPRESS_DELIVERY,
                    new_employment_form=True,
                    channel=JoinChannel.APP,
                    joined_on=date(2026, 11, 1),
                )
            ],
        )
    return member_id


def http_client(uow: UnitOfWork, clock: Clock, caller: dict[str, Caller]) -> httpx.AsyncClient:
    """skills's whole HTTP API in process, called as `caller["as"]` (changed at will)."""
    app = FastAPI()
    install_error_handlers(app, api.ERROR_STATUSES)
    for router in main.routers(uow, DEFAULT_TERMS, clock):
        app.include_router(router)
    app.dependency_overrides[authenticated] = lambda: caller["as"]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://skills")


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[UnitOfWork]:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        yield UnitOfWork(sessions, "skills")


@pytest.fixture
def new_member() -> Join:
    return join
