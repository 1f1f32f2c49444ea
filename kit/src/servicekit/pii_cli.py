"""`servicekit pii`: a service's personal data moved to the active key of its key ring.

The service's settings come from the environment, as the service reads them (DATABASE_URL,
PII_KEYS, PII_KEY, PII_ACTIVE_KEY); SERVICE is the service's name (its declaration is
`<name>.main:PERSONAL_DATA`) or `module:ATTRIBUTE`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit import db
from servicekit.personal_data import PersonalData, Progress, not_active, reencrypt, rekey
from servicekit.pii import PiiVault
from servicekit.settings import KitSettings

pii_app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()
T = TypeVar("T")

Service = Annotated[
    str, typer.Argument(help="A service's name (membership, aid, legal) or module:ATTRIBUTE")
]
BatchSize = Annotated[int, typer.Option(min=1, help="Rows per committed transaction")]
MaxBatches = Annotated[
    int | None, typer.Option(min=1, help="Stop after this many batches; the next run resumes")
]


def declaration(service: str) -> PersonalData:
    module_name, _, attribute = service.partition(":")
    if "." not in module_name and not attribute:
        module_name = f"{module_name}.main"
    declared = getattr(importlib.import_module(module_name), attribute or "PERSONAL_DATA", None)
    if not isinstance(declared, PersonalData):
        raise typer.BadParameter(f"{service} declares no PersonalData")
    return declared


Sessions = async_sessionmaker[AsyncSession]


def _run(
    service: str, work: Callable[[Sessions, PiiVault, PersonalData], Awaitable[T]]
) -> tuple[int, T]:
    data = declaration(service)
    settings = KitSettings(service_name=service.partition(":")[0].split(".")[0])
    vault = PiiVault.from_settings(settings)

    async def run() -> T:
        engine = db.create_engine(settings.database_url)
        try:
            return await work(db.session_factory(engine), vault, data)
        finally:
            await engine.dispose()

    return vault.active_id, asyncio.run(run())


def _show(report: list[Progress], active: int, verb: str) -> None:
    table = Table("column", verb, "unreadable", "done")
    for progress in report:
        table.add_row(
            progress.column, str(progress.moved), str(progress.failed), _yes(progress.finished)
        )
    console.print(table)
    console.print(f"active key: {active}")
    if not report or not all(p.finished for p in report):
        console.print("[yellow]stopped before the end: run the command again to go on[/yellow]")
    if any(p.failed for p in report):
        console.print("[red]some values could not be read with this key ring: left as they are")
        raise typer.Exit(1)


def _yes(flag: bool) -> str:
    return "yes" if flag else "[yellow]no[/yellow]"


@pii_app.command("reencrypt")
def reencrypt_command(
    service: Service, batch_size: BatchSize = 500, max_batches: MaxBatches = None
) -> None:
    """Re-encrypt with the active key every ciphertext another key of the ring made."""

    async def work(sessions: Sessions, vault: PiiVault, data: PersonalData) -> list[Progress]:
        return await reencrypt(
            sessions, vault, data, batch_size=batch_size, max_batches=max_batches
        )

    active, report = _run(service, work)
    _show(report, active, "re-encrypted")


@pii_app.command("rekey")
def rekey_command(
    service: Service, batch_size: BatchSize = 500, max_batches: MaxBatches = None
) -> None:
    """Make the lookup values (fingerprints) again with the active key."""

    async def work(sessions: Sessions, vault: PiiVault, data: PersonalData) -> list[Progress]:
        return await rekey(sessions, vault, data, batch_size=batch_size, max_batches=max_batches)

    active, report = _run(service, work)
    _show(report, active, "re-keyed")


@pii_app.command("status")
def status_command(service: Service) -> None:
    """By column, the values the active key did not make (0 everywhere: old keys can go)."""
    active, counts = _run(service, not_active)
    table = Table("column", f"not under the active key ({active})")
    for column, count in counts.items():
        table.add_row(column, str(count))
    console.print(table)
