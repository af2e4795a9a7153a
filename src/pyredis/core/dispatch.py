"""execute(client, argv) -> reply: Redis's processCommand() as named steps, then call().

The steps, in Redis 7.0's order (each one a function below, named after what it checks):

    lookup      unknown command / subcommand (and the cross-protocol guard: POST, Host:)
    arity       wrong number of arguments
    protected   DEBUG / MODULE with enable-debug-command / enable-module-command no|yes|local
    auth        NOAUTH
    no_multi    a command MULTI cannot queue (inside MULTI)
  --- the rare steps: skipped with one test while state.gates is 0 ---
    acl         NOPERM                                  (GATE_ACL: core/acl.py, while some user is restricted)
    oom         -OOM ... maxmemory: evict, refuse denyoom (GATE_OOM: maxmemory set; core/evict.py)
    misconf     -MISCONF: a failed save or AOF write     (GATE_DISK: state.disk_error)
    readonly    -NOREPLICAS (min-replicas-to-write), then -READONLY on a read-only replica
                                                         (GATE_READONLY: core/replication.py)
  ---
    pubsub      a RESP2 client in subscriber mode runs only (P|S)(UN)SUBSCRIBE / PING / QUIT / RESET
  --- rare again ---
    stale       -MASTERDOWN: a replica whose link is down with replica-serve-stale-data no
                                                         (GATE_STALE: core/replication.py)
    loading     -LOADING while the dataset loads         (GATE_LOADING)
    busy        -BUSY while a script runs too long        (GATE_BUSY: state.busy_script)
    replica     a replica's connection may not touch the keyspace  (GATE_REPLICAS: while one is attached)
    pause       CLIENT PAUSE holds the client             (GATE_PAUSE: state.pause, core/pause.py)
  ---
    queue       inside MULTI: +QUEUED
    call        the handler, then the after-call effects (call() below)

A gate that is off costs nothing but the `state.gates` test: subsystems switch their bit with
state.set_gate(bit, on) and keep what the step reads on the ServerState (no process-global
tables: two servers in one process do not see each other's gates).

After the call, in one place and in this order: command stats, the latency monitor's command
event and the command's latency histogram (core/latency.py), slowlog (the argv as the client
sent it), MONITOR (core/monitor.py), client-side-caching bookkeeping, propagation
(core/propagate.py: the effects of the call, MULTI/EXEC-wrapped once), then serving the
clients blocked on keys this command wrote.

MULTI/EXEC, scripts (redis.call) and AOF loading all come through here too, which is why
handlers never touch the socket.
"""

from __future__ import annotations

import time

from ..errors import (
    BUSY_EVAL,
    BUSY_FUNCTION,
    LOADING,
    NOAUTH,
    NOT_IN_MULTI,
    CommandError,
    unknown_command,
    unknown_subcommand,
    wrong_arity,
)
from ..protocol.replies import QUEUED, ErrorReply
from .blocking import Blocked
from .client import Client
from .cmdflags import compat_script, script_flags
from .evict import SCRIPT_COMMANDS, denyoom
from .spec import TABLE, CommandSpec
from .transactions import exec_abort_reply

_perf = time.perf_counter_ns

# state.gates bits: which rare steps are active on a server.
GATE_ACL = 1
GATE_OOM = 2
GATE_DISK = 4
GATE_READONLY = 8
GATE_LOADING = 16
GATE_BUSY = 32
GATE_PAUSE = 64
GATE_STALE = 128
GATE_REPLICAS = 256
_BEFORE_PUBSUB = GATE_ACL | GATE_OOM | GATE_DISK | GATE_READONLY
_AFTER_PUBSUB = GATE_STALE | GATE_LOADING | GATE_BUSY | GATE_REPLICAS | GATE_PAUSE

