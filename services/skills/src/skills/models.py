"""skills's tables (the kit's outbox and inbox live beside them)."""

from __future__ import annotations

from servicekit.db import new_metadata
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = new_metadata()
