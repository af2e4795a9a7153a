"""Client-side caching: CLIENT TRACKING, as Redis 7.0's tracking.c.

Default mode: after a read-only command, the keys it read are remembered for the tracking
client (OPTIN: only when CLIENT CACHING YES preceded it; OPTOUT: unless CLIENT CACHING NO).
When a remembered key is modified by anyone, each remembering client (or its REDIRECT target)
gets one `invalidate` message and the key is forgotten. Keys are tracked by name across
databases, as Redis does.

BCAST mode: no table; a prefix table (Redis's PrefixTable) maps each registered prefix (b""
without PREFIX) to its clients and to the keys modified under it since the last flush, with
the client that first modified each. Once the event-loop iteration ends (Redis's beforeSleep)
every prefix with keys sends one message, its keys sorted, to each of its clients; a NOLOOP
client's message leaves out the keys it modified itself.

Messages: RESP3 clients get a push `["invalidate", [keys]]` (null instead of the array on
FLUSHALL/FLUSHDB); a RESP2 REDIRECT target subscribed to `__redis__:invalidate` gets a pub/sub
message on that channel. When the client being invalidated is the one executing the command,
the message follows the command's reply (Redis 7.0 keeps such keys pending until after the
reply), which the connection does through `client.after_reply`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol.replies import Push

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .state import ServerState

INVALIDATE_CHANNEL = b"__redis__:invalidate"


class TrackingState:
    """Per-client tracking options (client.tracking)."""

    __slots__ = ("bcast", "optin", "optout", "noloop", "redirect", "prefixes", "caching", "broken_redirect")

    def __init__(self) -> None:
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.redirect = 0
        self.prefixes: list[bytes] = []
        self.caching: bool | None = None  # CLIENT CACHING YES/NO for the next command
        # CLIENT_TRACKING_BROKEN_REDIR: an invalidation found the REDIRECT target gone (flag R,
        # TRACKINGINFO broken_redirect); cleared when tracking is enabled again
        self.broken_redirect = False


class _Prefix:
    """A BCAST prefix: its clients, and the keys modified under it -> their first modifier."""

    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        self.clients: dict[int, Client] = {}
        self.keys: dict[bytes, Client | None] = {}


class Tracking:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.table: dict[bytes, set[int]] = {}  # key -> ids of clients that may cache it
        self.prefixes: dict[bytes, _Prefix] = {}  # BCAST: prefix -> its clients and modified keys
        self.tracking_clients = 0
        self._flush_scheduled = False
        self._last_flush: tuple[int, int] | None = None
        state.flush_hooks.append(self.flushed)

    # --- enabling --------------------------------------------------------------------
    def enable(self, c: Client, opts: TrackingState) -> None:
        if c.tracking is None:
            self.tracking_clients += 1
            if self.tracking_clients == 1:
                # Only while someone tracks do writes pay for the lookup.
                self.state.key_change_hooks.append(self.key_modified)
                self.state.expire_hooks.append(self.key_expired)
        c.tracking = opts
        if opts.bcast:
            for p in opts.prefixes or (b"",):
                bs = self.prefixes.get(p)
                if bs is None:
                    bs = self.prefixes[p] = _Prefix()
                bs.clients[c.id] = c

    def disable(self, c: Client) -> None:
        if c.tracking is not None:
            self.tracking_clients -= 1
            if self.tracking_clients == 0:
                self.state.key_change_hooks.remove(self.key_modified)
                self.state.expire_hooks.remove(self.key_expired)
            if c.tracking.bcast:
                for p in c.tracking.prefixes or (b"",):
                    bs = self.prefixes.get(p)
                    if bs is not None:
                        bs.clients.pop(c.id, None)
                        if not bs.clients:
                            del self.prefixes[p]
            c.tracking = None

    # --- remembering keys read --------------------------------------------------------
    def remember(self, c: Client, keys: list[bytes]) -> None:
        t = c.tracking
        if t.bcast:
            return
        caching = t.caching
        t.caching = None
        if t.optin and caching is not True:
            return
        if t.optout and caching is False:
            return
        table = self.table
        for k in keys:
            s = table.get(k)
            if s is None:
                table[k] = {c.id}
            else:
                s.add(c.id)
        limit = self.state.config["tracking-table-max-keys"]
        if limit and len(table) > limit:
            for k in list(table)[: len(table) - limit]:
                self._invalidate_key(k, None)

    # --- invalidation -----------------------------------------------------------------
    def key_modified(self, db: Database, key: bytes) -> None:
        """signalModifiedKey for a command's write: the executing client modified it."""
        self._modified(key, self.state.current_client)

    def key_expired(self, db: Database, key: bytes) -> None:
        """An expired key (lazily or by the active cycle) is invalidated too, with no
        modifier: NOLOOP does not hide it (signalModifiedKey(NULL, ...))."""
        self._modified(key, None)

    def _modified(self, key: bytes, modifier: Client | None) -> None:
        if key in self.table:
            self._invalidate_key(key, modifier)
        if self.prefixes:
            for p, bs in self.prefixes.items():
                if key.startswith(p):
                    bs.keys.setdefault(key, modifier)
                    self._schedule_bcast()

    def _invalidate_key(self, key: bytes, modifier: Client | None) -> None:
        ids = self.table.pop(key, ())
        clients = self.state.clients
        for cid in ids:
            c = clients.get(cid)
            if c is None or c.tracking is None:
                continue
            if c.tracking.noloop and c is modifier:
                continue
            self._send(c, [key], after_reply=c is modifier)

    def flushed(self, db: Database) -> None:
        """FLUSHDB/FLUSHALL: every tracking client is told to drop everything (null keys),
        once per command although FLUSHALL empties every database."""
        marker = (id(self.state.current_client), self.state.stats.total_commands_processed)
        if marker == self._last_flush:
            return
        self._last_flush = marker
        self.table.clear()
        for c in list(self.state.clients.values()):
            if c.tracking is not None:
                self._send(c, None, after_reply=False)

    def _schedule_bcast(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            sched = self.state.scheduler
            if sched is None:  # no loop (tools, tests without a server)
                self._flush_bcast()
            else:
                sched.before_sleep(self._flush_bcast)

    def _flush_bcast(self) -> None:
        """trackingBroadcastInvalidationMessages: per prefix (in order), its keys sorted."""
        self._flush_scheduled = False
        for p in sorted(self.prefixes):
            bs = self.prefixes.get(p)
            if bs is None or not bs.keys:
                continue
            modified, bs.keys = bs.keys, {}
            keys = sorted(modified)
            for c in list(bs.clients.values()):
                if c.tracking is None:
                    continue
                if c.tracking.noloop:
                    own = [k for k in keys if modified[k] is not c]
                    if own:
                        self._send(c, own, after_reply=False)
                else:
                    self._send(c, keys, after_reply=False)

    def _send(self, c: Client, keys: list[bytes] | None, after_reply: bool) -> None:
        t = c.tracking
        target = c
        if t.redirect:
            target = self.state.clients.get(t.redirect)
            if target is None:
                t.broken_redirect = True
                if c.resp == 3 and c.write_push is not None:
                    c.write_push(Push([b"tracking-redir-broken", t.redirect]))
                return
        if target.resp == 3:
            msg = Push([b"invalidate", keys])
        elif INVALIDATE_CHANNEL in target.subscriptions:
            msg = Push([b"message", INVALIDATE_CHANNEL, keys])
        else:
            return
        if after_reply and target is c:
            if c.after_reply is None:
                c.after_reply = []
            c.after_reply.append(msg)
        elif target.write_push is not None:
            target.write_push(msg)

    def client_gone(self, c: Client) -> None:
        self.disable(c)
