"""A background loop that runs a step again at once while there is more to do, sleeps when
there is not, and can be woken early (after a commit) instead of waiting for its timer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[bool]]  # returns True when there is more to do right away


class WakeableLoop:
    def __init__(self, name: str, step: Step, idle_seconds: float) -> None:
        self.name = name
        self.step = step
        self.idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Let the current step finish, then end the loop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.step()
                failures = 0
            except Exception:
                failures += 1
                log.exception("%s failed (%d in a row); trying again", self.name, failures)
                await asyncio.sleep(min(0.2 * 2**failures, 10.0))
                continue
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_seconds)
