"""skills's tables (the kit's outbox and inbox live beside them)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from servicekit.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
