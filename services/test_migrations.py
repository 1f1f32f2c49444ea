"""Each service's migrations build exactly the schema of its models and the kit's tables."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from servicekit import migrations
from servicekit.db import inbox_table, kit_metadata, outbox_table
from servicekit.schema_upgrade import SchemaUpgradeFailed, upgrade_in_child

SERVICES = ["membership", "aid", "legal", "skills", "notify"]


def migrations_of(service: str) -> Path:
    """A service's migrations, beside its package's modules."""
    return Path(importlib.import_module(service).__file__ or "").with_name("migrations")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service: str, tmp_path: Path) -> None:
    models = importlib.import_module(f"{service}.models")
    directory = migrations_of(service)
    migrations.upgrade(directory, f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    engine = create_engine(f"sqlite:///{tmp_path}/schema.db")
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection), [kit_metadata, models.Base.metadata]
        )
    engine.dispose()
    assert differences == []


async def test_a_service_migrates_its_database_in_a_child_process(tmp_path: Path) -> None:
    directory = migrations_of("membership")
    url = f"sqlite+aiosqlite:///{tmp_path}/schema.db"
    await upgrade_in_child(directory, url)
    engine = create_engine(f"sqlite:///{tmp_path}/schema.db")
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        [head] = ScriptDirectory.from_config(migrations.alembic_config(directory, url)).get_heads()
        version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    assert {outbox_table.name, inbox_table.name, "members"} <= tables
    assert version == head


async def test_a_failed_migration_stops_the_start_with_what_the_child_said(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-migrations"
    with pytest.raises(SchemaUpgradeFailed) as failed:
        await upgrade_in_child(missing, f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    assert str(missing) in str(failed.value)
    assert "exit 1" in str(failed.value)


@pytest.mark.parametrize("service", SERVICES)
def test_a_running_service_holds_no_alembic(service: str) -> None:
    """What the child process is for: Alembic stays out of the service's heap."""
    probe = (
        f"import sys, {service}.main\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    )
    found = subprocess.run(  # noqa: S603 — this interpreter, a probe written here
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"


async def test_what_the_child_said_goes_to_the_service_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = migrations_of("legal")
    with caplog.at_level(logging.INFO, logger="servicekit.schema_upgrade"):
        await upgrade_in_child(directory, f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    said = [r.getMessage() for r in caplog.records if r.name == "servicekit.schema_upgrade"]
    # (the CLI's console may wrap a long path over lines)
    assert said
    assert said[0].startswith("migration: migrated ")
    assert "to head" in said[-1]
