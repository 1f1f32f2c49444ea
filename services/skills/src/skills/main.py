"""Assembly of the skills service: courses and their scarce seats."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, FastAPI
from pydantic import Field

from servicekit import KitSettings, Runtime, UnitOfWork, serve
from servicekit.clock import Clock
from skills import (
    api,
    competitions_api,
    degree_aid_api,
    handlers,
    ladder_api,
    lottery,
    seats,
)
from skills.gate import SeatGate, seat_gate
from skills.rules import DEFAULT_TERMS, SeatTerms


class Settings(KitSettings):
    service_name: str = "skills"
    http_port: int = 8104
    seat_hold_seconds: int = Field(
        default=int(DEFAULT_TERMS.hold.total_seconds()),
        ge=30,
        le=3600,
        description="How long a hold waits for confirmation, unless the session says",
    )
    waitlist_offer_minutes: float = Field(
        default=DEFAULT_TERMS.offer_time.total_seconds() / 60, gt=0
    )
    no_offers_minutes_before_start: float = Field(
        default=DEFAULT_TERMS.no_offers_before_start.total_seconds() / 60, ge=0
    )
    waitlist_cap: int = Field(
        default=DEFAULT_TERMS.waitlist_cap, ge=0, le=10_000, description="Unless the session says"
    )
    seat_sweep_seconds: float = Field(default=1.0, gt=0)
    seat_gate_full_seconds: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="How long Redis alone answers a sold-out session before Postgres is asked "
        "again, if no seat sweep lifts the mark sooner (each sweep lifts the marks of sessions "
        "with a place again)",
    )

    def seat_terms(self) -> SeatTerms:
        return SeatTerms(
            hold=timedelta(seconds=self.seat_hold_seconds),
            offer_time=timedelta(minutes=self.waitlist_offer_minutes),
            no_offers_before_start=timedelta(minutes=self.no_offers_minutes_before_start),
            waitlist_cap=self.waitlist_cap,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, migrations_dir=Path(__file__).with_name("migrations"))
    terms = settings.seat_terms()
    gate = seat_gate(
        runtime.redis,
        # one environment's Redis keys apart from another's
        f"{settings.kafka_topic_prefix}skills:",
        settings.seat_gate_full_seconds,
    )
    for subscription in handlers.subscriptions(terms, runtime.clock):
        runtime.subscribe(subscription)

    async def seat_deadlines() -> None:
        """Lotteries due are drawn; holds and offers past their time end; sessions with a
        place again are no longer answered sold out by the gate."""
        while await lottery.draw_due(runtime.uow, terms, runtime.clock.now()) == seats.SWEEP_BATCH:
            pass  # a full batch drawn: there may be more
        while await seats.end_due(runtime.uow, terms, runtime.clock.now()) == seats.SWEEP_BATCH:
            pass
        await gate.reopen(still_full)

    async def still_full(marked: list[uuid.UUID]) -> set[uuid.UUID]:
        async with runtime.uow() as unit:
            return await seats.still_full(unit, marked, runtime.clock.now())

    runtime.every(settings.seat_sweep_seconds, "seat-deadlines", seat_deadlines)
    return runtime.http_app(
        title="gonghui skills",
        routers=routers(runtime.uow, terms, runtime.clock, gate),
        error_statuses=api.ERROR_STATUSES,
    )


def routers(
    uow: UnitOfWork, terms: SeatTerms, clock: Clock, gate: SeatGate | None = None
) -> list[APIRouter]:
    return [
        *api.routers(uow, terms, clock, gate),
        *degree_aid_api.routers(uow, clock),
        ladder_api.router(uow, clock),
        competitions_api.router(uow, clock),
    ]


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
