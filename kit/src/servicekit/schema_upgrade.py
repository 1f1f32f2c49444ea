"""Bringing a service's database to the newest revision before it starts, in a child process:
Alembic and what a run of migrations loads stay out of the service, whose heap lives as long
as it does (about 10 MiB of every service's resident memory)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

KEPT_OUTPUT_BYTES = 4000


class SchemaUpgradeFailed(RuntimeError):
    pass


async def upgrade_in_child(script_location: Path, database_url: str) -> None:
    """`servicekit migrate` in a child process; the URL (with its password) goes through the
    environment, never the command line that `ps` shows."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "servicekit.cli",
        "migrate",
        str(script_location),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await child.communicate()
    tail = output[-KEPT_OUTPUT_BYTES:].decode(errors="replace")
    if child.returncode != 0:
        raise SchemaUpgradeFailed(
            f"migrating {script_location} failed (exit {child.returncode}):\n{tail}"
        )
    for line in filter(str.strip, tail.splitlines()):
        log.info("migration: %s", line)
