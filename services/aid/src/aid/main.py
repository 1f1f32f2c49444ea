"""Assembly of the aid service (mutual-aid insurance; work-injury visits to come)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from aid import api, handlers, service
from aid.domain import to_cents
from servicekit import KitSettings, Runtime, serve


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


def create_app(settings: Settings | None = None, today: Callable[[], date] = date.today) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, migrations_dir=Path(__file__).with_name("migrations"))
    terms = service.FundTerms(
        fund_id=settings.gift_fund_id,
        name=settings.gift_fund_name,
        budget_cents=to_cents(settings.gift_fund_budget),
        premium_cents=to_cents(settings.insurance_premium),
    )
    for subscription in handlers.subscriptions(terms):
        runtime.subscribe(subscription)

    async def open_fund() -> None:
        async with runtime.uow() as unit:
            await service.open_fund(unit, terms)

    async def end_finished_coverage() -> None:
        async with runtime.uow() as unit:
            await service.end_finished_coverage(unit, today())

    runtime.on_start(open_fund)
    runtime.every(settings.coverage_check_seconds, "end-finished-coverage", end_finished_coverage)
    return runtime.http_app(
        title="gonghui aid", routers=[api.router(runtime.uow)], error_statuses=api.ERROR_STATUSES
    )


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
