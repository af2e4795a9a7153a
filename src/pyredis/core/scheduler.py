"""The scheduler interface: how layers below server/ ask for time without knowing asyncio.

Blocking timeouts, busy-script slices, the BCAST tracking flush, the AOF group commit and
serving clients after a blocked command all wait for something. server/ owns the event loop
and implements this interface (server/scheduler.py: LoopScheduler); ServerState.scheduler is
None when a state is driven without a loop (AOF loading tools, unit tests), and callers then
do the work at once or not at all, as each one documents.

API:
    sched.call_soon(fn, *args)              # after the current callback, in this loop iteration or the next
    handle = sched.call_later(delay_s, fn, *args); handle.cancel()
    sched.before_sleep(fn)                  # once, after every read of this loop iteration (Redis's beforeSleep);
                                            # registering the same fn twice in one iteration runs it once
"""

from __future__ import annotations

from typing import Any, Callable, Protocol


class Handle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None: ...

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> Handle: ...

    def before_sleep(self, fn: Callable[[], Any]) -> None: ...
