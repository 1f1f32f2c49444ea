"""Assembly of the aid service: mutual-aid insurance and work-injury visits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from aid import api, funds, handlers, models, service
from aid.injury import api as injury_api
from aid.injury import deadlines, dispatch, intake, registry
from aid.injury.desk import Desk, InjuryTerms
from aid.injury.rules import DEFAULT_CONDOLENCE_YUAN, condolence_schedule
from aid.injury.visitor_index import InMemoryVisitorIndex, RedisVisitorIndex, VisitorIndex
from gonghui_contracts.values import to_cents
from servicekit import KitSettings, Runtime, serve
from servicekit.personal_data import LookupColumn, PersonalData
from servicekit.pii import PiiVault
from servicekit.workload import workload

PERSONAL_DATA = PersonalData(
    encrypted=models.ENCRYPTED,
    lookups=(
        LookupColumn(
            models.InjuryCase.case_key,
            row=(models.InjuryCase.case_id,),
            inputs=(models.InjuryCase.worker_resident_id, models.InjuryCase.injured_on),
            recompute=intake.stored_case_key,
        ),
    ),
)


class Settings(KitSettings):
    service_name: str = "aid"
    http_port: int = 8102
    gift_fund_id: str = "gd-new-form-gift"
    gift_fund_name: str = "广东省职工保障互助会新就业形态劳动者赠送基金"
    gift_fund_budget: Decimal = Field(default=Decimal("30000000.00"), ge=0, description="Yuan")
    insurance_premium: Decimal = Field(
        default=Decimal("60.00"), gt=0, description="Yuan per member-year"
    )
    coverage_check_seconds: float = 60.0

    injury_hospitals_file: Path | None = Field(
        default=None, description="Registry of designated hospitals (default: Shenzhen's 87)"
    )
    injury_visitors_file: Path | None = Field(
        default=None, description="Roster of visitors (default: Shenzhen's 35)"
    )
    condolence_fund_id: str = "sz-injury-condolence"
    condolence_fund_name: str = "深圳市总工会工伤探视慰问金"
    condolence_fund_budget: Decimal = Field(default=Decimal("3000000.00"), ge=0, description="Yuan")
    condolence_schedule: dict[str, int] = Field(
        default=DEFAULT_CONDOLENCE_YUAN,
        description='Yuan by "<severity>/<admission>", e.g. {"minor/outpatient": 100, ...}',
    )
    visit_sla_hours: float = Field(default=24.0, gt=0)
    visit_reminder_hours: float = Field(default=4.0, ge=0)
    visit_accept_minutes: float = Field(default=30.0, gt=0)
    visit_km_per_open_visit: float = Field(
        default=3.0, ge=0, description="Extra distance accepted to spare a busy visitor"
    )
    follow_up_days: tuple[int, ...] = (7, 30, 90)
    follow_up_grace_days: int = Field(default=3, ge=0)
    injury_sweep_seconds: float = Field(default=30.0, gt=0)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, migrations_dir=Path(__file__).with_name("migrations"))
    clock = runtime.clock
    keys = settings.kafka_topic_prefix  # one environment's Redis keys apart from another's
    terms = service.FundTerms(
        fund_id=settings.gift_fund_id,
        name=settings.gift_fund_name,
        budget_cents=to_cents(settings.gift_fund_budget),
        premium_cents=to_cents(settings.insurance_premium),
    )
    hospitals = registry.load_hospitals(settings.injury_hospitals_file)
    roster = registry.load_roster(hospitals, settings.injury_visitors_file)
    visitors: VisitorIndex = (
        RedisVisitorIndex(runtime.redis, f"{keys}aid:")
        if runtime.redis is not None
        else InMemoryVisitorIndex()
    )
    desk = Desk(
        InjuryTerms(
            hospitals=hospitals,
            condolence=condolence_schedule(settings.condolence_schedule),
            fund_id=settings.condolence_fund_id,
            visit_sla=timedelta(hours=settings.visit_sla_hours),
            reminder_before=timedelta(hours=settings.visit_reminder_hours),
            accept_within=timedelta(minutes=settings.visit_accept_minutes),
            km_per_open_visit=settings.visit_km_per_open_visit,
            follow_up_days=settings.follow_up_days,
            follow_up_grace_days=settings.follow_up_grace_days,
        ),
        PiiVault.from_settings(settings),
        clock,
        visitors,
        workload(runtime.redis, f"{keys}aid:visitor-open-visits"),
    )
    for subscription in handlers.subscriptions(terms, desk):
        runtime.subscribe(subscription)

    async def prepare() -> None:
        async with runtime.uow() as unit:
            await service.open_fund(unit, terms)
            await funds.open_fund(
                unit,
                settings.condolence_fund_id,
                settings.condolence_fund_name,
                to_cents(settings.condolence_fund_budget),
                at=clock.now(),
            )
            await dispatch.seed_roster(desk, unit, roster)

    async def end_finished_coverage() -> None:
        async with runtime.uow() as unit:
            await service.end_finished_coverage(unit, clock.today())

    async def sweep_injuries() -> None:
        async with runtime.uow() as unit:
            await deadlines.sweep(desk, unit)

    async def measure_funds() -> None:
        async with runtime.uow() as unit:
            await funds.measure(unit)

    runtime.on_start(prepare)
    runtime.every(settings.coverage_check_seconds, "end-finished-coverage", end_finished_coverage)
    runtime.every(settings.coverage_check_seconds, "fund-gauges", measure_funds)
    runtime.every(settings.injury_sweep_seconds, "injury-deadlines", sweep_injuries)
    return runtime.http_app(
        title="gonghui aid",
        routers=[api.router(runtime.uow), *injury_api.routers(runtime.uow, desk)],
        error_statuses=api.ERROR_STATUSES,
    )


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
