"""Blocking commands: clients waiting for a key (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP,
XREAD BLOCK...). One reusable machine, like Redis's blocked.c.

How a blocking command is written (lists are the example, commands/list.py):

    from ..core.blocking import Blocked, may_block, parse_timeout

    @command("BLPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list")
    def blpop(ctx, *args):
        timeout = parse_timeout(args[-1])          # seconds, float; ms int (0 = forever)
        ...try to serve now; return the reply if some key has data...
        if not may_block(ctx):                     # inside MULTI/EXEC or a script
            return NULL_ARRAY                      # what the timeout would answer
        return Blocked(keys, timeout, retry, NULL_ARRAY)

`Blocked(keys, timeout_ms, retry, timeout_reply)`:
    keys           the keys (in ctx.db) to wait on; may be empty (WAIT): then only the
                   timeout or CLIENT UNBLOCK ends the wait
    timeout_ms     relative timeout in ms, 0 = wait forever (parse_timeout's result)
    retry          retry(ctx, key) -> reply | None. Called with the blocked client as ctx when
                   `key` was written. Must do the whole job (pop, reply, propagate with
                   `propagate(ctx, argv)`) and return the reply, or return None to keep waiting
                   (the key holds another type, is empty again...). Do not call ctx.touched() for
                   the key that was served (Redis does not signal it again); do call it for other
                   keys written (the destination of BLMOVE), which wakes clients waiting on them.
    timeout_reply  sent on timeout and on CLIENT UNBLOCK id TIMEOUT (Redis: null array); a
                   callable is asked for the reply then (WAITAOF's acknowledgements)

Scripts must hold `state.time_frozen` raised while they run: may_block() is then False and
ready keys are served only after the script (dispatch skips handle_ready() while frozen).

The connection sees the marker, pauses the client (nothing else it sent runs until it is
unblocked) and registers it here. Readiness: every write reaches `ctx.touched(key)`, whose
key-change hook marks a key with waiters as ready (`signal_ready(db, key)` does it
explicitly). Ready keys are served after the current top-level command (or the whole EXEC /
script) finished (dispatch calls `handle_ready()`), clients in the order they blocked on
that key (FIFO); a key written while serving (BLMOVE's destination) is served in the same
pass. Timeouts are loop timers. A disconnecting client is forgotten; RESET cannot arrive
while blocked. `CLIENT UNBLOCK id [TIMEOUT|ERROR]` is `manager.unblock_client(...)`.

API:
    state.blocking -> BlockingManager (created on first use by `manager(state)`)
    manager(state).count             # blocked clients (INFO blocked_clients)
    manager(state).keys_count()      # keys with waiters (INFO blocking_keys)
    parse_timeout(arg, seconds=True) -> ms   # Redis's errors; 0 = forever
    may_block(ctx) -> bool
"""

from __future__ import annotations

import math
import re
import time
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, TIMEOUT_NOT_INTEGER, CommandError
from ..protocol.replies import NULL_ARRAY, ErrorReply
from .args import to_int

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .state import ServerState

_LLONG_MAX = (1 << 63) - 1
_perf = time.perf_counter_ns
UNBLOCKED_ERROR = b"UNBLOCKED client unblocked via CLIENT UNBLOCK"


class Blocked:
    """Returned by a handler that must wait: see the module docstring."""

    __slots__ = ("keys", "timeout_ms", "retry", "timeout_reply", "deleted", "spec", "argv", "usec", "t0", "rerun")

    def __init__(self, keys, timeout_ms: int, retry, timeout_reply=NULL_ARRAY, deleted=None) -> None:
        self.keys = keys
        self.timeout_ms = timeout_ms
        self.retry = retry
        self.timeout_reply = timeout_reply
        # optional deleted(ctx, key) -> reply | None: called when a signalled key no longer
        # exists (XREADGROUP: 7.0.15 unblocks it with an error when its stream goes away)
        self.deleted = deleted
        # Set by dispatch.call: the command that blocked, its first run's duration (us) and
        # start (perf_counter_ns). Its slowlog entry is written when it is served, as Redis.
        self.spec = None
        self.argv = None
        self.usec = 0
        self.t0 = 0
        # CLIENT PAUSE (core/pause.py): the command held before it ran, to run again once
        # released; None for a command that blocked on keys
        self.rerun = None


def may_block(ctx: Client) -> bool:
    """False inside EXEC or a script (Redis's CLIENT_DENY_BLOCKING): answer as on timeout."""
    return not ctx.in_exec and not ctx.server.time_frozen


