"""Assembly of the aid service: mutual-aid insurance and work-injury visits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from pydantic import Field, SecretStr, model_validator

from aid import api, funds, handlers, models, service
from aid.claims import api as claims_api
from aid.claims import payments
from aid.claims.desk import ClaimsDesk
from aid.claims.rules import DEFAULT_TERMS as TERMS
from aid.claims.rules import ClaimTerms
from aid.injury import api as injury_api
from aid.injury import deadlines, dispatch, intake, registry
from aid.injury.desk import Desk, InjuryTerms
from aid.injury.rules import DEFAULT_CONDOLENCE_YUAN, condolence_schedule
from aid.injury.visitor_index import InMemoryVisitorIndex, RedisVisitorIndex, VisitorIndex
from gonghui_contracts.values import to_cents, to_yuan
from servicekit import KitSettings, Runtime, serve
from servicekit.personal_data import LookupColumn, PersonalData, fingerprint_of
from servicekit.pii import PiiVault
from servicekit.webhooks import WebhookPoster
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
        LookupColumn(
            models.InjuryCase.worker_key,
            row=(models.InjuryCase.case_id,),
            inputs=(models.InjuryCase.worker_resident_id,),
            recompute=fingerprint_of(models.CASE_WORKER_RESIDENT_ID),
        ),
        LookupColumn(
            models.InsuredPerson.person_key,
            row=(models.InsuredPerson.member_id,),
            inputs=(models.InsuredPerson.resident_id,),
            recompute=fingerprint_of(models.INSURED_RESIDENT_ID),
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

    claims_fund_id: str = "gd-mutual-aid-claims"
    claims_fund_name: str = "广东省职工保障互助会住院医疗互助金"
    claims_fund_budget: Decimal = Field(default=Decimal("130000000.00"), ge=0, description="Yuan")
    claim_deductible: Decimal = Field(
        default=to_yuan(TERMS.deductible_cents), ge=0, description="Yuan a stay"
    )
    claim_rate: Decimal = Field(default=Decimal(TERMS.rate_permille) / 1000, ge=0, le=1)
    claim_serious_rate: Decimal = Field(
        default=Decimal(TERMS.serious_rate_permille) / 1000, ge=0, le=1
    )
    claim_yearly_cap: Decimal = Field(
        default=to_yuan(TERMS.yearly_cap_cents),
        ge=0,
        description="Yuan per member and policy year",
    )
    claim_auto_limit: Decimal = Field(
        default=to_yuan(TERMS.auto_limit_cents),
        ge=0,
        description="Yuan: a payout above it is reviewed",
    )
    illness_condolence: Decimal = Field(
        default=to_yuan(TERMS.condolence_cents), ge=0, description="Yuan"
    )
    illness_condolence_cost: Decimal = Field(
        default=to_yuan(TERMS.condolence_cost_cents),
        gt=0,
        description="Yuan: a stay this costly is serious",
    )
    illness_condolence_fund_id: str = "gd-illness-condolence"
    illness_condolence_fund_name: str = "广东省职工保障互助会大病慰问金"
    illness_condolence_fund_budget: Decimal = Field(
        default=Decimal("5000000.00"), ge=0, description="Yuan"
    )
    relief_line: Decimal = Field(
        default=to_yuan(TERMS.relief_line_cents),
        gt=0,
        description="Yuan: a member's own costs in a policy year, after payouts, that open a "
        "relief case",
    )
    payment_channel: Literal["sink", "webhook"] = "sink"
    payment_sink_path: Path = Path("payments.jsonl")
    payment_webhook_url: str = ""
    payment_webhook_secret: SecretStr = SecretStr("")
    payment_attempts: int = Field(default=5, ge=1, le=50)
    payment_retry_seconds: float = Field(default=30.0, gt=0)
    payment_sweep_seconds: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _webhook_is_configured(self) -> Settings:
        if self.payment_channel == "webhook" and not (
            self.payment_webhook_url and self.payment_webhook_secret.get_secret_value()
        ):
            raise ValueError(
                "PAYMENT_CHANNEL=webhook needs PAYMENT_WEBHOOK_URL and PAYMENT_WEBHOOK_SECRET"
            )
        return self

    def claim_terms(self) -> ClaimTerms:
        return ClaimTerms(
            deductible_cents=to_cents(self.claim_deductible),
            rate_permille=int(self.claim_rate * 1000),
            serious_rate_permille=int(self.claim_serious_rate * 1000),
            yearly_cap_cents=to_cents(self.claim_yearly_cap),
            auto_limit_cents=to_cents(self.claim_auto_limit),
            condolence_cents=to_cents(self.illness_condolence),
            condolence_cost_cents=to_cents(self.illness_condolence_cost),
            relief_line_cents=to_cents(self.relief_line),
        )

    def payment_channel_in_use(self) -> payments.PaymentChannel:
        if self.payment_channel == "webhook":
            secret = self.payment_webhook_secret.get_secret_value().encode()
            return payments.WebhookPayments(WebhookPoster(self.payment_webhook_url, secret))
        return payments.SinkPayments(self.payment_sink_path)


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
    claims = ClaimsDesk(
        terms=settings.claim_terms(),
        fund_id=settings.claims_fund_id,
        condolence_fund_id=settings.illness_condolence_fund_id,
        vault=desk.vault,
        clock=clock,
    )
    channel = settings.payment_channel_in_use()
    retries = payments.Retries(
        settings.payment_attempts, timedelta(seconds=settings.payment_retry_seconds)
    )
    for subscription in handlers.subscriptions(terms, desk, claims):
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
            for fund_id, name, budget in (
                (settings.claims_fund_id, settings.claims_fund_name, settings.claims_fund_budget),
                (
                    settings.illness_condolence_fund_id,
                    settings.illness_condolence_fund_name,
                    settings.illness_condolence_fund_budget,
                ),
            ):
                await funds.open_fund(unit, fund_id, name, to_cents(budget), at=clock.now())

    async def end_finished_coverage() -> None:
        async with runtime.uow() as unit:
            await service.end_finished_coverage(unit, clock.today())

    async def sweep_injuries() -> None:
        async with runtime.uow() as unit:
            await deadlines.sweep(desk, unit)

    async def measure_funds() -> None:
        async with runtime.uow() as unit:
            await funds.measure(unit)

    async def pay_claims() -> None:
        while await payments.pay_due(claims, runtime.uow, channel, retries) == payments.BATCH:
            pass  # a full batch paid: there may be more

    runtime.on_start(prepare)
    runtime.every(settings.payment_sweep_seconds, "claim-payments", pay_claims)
    runtime.every(settings.coverage_check_seconds, "end-finished-coverage", end_finished_coverage)
    runtime.every(settings.coverage_check_seconds, "fund-gauges", measure_funds)
    runtime.every(settings.injury_sweep_seconds, "injury-deadlines", sweep_injuries)
    return runtime.http_app(
        title="gonghui aid",
        routers=[
            api.router(runtime.uow),
            *injury_api.routers(runtime.uow, desk),
            claims_api.router(runtime.uow, claims),
        ],
        error_statuses=api.ERROR_STATUSES,
    )


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
