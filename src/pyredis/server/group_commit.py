"""GroupCommit: replies leave only after the AOF has the writes they acknowledge, as Redis's
beforeSleep writes the AOF (flushAppendOnlyFile) before it writes replies to clients.

With appendfsync everysec or no, a reply waits only for the write of the AOF buffer, done at
once. With appendfsync always it also waits for the fsync, which is shared: the output of every
client served in this loop iteration is held, and one before-sleep step writes and fsyncs the
AOF once for all of them, then releases their output (group commit). While the AOF cannot be
written nothing is acknowledged: the held clients wait for the retry, every RETRY_S seconds.

The AOF itself is persistence's (Persistence.flush_aof / fsync_before_reply); holding and
releasing output is the server's.

API (server/connection.py, while state.aof_buf holds writes or the connection holds output):
    gc = GroupCommit(state)
    gc.hold(conn, data) -> bool    # True: data waits in conn.deferred for the commit
    gc.release(conn)               # a connection closing: write the AOF, send what it holds
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.state import ServerState
    from .connection import Connection

RETRY_S = 0.1


class GroupCommit:
    __slots__ = ("state", "held", "scheduled")

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.held: list[Connection] = []
        self.scheduled = False

    def hold(self, conn: Connection, data: bytes) -> bool:
        p = self.state.persistence
        if not p.fsync_before_reply():
            p.flush_aof()
            return False
        if conn.deferred is None:
            conn.deferred = []
            self.held.append(conn)
            if not self.scheduled:
                self.scheduled = True
                self.state.scheduler.before_sleep(self._commit)
        conn.deferred.append(data)
        return True

    def _commit(self) -> None:
        self.scheduled = False
        if not self.state.persistence.flush_aof():
            self.scheduled = True
            self.state.scheduler.call_later(RETRY_S, self._commit)
            return
        conns, self.held = self.held, []
        for conn in conns:
            conn.flush_deferred()

    def release(self, conn: Connection) -> None:
        self.state.persistence.flush_aof()
        conn.flush_deferred()
