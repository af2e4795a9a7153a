"""CLIENT PAUSE / CLIENT UNPAUSE, as Redis 7.0 (networking.c pauseClients and friends).

A pause has a type, WRITE or ALL, and an end time (the server clock, ms). While it lasts,
dispatch's `pause` step (after `busy`, before MULTI queueing) holds every command of a client
under ALL, and under WRITE the commands that may write or replicate: write commands, EXEC of
a transaction that queued one, EVAL/EVALSHA/FCALL unless the script declares no-writes,
PUBLISH, SPUBLISH, PFCOUNT (core/cmdflags.may_replicate); in 7.0 queueing such a command
inside MULTI is held too, since the step comes before queueing. A held client waits like a
blocked client (core/blocking: flag b in CLIENT LIST, counted in blocked_clients), with a
marker whose `rerun` is the command: when the pause ends, or becomes less restrictive (ALL to
WRITE), the held clients are released in the order they were held and their commands go
through dispatch again (they may be held again). A pause that starts inside EXEC (or a
script) does not stop the rest of it: EXEC runs its commands through call(), not the steps.

While clients are paused the dataset stays as it is: the active expiry cycle does not run,
and a lookup of an expired key answers "no such key" without deleting it (expireIfNeeded);
`paused()` (Redis's checkClientPauseTimeoutAndReturnIfPaused) is what eviction asks too.

API:
    state.pause -> ClientPause
    pause.pause(end_ms, kind)     kind PAUSE_WRITE | PAUSE_ALL; a pause in progress keeps the
                                  later end and the more restrictive kind
    pause.unpause()
    pause.failover(on)            FAILOVER's own write pause (until it completes or aborts)
    pause.paused() -> bool        any pause in progress (ends a pause whose time is over)
    pause.holds(c, spec, argv) -> bool; pause.hold(c, argv) -> Blocked   (the dispatch step)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .blocking import Blocked, manager
from .cmdflags import may_replicate

if TYPE_CHECKING:
    from .client import Client
    from .spec import CommandSpec
    from .state import ServerState

PAUSE_OFF, PAUSE_WRITE, PAUSE_ALL = 0, 1, 2


class Rerun:
    """What a held client is released with: its command, to run again from the start."""

    __slots__ = ("argv",)

    def __init__(self, argv: list[bytes]) -> None:
        self.argv = argv


class ClientPause:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.kind = PAUSE_OFF  # the CLIENT PAUSE purpose
        self.end = 0
        # the FAILOVER purpose (PAUSE_DURING_FAILOVER): writes held, no end, until the
        # failover completes or is aborted
        self.failover_on = False
        self.timer = None
        self.held: dict[int, Client] = {}  # client id -> client, in the order they were held

    # --- pausing -------------------------------------------------------------------------
    def pause(self, end_ms: int, kind: int) -> None:
        """pauseClients(PAUSE_BY_CLIENT_COMMAND, end, type)."""
        if self.kind == PAUSE_OFF:
            self.kind, self.end = kind, end_ms
        else:
            self.kind, self.end = max(self.kind, kind), max(self.end, end_ms)
        self._update()

    def unpause(self) -> None:
        old = self.level
        self.kind, self.end = PAUSE_OFF, 0
        self._changed(old)

    def failover(self, on: bool) -> None:
        """pauseClients / unpauseClients(PAUSE_DURING_FAILOVER): FAILOVER holds writes while it
        waits for its target (core/replication.py); CLIENT UNPAUSE does not end that."""
        old = self.level
        self.failover_on = on
        self._changed(old)

    @property
    def level(self) -> int:
        """The most restrictive of the purposes in force."""
        return max(self.kind, PAUSE_WRITE) if self.failover_on else self.kind

    def paused(self) -> bool:
        if self.failover_on:
            return True
        if self.kind == PAUSE_OFF:
            return False
        if self.end < self.state.clock_ms():
            self._update()
        return self.kind != PAUSE_OFF

    def _update(self) -> None:
        """updateClientPauseTypeAndEndTime: a pause whose end has passed is over."""
        old = self.level
        if self.kind != PAUSE_OFF and self.end < self.state.clock_ms():
            self.kind, self.end = PAUSE_OFF, 0
        self._changed(old)

    def _changed(self, old: int) -> None:
        from .dispatch import GATE_PAUSE

        st = self.state
        on = self.level != PAUSE_OFF
        st.set_gate(GATE_PAUSE, on)
        keep = on or st.repl.masterhost is not None  # a replica keeps them for its master's DEL
        for db in st.dbs:
            db.keep_expired = keep
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.kind != PAUSE_OFF and st.scheduler is not None:
            self.timer = st.scheduler.call_later((self.end - st.clock_ms() + 1) / 1000.0, self._update)
        if self.level < old:
            self._release()

    # --- holding clients ------------------------------------------------------------------
    def holds(self, c: Client, spec: CommandSpec, argv: list[bytes]) -> bool:
        """The dispatch step's question: must this command wait for the pause to end?"""
        if not self.paused():
            return False
        return self.level == PAUSE_ALL or may_replicate(c, spec, argv)

    def hold(self, c: Client, argv: list[bytes]) -> Blocked:
        """blockClient(c, BLOCKED_POSTPONE): the connection registers the marker with the
        blocking manager; the command runs again once the client is released."""
        self.held[c.id] = c
        marker = Blocked((), 0, None, None)
        marker.rerun = argv
        return marker

    def _release(self) -> None:
        """unblockPostponedClients: every held client, in order, runs its command again."""
        held, self.held = self.held, {}
        bl = manager(self.state)
        for cid, c in held.items():
            if c.blocked is not None and c.blocked.marker.rerun is not None:
                bl.release(cid, Rerun(c.blocked.marker.rerun))
