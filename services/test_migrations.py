"""Each service's migrations build exactly the schema of its models and the kit's tables."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from servicekit import migrations
from servicekit.db import kit_metadata

SERVICES = ["membership", "aid", "legal", "skills", "notify"]


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service: str, tmp_path: Path) -> None:
    package = importlib.import_module(service)
    models = importlib.import_module(f"{service}.models")
    directory = Path(package.__file__).with_name("migrations")
    migrations.upgrade(directory, f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    engine = create_engine(f"sqlite:///{tmp_path}/schema.db")
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection), [kit_metadata, models.Base.metadata]
        )
    engine.dispose()
    assert differences == []
