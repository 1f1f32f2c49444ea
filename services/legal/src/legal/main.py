"""Assembly of the legal service (labour disputes and legal aid): settings → runtime → HTTP app."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from gonghui_contracts.values import CaseStage
from legal import api, assignment, deadlines, handlers, intake, models, registry
from legal.desk import Desk, LegalTerms
from legal.errors import ERROR_STATUSES
from legal.rules.chain import DEFAULT_STAGE_DAYS, ChainTerms
from legal.rules.letters import SupervisionTerms
from legal.rules.matching import Station
from legal.rules.warnings import WarningTerms
from legal.windows import windows
from servicekit import KitSettings, Runtime, serve
from servicekit.personal_data import LookupColumn, PersonalData
from servicekit.pii import PiiVault

PERSONAL_DATA = PersonalData(
    encrypted=models.ENCRYPTED,
    lookups=(
        LookupColumn(
            models.DisputeCase.open_key,
            row=(models.DisputeCase.case_id,),
            inputs=(models.DisputeCase.employer_code, models.DisputeCase.kind),
            recompute=intake.stored_open_key,
        ),
    ),
)


class Settings(KitSettings):
    service_name: str = "legal"
    http_port: int = 8103
    # A filing may name 2,000 workers: batches of 100 filings keep a burst's memory in bounds
    # (with the kit's 500, legal went past 150 MiB in the bench, and assigned no faster).
    kafka_consume_batch_size: int = Field(default=100, ge=1)
    legal_registry_file: Path | None = Field(
        default=None, description="Stations and lawyers (default: the shipped Guangdong sample)"
    )
    lawyer_accept_minutes: float = Field(default=120.0, gt=0)
    stage_days: dict[CaseStage, int] = Field(
        default=dict(DEFAULT_STAGE_DAYS), description='Days per stage, e.g. {"mediation": 15}'
    )
    arbitration_extension_days: int = Field(default=15, ge=0)
    limitation_years: int = Field(default=1, ge=1)
    stage_reminder_days: int = Field(default=3, ge=0)
    limitation_reminder_days: int = Field(default=30, ge=0)
    warning_window_days: int = Field(default=30, ge=1)
    warning_employer_filings: int = Field(default=3, ge=1)
    warning_employer_workers: int = Field(default=30, ge=1)
    warning_hotspot_window_days: int = Field(default=7, ge=1)
    warning_hotspot_filings: int = Field(default=10, ge=1)
    letter_repeat_cases: int = Field(default=3, ge=1)
    letter_period_days: int = Field(default=365, ge=1)
    letter_respond_days: int = Field(default=30, ge=1)
    legal_sweep_seconds: float = Field(default=30.0, gt=0)


def terms(settings: Settings, stations: Mapping[str, Station]) -> LegalTerms:
    return LegalTerms(
        stations=stations,
        chain=ChainTerms(
            stage_days={**DEFAULT_STAGE_DAYS, **settings.stage_days},
            extension_days={CaseStage.ARBITRATION: settings.arbitration_extension_days},
            limitation_years=settings.limitation_years,
            reminder_days=settings.stage_reminder_days,
            limitation_reminder_days=settings.limitation_reminder_days,
        ),
        warnings=WarningTerms(
            window=timedelta(days=settings.warning_window_days),
            employer_filings=settings.warning_employer_filings,
            employer_workers=settings.warning_employer_workers,
            hotspot_window=timedelta(days=settings.warning_hotspot_window_days),
            hotspot_filings=settings.warning_hotspot_filings,
        ),
        supervision=SupervisionTerms(
            repeat_cases=settings.letter_repeat_cases,
            period=timedelta(days=settings.letter_period_days),
            respond_days=settings.letter_respond_days,
        ),
        accept_within=timedelta(minutes=settings.lawyer_accept_minutes),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, migrations_dir=Path(__file__).with_name("migrations"))
    keys = settings.kafka_topic_prefix  # one environment's Redis keys apart from another's
    stations, lawyers = registry.load(settings.legal_registry_file)
    desk = Desk(
        terms(settings, stations),
        PiiVault.from_settings(settings),
        runtime.clock,
        windows(runtime.redis, f"{keys}legal:window:"),
    )
    for subscription in handlers.subscriptions(desk):
        runtime.subscribe(subscription)

    async def prepare() -> None:
        async with runtime.uow() as unit:
            await assignment.seed_lawyers(unit, lawyers)

    async def sweep() -> None:
        async with runtime.uow() as unit:
            await deadlines.sweep(desk, unit)

    runtime.on_start(prepare)
    runtime.every(settings.legal_sweep_seconds, "legal-deadlines", sweep)
    return runtime.http_app(
        title="gonghui legal",
        routers=api.routers(runtime.uow, desk),
        error_statuses=ERROR_STATUSES,
    )


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
