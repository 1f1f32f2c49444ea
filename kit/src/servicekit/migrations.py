"""Alembic, the same way for every service: migrations live in the service's package, and the
kit's tables (outbox, inbox) are part of every service's schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlalchemy.schema import CreateTable, DropTable

from servicekit.db import inbox_table, kit_metadata, outbox_parked_table, outbox_table


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(script_location: Path, database_url: str) -> None:
    """Bring the database to the newest revision (`servicekit migrate`, which a service runs in a
    child process before it starts)."""
    command.upgrade(alembic_config(script_location, database_url), "head")


def run_env(service_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    targets = [kit_metadata, service_metadata]
    url = context.config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=targets, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=targets,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = async_engine_from_config(
            {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(online())


def autogenerate(script_location: Path, message: str) -> None:
    """Write a new revision with the difference between the models and the migrations so far,
    computed against a scratch SQLite database."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        config = alembic_config(script_location, f"sqlite+aiosqlite:///{scratch}/scratch.db")
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


def create_kit_tables() -> None:
    """For a service's first migration: the kit's outbox and inbox, defined once in the kit."""
    op.execute(CreateTable(outbox_table))
    op.execute(CreateTable(inbox_table))


def create_outbox_parking() -> None:
    """Where the relay sets aside records the broker can never take (added after the first)."""
    op.execute(CreateTable(outbox_parked_table))


def drop_outbox_parking() -> None:
    op.execute(DropTable(outbox_parked_table))


def drop_kit_tables() -> None:
    op.execute(DropTable(inbox_table))
    op.execute(DropTable(outbox_table))
