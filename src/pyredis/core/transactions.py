"""MULTI/EXEC state and WATCH (Redis's multi.c), used by commands/transactions.py and dispatch.

Per client: `c.multi` (list of queued (spec, argv), None outside MULTI), `c.multi_error`
(a command was rejected while queueing: EXEC answers EXECABORT), `c.watched`
({(dbid, key): expired_at_watch_time} or None) and `c.dirty_cas` (a watched key changed:
EXEC answers a null array).

A watched key is invalidated (Redis 7.0 semantics) by:
  - any write signalled with ctx.touched(key) (key_change_hooks), from any client;
  - its expiry (the key deleted by lazy or active expiry, expire_hooks), or, at EXEC, the key
    being logically expired - unless it was already expired when WATCH ran (then its deletion
    is no logical change);
  - FLUSHDB/FLUSHALL when the key exists (flush_hooks), SWAPDB when it exists on either side
    (swapdb_hooks).
Hooks are installed only while some key is watched, so writes pay nothing otherwise.

API:
    registry(state) -> WatchRegistry       # state.watching, created on first use
    registry(state).watch(c, db, keys)
    unwatch_all(c)
    discard_transaction(c)                 # end MULTI: drop the queue, flags, watched keys
    exec_abort_reply(c, text) -> bytes     # EXEC itself rejected by a dispatch gate
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .state import ServerState


class WatchRegistry:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        # (dbid, key) -> clients watching it (dict as an ordered set)
        self.keys: dict[tuple[int, bytes], dict[Client, None]] = {}
        self._hooked = False
        self._disconnect_hooked = False

    def _hook(self) -> None:
        st = self.state
        if not self._hooked:
            st.key_change_hooks.append(self.touch)
            st.expire_hooks.append(self.touch)
            st.flush_hooks.append(self.flushed)
            st.swapdb_hooks.append(self.swapped)
            self._hooked = True
        if not self._disconnect_hooked and st.server is not None:
            st.server.disconnect_hooks.append(unwatch_all)
            self._disconnect_hooked = True

    def _unhook(self) -> None:
        if self._hooked and not self.keys:
            st = self.state
            for lst, fn in ((st.key_change_hooks, self.touch), (st.expire_hooks, self.touch),
                            (st.flush_hooks, self.flushed), (st.swapdb_hooks, self.swapped)):
                try:
                    lst.remove(fn)
                except ValueError:
                    pass
            self._hooked = False

    def watch(self, c: Client, db: Database, keys) -> None:
        watched = c.watched
        if watched is None:
            watched = c.watched = {}
        dbid = db.id
        now = None
        data = db.data
        expires = db.expires
        for key in keys:
            k = (dbid, key)
            if k in watched:
                continue
            expired = False
            if key in data:
                when = expires.get(key)
                if when is not None:
                    if now is None:
                        now = self.state.now_ms
                    expired = when <= now
            watched[k] = expired
            d = self.keys.get(k)
            if d is None:
                d = self.keys[k] = {}
            d[c] = None
        self._hook()

    def unwatch(self, c: Client) -> None:
        watched = c.watched
        if not watched:
            c.watched = None
            return
        for k in watched:
            d = self.keys.get(k)
            if d is not None:
                d.pop(c, None)
                if not d:
                    del self.keys[k]
        c.watched = None
        self._unhook()

    # --- invalidation -----------------------------------------------------------------
    def touch(self, db: Database, key: bytes) -> None:
        """touchWatchedKey: `key` was modified (or deleted by expiry)."""
        k = (db.id, key)
        clients = self.keys.get(k)
        if not clients:
            return
        for c in clients:
            w = c.watched
            if w is None:
                continue
            if w.get(k):  # already expired at WATCH time
                if key not in db.data:
                    w[k] = False  # its deletion is no logical change
                    continue
            c.dirty_cas = True

    def flushed(self, db: Database) -> None:
        """FLUSHDB/FLUSHALL about to empty `db`."""
        dbid = db.id
        data = db.data
        for k, clients in list(self.keys.items()):
            if k[0] != dbid or k[1] not in data:
                continue
            for c in clients:
                w = c.watched
                if w is None:
                    continue
                if w.get(k):
                    w[k] = False
                    continue
                c.dirty_cas = True

    def swapped(self, db1: Database, db2: Database) -> None:
        """SWAPDB done: db1 now holds what db2 held and vice versa."""
        self._swap_side(db1.id, db2.data, db1)
        self._swap_side(db2.id, db1.data, db2)

    def _swap_side(self, dbid: int, old_data: dict, new: Database) -> None:
        # touchAllWatchedKeysInDb(emptied=old content, replaced_with=new content)
        now = self.state.now_ms
        new_data = new.data
        new_exp = new.expires
        for k, clients in list(self.keys.items()):
            if k[0] != dbid:
                continue
            key = k[1]
            in_old = key in old_data
            in_new = key in new_data
            if not (in_old or in_new):
                continue
            when = new_exp.get(key) if in_new else None
            new_expired = when is not None and when <= now
            for c in clients:
                w = c.watched
                if w is None:
                    continue
                if w.get(k):
                    if not in_new:
                        w[k] = False
                        continue
                    if new_expired:
                        continue
                elif not in_old and new_expired:
                    w[k] = True
                    continue
                c.dirty_cas = True

    def any_expired(self, c: Client) -> bool:
        """isWatchedKeyExpired: a watched key (not expired at WATCH time) is logically expired."""
        w = c.watched
        if not w:
            return False
        dbs = self.state.dbs
        now = None
        for (dbid, key), was_expired in w.items():
            if was_expired:
                continue
            db = dbs[dbid]
            if key not in db.data:
                continue
            when = db.expires.get(key)
            if when is None:
                continue
            if now is None:
                now = self.state.now_ms
            if when <= now:
                return True
        return False


def registry(state: ServerState) -> WatchRegistry:
    r = getattr(state, "watching", None)
    if r is None:
        r = state.watching = WatchRegistry(state)
        state.reset_hooks.append(discard_transaction)
    return r


def unwatch_all(c: Client) -> None:
    if c.watched is not None:
        registry(c.server).unwatch(c)


def discard_transaction(c: Client) -> None:
    c.multi = None
    c.multi_error = False
    c.dirty_cas = False
    unwatch_all(c)


EXECABORT = b"EXECABORT Transaction discarded because of previous errors."


def exec_abort_reply(c: Client, text: bytes) -> bytes:
    """EXEC refused by a gate (arity, pub/sub context, OOM...): execCommandAbort."""
    discard_transaction(c)
    if text.startswith(b"ERR "):
        text = text[4:]
    return b"EXECABORT Transaction discarded because of: " + text