# --- timeout parsing ------------------------------------------------------------------
_DEC = re.compile(rb"([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?\Z")
_HEX = re.compile(rb"([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?\Z")
_INF = re.compile(rb"[+-]?(?:inf|infinity)\Z", re.I)
_LD_MAX_EXP = 16384  # |x| >= 2**16384 overflows an x87 long double
_LD_MIN_EXP = -16446  # below half the smallest denormal rounds to zero (ERANGE)


def _strtold(b: bytes) -> Fraction | float | None:
    """Exact value of what strtold would parse from the whole string; None = Redis rejects it."""
    if not b or len(b) > 5 * 1024 or b[:1].isspace():
        return None
    m = _DEC.match(b)
    if m is not None:
        sign, ip, fp, only_fp, exp = m.groups()
        digits = (ip or b"") + (fp or b"") if only_fp is None else only_fp
        scale = len(fp or b"") if only_fp is None else len(only_fp)
        e = int(exp) if exp else 0
        if abs(e) > 100000:
            n = int(digits) if digits else 0
            if n == 0:
                return Fraction(0)
            return None  # overflow or underflow to zero: ERANGE
        q = Fraction(int(digits) if digits else 0) * Fraction(10) ** (e - scale)
    else:
        m = _HEX.match(b)
        if m is None:
            if _INF.match(b):
                return float("-inf") if b[:1] == b"-" else float("inf")
            return None
        sign, ip, fp, only_fp, exp = m.groups()
        digits = (ip or b"") + (fp or b"") if only_fp is None else only_fp
        scale = 4 * (len(fp or b"") if only_fp is None else len(only_fp))
        e = int(exp) if exp else 0
        if abs(e) > 100000:
            if int(digits, 16) == 0:
                return Fraction(0)
            return None
        q = Fraction(int(digits, 16)) * Fraction(2) ** (e - scale)
    if q != 0:
        n, d = q.numerator, q.denominator
        bits = n.bit_length() - d.bit_length()
        if bits >= _LD_MAX_EXP or bits < _LD_MIN_EXP:
            return None
    return -q if sign == b"-" else q


