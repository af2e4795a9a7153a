"""Client: the per-connection state, which is also the context (`ctx`) handed to every
command handler. A handler reads everything it needs from it: ctx.db (selected database),
ctx.server (ServerState), ctx.now (ms of this command), ctx.resp (2 or 3).

Folding the context into the client avoids allocating a Ctx per command on the hot path;
the attributes a handler may use are the ones listed in Client.__slots__ below.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..keyspace.database import Database

if TYPE_CHECKING:
    from .state import ServerState


REPLY_CHUNK_BYTES = 16 * 1024  # PROTO_REPLY_CHUNK_BYTES: a new client's reply buffer
REPLY_MIN_BYTES = 1024  # PROTO_REPLY_MIN_BYTES
REPLY_PEAK_RESET_MS = 5000  # REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME


def note_reply(c: Client, n: int) -> None:
    """n bytes of replies written at once: the buffer held what fits of them (_addReplyToBuffer)."""
    held = n if n < c.rbs else c.rbs
    if held > c.rbp:
        c.rbp = held


def resize_reply_buffer(c: Client, state, now_ms: int) -> None:
    """clientsCronResizeOutputBuffer: halve a buffer whose peak stayed under half of it,
    double (up to 16 KB) one that filled up; then the peak restarts every
    reply_buffer_peak_reset_time ms (DEBUG REPLYBUFFER; -1: never). Not while DEBUG
    REPLYBUFFER RESIZING 0."""
    if not state.reply_buffer_resizing:
        return
    new = 0
    if c.rbs // 2 >= REPLY_MIN_BYTES and c.rbp < c.rbs // 2:
        new = max(REPLY_MIN_BYTES, c.rbp + 1)
        state.stats.reply_buffer_shrinks += 1
    elif c.rbs * 2 < REPLY_CHUNK_BYTES * 2 and c.rbp == c.rbs:
        new = min(REPLY_CHUNK_BYTES, c.rbs * 2)
        state.stats.reply_buffer_expands += 1
    reset = state.reply_buffer_peak_reset_time
    if reset >= 0 and now_ms - c.rbp_reset >= reset:
        c.rbp = 0
        c.rbp_reset = now_ms
    if new:
        c.rbs = new


class Client:
    __slots__ = (
        "id", "server", "db", "resp", "name", "lib_name", "lib_ver", "authenticated", "user",
        "addr", "laddr", "fd", "ctime", "last_interaction", "last_cmd", "argv",
        "flags", "close_after_reply", "abort", "write_push", "kill", "multi", "watched", "dirty_cas",
        "subscriptions", "psubscriptions", "ssubscriptions", "in_exec", "blocked",
        "reply_mode", "no_evict", "no_touch", "woff", "tracking", "parser_limits", "extra", "propagate_as", "multi_error", "after_reply",
        "multi_denyoom",
        "unix_socket", "io",
        "acl_user", "net_in", "net_out", "ncalls", "rbs", "rbp", "rbp_reset", "repl_woff", "replica", "is_master",
    )

    def __init__(self, server: ServerState, addr: str = "", laddr: str = "", fd: int = -1) -> None:
        self.server = server
        self.id = server.new_client_id()
        self.db: Database = server.dbs[0]
        self.resp = 2
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        # the ACL user (core/acl.py User) and its name; authenticated as Redis's clientSetDefaultAuth
        server.acl.set_default_auth(self)
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.unix_socket = False  # connected through `unixsocket` (CLIENT LIST flag U; local)
        # Redis's reply buffer (CLIENT LIST rbs / rbp): its size and the most it held since
        # the last peak reset; resized once a second by resize_reply_buffer().
        self.rbs = REPLY_CHUNK_BYTES
        self.rbp = REPLY_CHUNK_BYTES
        self.rbp_reset = int(time.time() * 1000)
        self.ctime = time.time()
        self.last_interaction = self.ctime
        self.last_cmd = b"NULL"
        self.argv: list[bytes] = []
        self.flags = ""
        self.close_after_reply = False
        self.abort = False  # close without sending what is pending (freeClientAsync)
        # Set by the connection: sends an out-of-band message (pub/sub, invalidation).
        self.write_push: Callable[[object], None] | None = None
        # Set by the connection: closes it (CLIENT KILL).
        self.kill: Callable[[], None] | None = None
        # Set by the connection: () -> its buffers (qbuf, qbuf-free, obl, omem, events), for
        # CLIENT LIST and the memory limits (core/clients.py); None for clients without one.
        self.io: Callable[[], tuple] | None = None
        self.multi: list | None = None  # queued commands while in MULTI
        self.multi_error = False  # a command was rejected while queueing: EXEC aborts
        self.multi_denyoom = False  # a queued command is denyoom (Redis's mstate.cmd_flags): EXEC is
        self.watched: set | None = None
        self.dirty_cas = False
        self.subscriptions: set[bytes] = set()
        self.psubscriptions: set[bytes] = set()
        self.ssubscriptions: set[bytes] = set()
        self.in_exec = False
        self.blocked = None
        self.reply_mode = "on"
        self.no_evict = False
        self.no_touch = False
        # the replication offset after this client's last propagated write (Redis's c->woff;
        # WAITAOF waits for the AOF to fsync that far: core/waitaof.py)
        self.woff = 0
        # Valkey 8's CLIENT LIST tot-net-in/tot-net-out/tot-cmds: bytes read and written by the
        # connection, commands called (each command of an EXEC included)
        self.net_in = 0
        self.net_out = 0
        self.ncalls = 0
        self.tracking = None
        self.parser_limits = None
        self.extra: dict = {}
        # A handler that must propagate something other than its argv (SET EX -> SET PXAT,
        # SPOP -> SREM) appends the argvs here; None means "propagate argv as received".
        self.propagate_as: list[list[bytes]] | None = None
        # Pushes that must follow this command's reply (tracking invalidations of keys the
        # client itself modified); the connection sends them right after the reply.
        self.after_reply: list | None = None
        # Replication (core/replication.py): the offset of the stream after this client's last
        # propagated write (WAIT waits for it; `woff` above is WAITAOF's AOF count); the Replica
        # record once this connection sent SYNC/PSYNC (CLIENT LIST flag S); is_master on a
        # replica's client for its master (M).
        self.repl_woff = 0
        self.replica = None
        self.is_master = False

    # --- what handlers use ------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.server.now_ms

    @property
    def dbid(self) -> int:
        return self.db.id

    def select(self, dbid: int) -> None:
        self.db = self.server.dbs[dbid]

    def touched(self, key: bytes, db: Database | None = None) -> None:
        """A write changed `key`: count it for SAVE points, re-estimate a collection changed in
        place (used_memory), and signal WATCH/tracking."""
        self.server.dirty += 1
        sizes = (db or self.db).sizes
        if key in sizes:  # a collection changed in place: re-estimated when read (used_memory)
            (db or self.db).stale.add(key)
        if self.server.key_change_hooks:
            self.server.signal_modified(db or self.db, key)

    def resized(self, key: bytes, db: Database | None = None) -> None:
        """A collection changed in place by a command that does not signal the key (Redis
        does not call signalModifiedKey for it: consumer groups, LTRIM...): re-estimate it."""
        d = db or self.db
        if key in d.sizes:
            d.resized(key)

    def notify(self, type_: int, event: bytes, key: bytes, db: Database | None = None) -> None:
        """Keyspace notification for a change made by this command (see core/notify.py)."""
        if self.server.notify_flags & type_:
            from .notify import notify

            notify(self.server, type_, event, key, (db or self.db).id)

    @property
    def subscription_count(self) -> int:
        return len(self.subscriptions) + len(self.psubscriptions) + len(self.ssubscriptions)


def compat_client_fields(c: Client) -> tuple[list[str], list[str]]:
    """What later releases add to the CLIENT LIST line: (the fields after multi=, the fields
    after resp=). 7.2: lib-name, lib-ver (CLIENT SETINFO); 7.4 and Valkey 8: watch= (keys
    WATCHed); Valkey 8: tot-net-in, tot-net-out, tot-cmds."""
    compat = c.server.compat
    mid: list[str] = []
    tail: list[str] = []
    if compat.at_least("7.4", "valkey-8.0"):
        # a touched WATCH forgets its keys (touchWatchedKey's unwatchAllKeys): EXEC fails anyway
        mid.append(f"watch={len(c.watched) if c.watched and not c.dirty_cas else 0}")
    if compat.at_least("7.2"):
        tail += [f"lib-name={c.lib_name.decode('utf-8', 'replace')}", f"lib-ver={c.lib_ver.decode('utf-8', 'replace')}"]
    if compat.valkey:
        tail += [f"tot-net-in={c.net_in}", f"tot-net-out={c.net_out}", f"tot-cmds={c.ncalls}"]
    return mid, tail
