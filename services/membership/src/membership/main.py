"""Assembly of the membership service: settings → runtime → subscriptions and API."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import FastAPI

from membership import api, handlers, models
from servicekit import KitSettings, Runtime, serve
from servicekit.personal_data import LookupColumn, PersonalData, fingerprint_of
from servicekit.pii import PiiVault

MIGRATIONS = Path(__file__).with_name("migrations")
PERSONAL_DATA = PersonalData(
    encrypted=models.ENCRYPTED,
    lookups=(
        LookupColumn(
            models.Member.person_key,
            row=(models.Member.member_id,),
            inputs=(models.Member.resident_id_enc,),
            recompute=fingerprint_of(models.MEMBER_RESIDENT_ID),
        ),
    ),
)


class Settings(KitSettings):
    service_name: str = "membership"
    http_port: int = 8101
    # A join stages three outbox rows: a consumed batch of 500 joins
    # is 1,500 rows, and passes of 1,000 left the relay behind in a burst.
    outbox_batch_size: int = 2000


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, migrations_dir=MIGRATIONS)
    vault = PiiVault.from_settings(settings)
    for subscription in handlers.subscriptions(vault, date.today):
        runtime.subscribe(subscription)
    return runtime.http_app(
        title="gonghui membership",
        routers=[api.router(runtime.uow, vault, date.today)],
        error_statuses=api.ERROR_STATUSES,
    )


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
