"""LoopScheduler: core/scheduler.py's interface on the server's asyncio event loop.

before_sleep(fn) runs fn once after the callbacks of the current loop iteration (the reads of
every ready client), as Redis's beforeSleep: asyncio has no such hook, so the first
registration of an iteration schedules one call_soon that runs everything registered.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable


class LoopScheduler:
    __slots__ = ("loop", "_before", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._before: list[Callable[[], Any]] = []
        self._pending = False

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon(fn, *args)

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        return self.loop.call_later(max(delay_s, 0.0), fn, *args)

    def before_sleep(self, fn: Callable[[], Any]) -> None:
        if fn in self._before:
            return
        self._before.append(fn)
        if not self._pending:
            self._pending = True
            self.loop.call_soon(self._run_before_sleep)

    def _run_before_sleep(self) -> None:
        self._pending = False
        fns, self._before = self._before, []
        for fn in fns:
            fn()