# Commands a RESP2 client in subscriber mode may still run.
_PUBSUB_ALLOWED = frozenset(
    [b"ping", b"subscribe", b"ssubscribe", b"unsubscribe", b"sunsubscribe", b"psubscribe",
     b"punsubscribe", b"quit", b"reset"]
)
# Commands that are executed, not queued, inside MULTI.
_MULTI_IMMEDIATE = frozenset([b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"])
# Run inside MULTI even when flagged no_multi (Valkey 8 flags MULTI and WATCH, which then get
# the generic "not allowed inside a transaction" where Redis has their own errors)
_NO_MULTI_EXEMPT = frozenset([b"exec", b"discard", b"quit", b"reset"])
_CROSS_PROTOCOL = (b"post", b"host:")
_EVALS = frozenset([b"eval", b"eval_ro", b"evalsha", b"evalsha_ro"])



def _error_reply(c: Client, text: bytes) -> ErrorReply:
    c.server.stats.count_error(text)
    return ErrorReply(text)


def reject(c: Client, text: str | bytes, spec: CommandSpec | None = None) -> ErrorReply:
    """Refuse a command before it runs (Redis's rejectCommand): inside MULTI it aborts EXEC."""
    if isinstance(text, str):
        text = text.encode()
    if c.multi is not None:
        c.multi_error = True
    if spec is not None and spec.name_bytes == b"exec":  # even outside MULTI, as Redis
        spec.rejected_calls += 1
        return _error_reply(c, exec_abort_reply(c, text))
    if spec is not None:
        spec.rejected_calls += 1
    return _error_reply(c, text)


def resolve(argv: list[bytes], table: dict[bytes, CommandSpec] | None = None) -> CommandSpec | CommandError:
    """Find the spec for argv, checking arity; an error (unknown command, wrong arity) otherwise.
    `table`: the server's table (state.commands); every declared command without one."""
    if table is None:
        table = TABLE
    name = argv[0]
    spec = table.get(name)
    if spec is None:
        spec = table.get(name.lower())
        if spec is None:
            return unknown_command(argv)
    if spec.subcommands:
        if len(argv) >= 2:
            sub = spec.subcommands.get(argv[1].lower())
            if sub is None:
                return unknown_subcommand(argv[1], spec.name)
            spec = sub
        elif spec.handler is None:  # COMMAND alone has a handler of its own
            return wrong_arity(spec.fullname)
    n = len(argv)
    a = spec.arity
    if (a > 0 and n != a) or n < -a:
        return wrong_arity(spec.fullname)
    return spec


def _spelled(state, name: bytes) -> CommandSpec | None:
    """The top-level spec of a command name as a client spelled it, from the server's table
    (its mode's, core/commandtable.py), remembered in state.spelling (the exact spellings seen,
    at most 4096): execute and load_command read state.spelling inline and call this on a miss."""
    spec = state.commands.get(name.lower())
    spelling = state.spelling
    if spec is not None and len(spelling) < 4096:
        spelling[name] = spec
    return spec


def execute(c: Client, argv: list[bytes]):
    # lookup + arity, the common case (a known top-level command) inlined: this is the hot path
    state = c.server
    spec = state.spelling.get(argv[0])
    if spec is None:
        spec = _spelled(state, argv[0])
    if spec is None or spec.subcommands:
        spec = resolve(argv, state.commands)
        if type(spec) is CommandError:
            if argv[0].lower() in _CROSS_PROTOCOL:
                return cross_protocol(c)
            return reject(c, spec.text)
    else:
        a = spec.arity
        if (a > 0 and len(argv) != a) or len(argv) < -a:
            return reject(c, wrong_arity(spec.fullname).text, spec)
    c.last_cmd = spec.name_bytes  # CLIENT LIST's cmd=: set at lookup, as Redis's c->lastcmd
    multi = c.multi
    # protected, auth, no_multi: one test on the common path (an authenticated client outside
    # MULTI running an unprotected command), the steps in order otherwise
    if spec.protected_by is not None or multi is not None or not c.authenticated:
        err = guard(c, spec, multi)
        if err is not None:
            return reject(c, err, spec)
    if state.gates:  # a rare gate is on (GATE_* bits): the steps around pubsub in order
        err = gated(c, spec, argv, state.gates)
        if err is not None:
            return reject(c, err, spec)
        if state.gates & GATE_PAUSE and state.pause.holds(c, spec, argv):  # pause
            return state.pause.hold(c, argv)
    # pubsub
    elif (c.subscriptions or c.psubscriptions or c.ssubscriptions) and c.resp == 2:
        err = pubsub_refusal(spec)
        if err is not None:
            return reject(c, err, spec)
    # queue (a transaction already doomed keeps nothing, as Redis's queueMultiCommand)
    if multi is not None and spec.name_bytes not in _MULTI_IMMEDIATE:
        if not multi:
            c.multi_denyoom = False
        if not c.multi_error and not c.dirty_cas:
            # mstate.cmd_flags: EXEC is denyoom if a command was when queued (a script's flags
            # as known then)
            if not c.multi_denyoom and (spec.denyoom or spec.name_bytes in SCRIPT_COMMANDS):
                c.multi_denyoom = denyoom(state, spec, argv)
            multi.append((spec, argv))
        return QUEUED
    reply = call(c, spec, argv)
    bl = state.blocking
    if bl is not None and bl.ready and not state.time_frozen:
        bl.handle_ready()  # serve clients blocked on keys this command wrote
    return reply


def replay(c: Client, argv: list[bytes]):
    """A command of the master's stream (a replica's link): no gate applies (the master
    accepted it), MULTI queues as for a client so that EXEC runs the transaction; call()
    counts it as Redis's processCommand does."""
    spec = _resolve_or_queue(c, argv)
    if type(spec) is not CommandSpec:
        return spec
    return call(c, spec, argv)


def _resolve_or_queue(c: Client, argv: list[bytes]):
    """The command's spec, or the answer without running it: unknown (an error), or queued
    inside MULTI."""
    spec = resolve(argv, c.server.commands)
    if type(spec) is CommandError:
        return ErrorReply(spec.text)
    if c.multi is not None and spec.name_bytes not in _MULTI_IMMEDIATE:
        c.multi.append((spec, argv))
        return QUEUED
    return spec


def load_command(c: Client, argv: list[bytes]):
    """A command read back from the AOF (Redis's loadSingleAppendOnlyFile): no gate applies
    (the command was accepted when it was written; the server is loading), MULTI queues, and
    the command runs as `cmd->proc(fakeClient)`, not through call(): no command statistics,
    latency, slowlog or propagation (INFO commandstats after a restart shows only what clients
    sent since). EXEC's queued commands do go through call(), as Redis's execCommand."""
    server = c.server
    # lookup + arity of a known top-level command outside MULTI inlined, as in execute: an AOF
    # is millions of these
    spec = server.spelling.get(argv[0])
    if spec is None:
        spec = _spelled(server, argv[0])
    if spec is None or spec.subcommands or c.multi is not None or (
            (spec.arity > 0 and len(argv) != spec.arity) or len(argv) < -spec.arity):
        spec = _resolve_or_queue(c, argv)
        if type(spec) is not CommandSpec:
            return spec
    if not server.time_frozen:
        server.now_cache = 0
    c.argv = argv
    server.current_client = c
    c.db.counting = spec.readonly
    try:
        return spec.handler(c, *argv[spec.argskip:])
    except CommandError as e:
        return _error_reply(c, e.text)
    except Exception as e:
        return _internal_error(c, spec, e)
    finally:
        c.propagate_as = None


def load_sets(c: Client, cmds: list[list[bytes]], i: int) -> tuple[int, bool]:
    """A run of at least eight plain SETs (`SET key value`, three arguments) at cmds[i:],
    loaded as load_command would load each, in one Database.set_strings: when nothing else
    sees a SET of a string key (no keyspace events, key watchers or LFU counter; no TTL in the
    database that a SET would first expire; outside MULTI), each one is the store and a dirty
    count. Returns the index after the run of plain SETs at i (i: none there) and whether it
    was loaded (False: shorter than eight, or the conditions do not hold; load_command then
    loads them one by one)."""
    server = c.server
    spelling = server.spelling
    argv = cmds[i]
    spec = spelling.get(argv[0])
    if spec is None:
        spec = _spelled(server, argv[0])
    if spec is None or spec.name_bytes != b"set" or len(argv) != 3:
        return i, False
    j = i + 1
    n = len(cmds)
    while j < n:
        argv = cmds[j]
        if len(argv) != 3 or spelling.get(argv[0]) is not spec:
            break
        j += 1
    db = c.db
    if (j - i < 8 or c.multi is not None or server.notify_flags or server.key_change_hooks or db.lfu is not None
            or db.expires):
        return j, False
    run = cmds[i:j]
    if not server.time_frozen:
        server.now_cache = 0
    c.argv = run[-1]
    server.current_client = c
    db.counting = False
    db.set_strings([a[1] for a in run], [a[2] for a in run])
    server.dirty += j - i
    return j, True


def _internal_error(c: Client, spec: CommandSpec, e: Exception) -> ErrorReply:
    log = getattr(c.server.server, "log", None)
    if log is not None:
        import traceback

        log("warning", f"Internal error executing '{spec.fullname}': {e!r}\n{traceback.format_exc()}")
    return _error_reply(c, b"ERR internal error while executing '%s': %s" % (
        spec.fullname.encode(), type(e).__name__.encode()))


# --- the steps ----------------------------------------------------------------------------------
def cross_protocol(c: Client):
    """A request that starts like HTTP (`POST ...`, `Host: ...`): a browser driven by a web
    page talking to the server. Redis frees the client at once: no reply, not even the
    replies of the requests before it in the same read; logged at most once a minute."""
    state = c.server
    now = time.time()
    if abs(now - state.security_warned_at) > 60:
        state.security_warned_at = now
        srv = state.server
        if srv is not None:
            srv.log("warning", "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: "
                    "commands to Redis. This is likely due to an attacker attempting to use Cross Protocol "
                    "Scripting to compromise your Redis instance. Connection aborted.")
    c.close_after_reply = True
    c.abort = True
    from ..protocol.replies import NO_REPLY

    return NO_REPLY


def guard(c: Client, spec: CommandSpec, multi) -> str | None:
    """The protected, auth and no_multi steps, in that order."""
    if spec.protected_by is not None:
        err = protected(c, spec)
        if err is not None:
            return err
    if not c.authenticated and not spec.no_auth and c.server.acl.auth_required():
        return NOAUTH
    if multi is not None and spec.no_multi and spec.name_bytes not in _NO_MULTI_EXEMPT:
        return NOT_IN_MULTI
    return None


def protected_allowed(c: Client, option: str) -> bool:
    """A protected action (DEBUG, MODULE, protected configs) under option = no | yes | local."""
    v = c.server.config[option]
    if v == "yes":
        return True
    if v == "local":
        host = c.addr.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "::1", "[::1]") or c.unix_socket or c.fd == -1
    return False


def protected(c: Client, spec: CommandSpec) -> str | None:
    option = spec.protected_by
    if protected_allowed(c, option):
        return None
    name = spec.fullname.split("|")[0].upper()
    return ('ERR %s command not allowed. If the %s option is set to "local", you can run it from a local '
            "connection, otherwise you need to set this option in the configuration file, and then restart "
            "the server." % (name, option))


def pubsub_refusal(spec: CommandSpec) -> str | None:
    """A RESP2 client in subscribed mode may run only the pub/sub commands, PING, QUIT, RESET."""
    if spec.name_bytes in _PUBSUB_ALLOWED:
        return None
    return ("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
            "in this context" % spec.fullname)


def gated(c: Client, spec: CommandSpec, argv: list[bytes], gates: int) -> str | bytes | None:
    """The gates before pubsub (acl, oom, misconf), pubsub, the gates after it (loading, busy)."""
    if gates & _BEFORE_PUBSUB:
        err = gates_before_pubsub(c, spec, gates, argv)
        if err is not None:
            return err
    if (c.subscriptions or c.psubscriptions or c.ssubscriptions) and c.resp == 2:
        err = pubsub_refusal(spec)
        if err is not None:
            return err
    if gates & _AFTER_PUBSUB:
        return gates_after_pubsub(c, spec, gates, argv)
    return None


def gates_before_pubsub(c: Client, spec: CommandSpec, gates: int, argv: list[bytes]) -> str | bytes | None:
    state = c.server
    if gates & GATE_ACL and not c.acl_user.full:  # acl: a client whose user is restricted
        err = state.acl.check(c, spec, argv)
        if err is not None:
            return err
    if gates & GATE_OOM:  # oom
        err = state.evictor.oom_check(c, spec, argv)
        if err is not None:
            return err
    if gates & GATE_DISK and (spec.write or spec.name_bytes == b"ping"):  # misconf
        err = state.disk_error()
        if err is not None:
            return err
    if gates & GATE_READONLY and is_write(c, spec, argv):  # noreplicas, readonly
        err = state.repl.write_refused(c)
        if err is not None:
            return err
    return None


def _flags_of(c: Client, spec: CommandSpec, argv) -> tuple[bool, bool]:
    """(write, stale) of one command as getCommandFlags: a script or function that declares
    flags is a write unless no-writes, stale only with allow-stale (core/cmdflags). Redis
    7.0.15 refuses a shebang-less script on a stale replica (MASTERDOWN) although EVAL has the
    `stale` flag: such a script counts as not stale."""
    name = spec.name_bytes
    if argv is not None and name in SCRIPT_COMMANDS:
        flags = script_flags(c.server, name, argv)
        if flags is not None:
            return "no-writes" not in flags, "allow-stale" in flags
        if name in _EVALS and compat_script(c.server, name, argv):
            return spec.write, False
    return spec.write, spec.stale


def is_write(c: Client, spec: CommandSpec, argv=None) -> bool:
    """Redis's is_write_command: a write command, or EXEC of a transaction that queued one."""
    if spec.write:
        return True
    if spec.name_bytes == b"exec":
        return c.multi is not None and any(_flags_of(c, s, a)[0] for s, a in c.multi)
    return spec.name_bytes in SCRIPT_COMMANDS and _flags_of(c, spec, argv)[0]


def _denies_stale(c: Client, spec: CommandSpec, argv=None) -> bool:
    """is_denystale_command: no `stale` flag, or EXEC of a transaction with such a command."""
    if spec.name_bytes == b"exec":
        return c.multi is not None and any(not _flags_of(c, s, a)[1] for s, a in c.multi)
    return not _flags_of(c, spec, argv)[1]


def gates_after_pubsub(c: Client, spec: CommandSpec, gates: int, argv=None) -> str | None:
    state = c.server
    if gates & GATE_STALE and _denies_stale(c, spec, argv):  # stale
        from .replication import MASTERDOWN

        return MASTERDOWN
    if gates & GATE_LOADING and state.loading and not spec.loading:  # loading
        return LOADING
    if gates & GATE_BUSY and not spec.allow_busy:  # busy
        run = state.busy_script
        if run is not None:
            return BUSY_EVAL if run.is_eval else BUSY_FUNCTION
    if gates & GATE_REPLICAS and c.replica is not None and (spec.write or spec.readonly or spec.may_replicate):
        return "ERR Replica can't interact with the keyspace"  # a replica's own connection
    return None


def _no_touch_call(c: Client, spec: CommandSpec, argv: list[bytes]):
    """CLIENT NO-TOUCH (Redis 7.2's LOOKUP_NOTOUCH for the client's commands but TOUCH): the
    keys the command names keep their access time (LRU/LFU); a value it replaced keeps the new
    one, as a new object has in Redis."""
    db = c.db
    data, lru = db.data, db.lru
    keys = [argv[i] for i in spec.key_positions(argv)]
    saved = [(k, data[k], lru.get(k)) for k in keys if k in data]
    try:
        return spec.handler(c, *argv[spec.argskip:])
    finally:
        for k, v, t in saved:
            if data.get(k) is v:
                if t is None:
                    lru.pop(k, None)
                else:
                    lru[k] = t


# --- call ------------------------------------------------------------------------------------
def call(c: Client, spec: CommandSpec, argv: list[bytes]):
    """Run one resolved command: the handler, then the after-call effects (stats, slowlog,
    MONITOR, tracking, propagation)."""
    server = c.server
    if not server.time_frozen:
        server.now_cache = 0  # read lazily by the first thing that needs the time
    dirty = server.dirty
    c.argv = argv
    server.current_client = c
    c.db.counting = spec.readonly
    t0 = _perf()
    try:
        if c.no_touch and spec.name_bytes != b"touch":  # CLIENT NO-TOUCH (7.2)
            reply = _no_touch_call(c, spec, argv)
        else:
            reply = spec.handler(c, *argv[spec.argskip:])
    except CommandError as e:
        spec.failed_calls += 1
        reply = _error_reply(c, e.text)
    except Exception as e:  # a bug must cost one reply, not the connection or the server
        spec.failed_calls += 1
        reply = _internal_error(c, spec, e)
    dur = (_perf() - t0) // 1000
    # stats
    spec.usec += dur
    spec.calls += 1
    c.ncalls += 1
    server.stats.total_commands_processed += 1
    # latency monitor: the command / fast-command event (core/latency.py)
    if server.latency_us and dur >= server.latency_us:
        server.latency.add("fast-command" if spec.fast else "command", dur // 1000)
    # slowlog: the arguments as the client sent them (propagation may rewrite, argv stays);
    # a command that blocked is logged when it is served (blocking.served_after), and its
    # latency histogram gets it then too
    if spec.may_block and type(reply) is Blocked:
        reply.spec, reply.argv, reply.usec, reply.t0 = spec, argv, dur, t0
    else:
        if server.latency_tracking:
            spec.lat.append(dur)
        if dur >= server.slowlog_threshold >= 0:
            server.slowlog_push(c, spec, argv, dur)
    # monitor
    if server.monitors:
        from .monitor import feed

        feed(c, spec, argv)
    # tracking
    if c.tracking is not None and spec.readonly:
        server.tracking.remember(c, [argv[i] for i in spec.key_positions(argv)])
    # propagation
    if server.dirty != dirty or c.propagate_as is not None:
        prop = server.propagation
        if prop.active:
            if c.propagate_as is not None:
                dbid = c.db.id
                prop.emit_all([(dbid, a) for a in c.propagate_as])
            elif spec.write or spec.may_replicate:
                prop.emit(c.db.id, argv)
        c.propagate_as = None
    return reply