def parse_timeout(arg: bytes, seconds: bool = True, ctx=None) -> int:
    """getTimeoutFromObjectOrReply: the timeout in ms relative to now, 0 = block forever.

    Seconds are a long double rounded up to whole ms (0.0001 waits 1 ms, -0.0001 is 0:
    forever); ms (XREAD BLOCK) are an integer. With the command's client (ctx) of a 7.2+
    server, 7.2's checks: "timeout is out of range" where 7.0's overflow read as negative."""
    if ctx is not None and ctx.server.compat.at_least("7.2"):
        return _parse_timeout_72(arg, seconds, ctx.now)
    if seconds:
        v = _strtold(arg)
        if v is None:
            raise CommandError(TIMEOUT_NOT_FLOAT)
        if isinstance(v, float):  # +-inf: (long long) of it is LLONG_MIN on x86
            raise CommandError(TIMEOUT_NEGATIVE)
        ms = math.ceil(v * 1000)  # ceill(): any positive timeout is at least 1 ms
        if ms > _LLONG_MAX or ms < -_LLONG_MAX - 1:
            raise CommandError(TIMEOUT_NEGATIVE)
    else:
        ms = to_int(arg, TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise CommandError(TIMEOUT_NEGATIVE)
    return ms


_OUT_OF_RANGE = "ERR timeout is out of range"


def _parse_timeout_72(arg: bytes, seconds: bool, now: int) -> int:
    if seconds:
        v = _strtold(arg)
        if v is None:
            raise CommandError(TIMEOUT_NOT_FLOAT)
        if isinstance(v, float):  # +inf is out of range; -inf casts to LLONG_MIN: negative
            raise CommandError(_OUT_OF_RANGE if v > 0 else TIMEOUT_NEGATIVE)
        if v * 1000 > _LLONG_MAX:
            raise CommandError(_OUT_OF_RANGE)
        ms = math.ceil(v * 1000)
        if ms < -_LLONG_MAX - 1:
            raise CommandError(TIMEOUT_NEGATIVE)
    else:
        ms = to_int(arg, TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise CommandError(TIMEOUT_NEGATIVE)
    if ms > _LLONG_MAX - now:
        raise CommandError(_OUT_OF_RANGE)
    return ms


def propagate(ctx: Client, argv: list[bytes]) -> None:
    """Propagate an effect of a served blocked client (LPOP for BLPOP...)."""
    prop = ctx.server.propagation
    if prop.active:
        prop.emit(ctx.db.id, argv)


# --- the manager -----------------------------------------------------------------------
class _Waiter:
    __slots__ = ("client", "marker", "keys", "resume", "deadline", "timer", "active")

    def __init__(self, client: Client, marker: Blocked, keys: list[tuple[int, bytes]], resume, deadline: int) -> None:
        self.client = client
        self.marker = marker
        self.keys = keys
        self.resume = resume
        self.deadline = deadline
        self.timer = None  # a scheduler Handle while armed
        self.active = True


class BlockingManager:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        # (dbid, key) -> waiters in blocking order (dict used as an ordered set)
        self.waiters: dict[tuple[int, bytes], dict[_Waiter, None]] = {}
        # (dbid, key) -> Database, in signalling order
        self.ready: dict[tuple[int, bytes], Database] = {}
        self.by_client: dict[int, _Waiter] = {}
        self._hooked = False
        self._disconnect_hooked = False
        self._serving = False

    @property
    def count(self) -> int:
        return len(self.by_client)

    def keys_count(self) -> int:
        return len(self.waiters)

    # hooks are installed only while somebody waits: writes pay nothing otherwise
    def _hook(self) -> None:
        st = self.state
        if not self._hooked:
            st.key_change_hooks.append(self.signal_ready)
            st.swapdb_hooks.append(self._swapped)
            self._hooked = True
        if not self._disconnect_hooked and st.server is not None:
            st.server.disconnect_hooks.append(self._client_gone)
            self._disconnect_hooked = True

    def _unhook(self) -> None:
        if self._hooked and not self.waiters and not self.ready:
            st = self.state
            try:
                st.key_change_hooks.remove(self.signal_ready)
            except ValueError:
                pass
            try:
                st.swapdb_hooks.remove(self._swapped)
            except ValueError:
                pass
            self._hooked = False

    def block(self, c: Client, marker: Blocked, resume) -> None:
        """Register client `c` (already paused by its connection) as waiting; `resume(reply)`
        sends the final reply and lets the connection go on."""
        if marker.spec is None and c.argv:
            # dispatch.call stamps markers of commands declared may_block (spec.MAY_BLOCK);
            # for any other, only the first run's duration is lost, not the stats
            from .spec import TABLE

            marker.spec, marker.argv = TABLE.get(c.argv[0].lower()), c.argv
        dbid = c.db.id
        keys = []
        seen = set()
        for k in marker.keys:
            if k in seen:
                continue
            seen.add(k)
            keys.append((dbid, k))
        deadline = 0
        if marker.timeout_ms > 0:
            now = self.state.clock_ms()
            if marker.timeout_ms <= _LLONG_MAX - now:
                deadline = now + marker.timeout_ms
        w = _Waiter(c, marker, keys, resume, deadline)
        for k in keys:
            d = self.waiters.get(k)
            if d is None:
                d = self.waiters[k] = {}
            d[w] = None
        self.by_client[c.id] = w
        c.blocked = w
        self._hook()
        if deadline:
            self._arm(w)

    def _arm(self, w: _Waiter) -> None:
        sched = self.state.scheduler
        if sched is None:  # pragma: no cover - blocking needs a loop
            return
        w.timer = sched.call_later((w.deadline - self.state.clock_ms()) / 1000.0, self._on_timer, w)

    def _on_timer(self, w: _Waiter) -> None:
        if not w.active:
            return
        if self.state.clock_ms() < w.deadline:
            self._arm(w)
            return
        self._finish(w, _timeout_reply(w.marker))

    def _remove(self, w: _Waiter) -> None:
        w.active = False
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        for k in w.keys:
            d = self.waiters.get(k)
            if d is not None:
                d.pop(w, None)
                if not d:
                    del self.waiters[k]
        c = w.client
        if self.by_client.get(c.id) is w:
            del self.by_client[c.id]
        if c.blocked is w:
            c.blocked = None
        self._unhook()

    def _finish(self, w: _Waiter, reply) -> None:
        self._remove(w)
        w.resume(reply)

    # --- readiness ------------------------------------------------------------------
    def signal_ready(self, db: Database, key: bytes) -> None:
        """`key` of `db` was written: serve its waiters after the current command."""
        k = (db.id, key)
        if k in self.waiters and k not in self.ready:
            self.ready[k] = db

    def _swapped(self, db1: Database, db2: Database) -> None:
        for (dbid, key) in list(self.waiters):
            if dbid == db1.id and key in db1.data:
                self.signal_ready(db1, key)
            elif dbid == db2.id and key in db2.data:
                self.signal_ready(db2, key)

    def handle_ready(self) -> None:
        """Serve the clients waiting on keys signalled ready (handleClientsBlockedOnKeys)."""
        if self._serving:
            return
        self._serving = True
        st = self.state
        try:
            while self.ready:
                ready = self.ready
                self.ready = {}
                for k, db in ready.items():
                    waiters = self.waiters.get(k)
                    if not waiters:
                        continue
                    key = k[1]
                    st.update_time()
                    if db.lookup(key) is None:
                        self._serve_deleted(waiters, key)
                        continue
                    for w in list(waiters):
                        if not w.active:
                            continue
                        c = w.client
                        t0 = _perf()
                        try:
                            reply = w.marker.retry(c, key)
                        except CommandError as e:
                            reply = _error_reply(c, e.text)
                            _count_failed(c)
                        except Exception as e:  # a bug in a retry must not take the server down
                            reply = _error_reply(c, b"ERR internal error serving blocked client: %r" % e)
                            _count_failed(c)
                        if reply is None:
                            continue
                        served_after(c, w.marker, (_perf() - t0) // 1000)
                        db.resized(key)  # popped in place: re-estimate it (used_memory)
                        self._finish(w, reply)
                        if db.lookup(key) is None:
                            break
        finally:
            self._serving = False
            self._unhook()

    def _serve_deleted(self, waiters, key: bytes) -> None:
        for w in list(waiters):
            fn = w.marker.deleted
            if fn is None or not w.active:
                continue
            c = w.client
            try:
                reply = fn(c, key)
            except CommandError as e:
                reply = _error_reply(c, e.text)
                _count_failed(c)
            if reply is not None:
                self._finish(w, reply)

    # --- unblocking -----------------------------------------------------------------
    def unblock_client(self, client_id: int, error: bool = False) -> bool:
        """CLIENT UNBLOCK: end the wait with the timeout reply (or the UNBLOCKED error)."""
        w = self.by_client.get(client_id)
        if w is None or w.marker.rerun is not None:
            # a client held by CLIENT PAUSE is not unblocked (redis-server 7.0.15 panics:
            # "Unknown btype in replyToBlockedClientTimedOut()")
            return False
        _count_failed(w.client)  # Redis counts any CLIENT UNBLOCK as a failed call
        if error:
            self._finish(w, _error_reply(w.client, UNBLOCKED_ERROR))
        else:
            self._finish(w, _timeout_reply(w.marker))
        return True

    def release(self, client_id: int, reply) -> bool:
        """End a wait with `reply` (a busy script that finished): not a failed call."""
        w = self.by_client.get(client_id)
        if w is None:
            return False
        self._finish(w, reply)
        return True

    def _client_gone(self, c: Client) -> None:
        w = self.by_client.get(c.id)
        if w is not None and w.client is c:
            self._remove(w)


def _timeout_reply(marker: Blocked):
    r = marker.timeout_reply
    return r() if callable(r) else r


def served_after(c: Client, marker: Blocked, usec: int) -> None:
    """A blocked command was served (updateStatsOnUnblock): its duration is the first run's
    plus the serving's, and the slowlog gets it now (a timed-out command gets no entry)."""
    spec = marker.spec
    if spec is None:
        return
    total = marker.usec + usec
    spec.usec += total
    state = c.server
    if state.latency_tracking:
        spec.lat.append(total)
    if state.latency_us:
        state.latency.add_if_needed("command-unblocking", usec // 1000)
    if total >= state.slowlog_threshold >= 0:
        state.slowlog_push(c, spec, marker.argv, total)


def _error_reply(c: Client, text: bytes) -> ErrorReply:
    from .dispatch import _error_reply as counted  # errorstats, as for any error reply

    return counted(c, text)


def _count_failed(c: Client) -> None:
    from .spec import lookup

    spec = lookup(c.last_cmd)
    if spec is not None:
        spec.failed_calls += 1


def manager(state: ServerState) -> BlockingManager:
    m = getattr(state, "blocking", None)
    if m is None:
        m = state.blocking = BlockingManager(state)
    return m
