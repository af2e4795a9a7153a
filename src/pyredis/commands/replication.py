"""Replication commands, as Redis 7.0 (replication.c): SYNC, PSYNC, REPLCONF, REPLICAOF /
SLAVEOF, ROLE, WAIT and FAILOVER.

The state they read and change is core/replication.py (`ctx.server.repl`); what needs
sockets, forks and timers (turning a connection into a replica, producing and sending the
RDB, connecting to a master) is done by the server's replication driver, `repl.io`
(server/replication.py). Without a running server (no driver) the commands that need one
answer an error.
"""

from __future__ import annotations

from ..core.args import to_int, to_range_int
from ..core.blocking import Blocked, may_block, parse_timeout
from ..core.client import Client
from ..core.replication import ONLINE
from ..core.spec import command
from ..core.waitaof import request_acks
from ..errors import NOT_INTEGER, SYNTAX, CommandError
from ..protocol.replies import NO_REPLY, OK, Simple


def _io(ctx: Client):
    io = ctx.server.repl.io
    if io is None:
        raise CommandError("ERR replication needs a running server")
    return io


# --- SYNC / PSYNC -------------------------------------------------------------------------------
@command("SYNC", arity=1, flags="admin noscript no_async_loading no_multi", group="server", since="1.0.0",
         complexity="")
def sync(ctx: Client):
    """Internal command used for replication."""
    return _io(ctx).sync_command(ctx, list(ctx.argv))


@command("PSYNC", arity=-3, flags="admin noscript no_async_loading no_multi", group="server", since="2.8.0",
         complexity="")
def psync(ctx: Client, replid: bytes, offset: bytes, *rest: bytes):
    """Internal command used for replication."""
    return _io(ctx).sync_command(ctx, list(ctx.argv))


# --- REPLCONF -----------------------------------------------------------------------------------
@command("REPLCONF", arity=-1, flags="admin noscript loading stale allow_busy", group="server", since="3.0.0",
         complexity="O(1)")
def replconf(ctx: Client, *args: bytes):
    """An internal command for configuring the replication stream."""
    if len(args) % 2:
        raise CommandError(SYNTAX)
    repl = ctx.server.repl
    r = ctx.replica
    for i in range(0, len(args), 2):
        opt, val = args[i].lower(), args[i + 1]
        if opt == b"listening-port":
            port = to_int(val)
            if r is not None:
                r.port = port
            else:
                ctx.extra["repl_port"] = port
        elif opt == b"ip-address":
            if len(val) >= 46:  # NET_HOST_STR_LEN
                raise CommandError("ERR REPLCONF ip-address provided by replica instance is too long: "
                                   "%d bytes" % len(val))
            ctx.extra["repl_ip"] = val.decode("utf-8", "replace")
            if r is not None:
                r.ip = ctx.extra["repl_ip"]
        elif opt == b"capa":
            capa = val.lower()
            if capa in (b"eof", b"psync2"):
                ctx.extra.setdefault("repl_capa", set()).add(capa)
        elif opt == b"ack":
            # the replica's processed offset; no reply, as Redis (even to a non-replica)
            if r is None:
                return NO_REPLY
            off = _to_long_long(val)
            if off is None:
                return NO_REPLY
            if repl.io is not None:
                repl.io.replica_ack(r, off)
            return NO_REPLY
        elif opt == b"getack":
            if repl.masterhost is not None and repl.master is not None and repl.io is not None:
                repl.io.send_ack()
            return NO_REPLY
        elif opt == b"rdb-only":
            on = to_range_int(val, 0, 1)
            ctx.extra["repl_rdb_only"] = bool(on)
        elif opt == b"rdb-filter-only":
            from ..protocol.parser import sdssplitargs

            filters = sdssplitargs(val)
            if filters is None:
                raise CommandError("ERR Missing rdb-filter-only values")
            for f in filters:
                if f.lower() != b"functions":
                    raise CommandError("ERR Unsupported rdb-filter-only option: %s" % f.decode("utf-8", "replace"))
            ctx.extra["repl_rdb_filter"] = [f.lower() for f in filters]
        else:
            raise CommandError("ERR Unrecognized REPLCONF option: %s" % args[i].decode("utf-8", "replace"))
    return OK


def _to_long_long(b: bytes) -> int | None:
    try:
        return to_int(b)
    except CommandError:
        return None


# --- REPLICAOF / SLAVEOF ------------------------------------------------------------------------
def _replicaof(ctx: Client, host: bytes, port: bytes):
    repl = ctx.server.repl
    if repl.failover_state != "no-failover":
        raise CommandError("ERR REPLICAOF not allowed while failing over.")
    if host.lower() == b"no" and port.lower() == b"one":
        if repl.masterhost is not None:
            _io(ctx).unset_master()
            from ..core.clients import client_info_line

            repl.log("notice", "MASTER MODE enabled (user request from '%s')"
                     % client_info_line(ctx).decode("utf-8", "replace"))
        return OK
    if ctx.replica is not None:
        raise CommandError("ERR Command is not valid when client is a replica.")
    p = to_range_int(port, 0, 65535, "ERR Invalid master port")
    h = host.decode("utf-8", "surrogateescape")
    if repl.masterhost is not None and repl.masterhost.lower() == h.lower() and repl.masterport == p:
        repl.log("notice", "REPLICAOF would result into synchronization with the master we are already "
                 "connected with. No operation performed.")
        return Simple(b"OK Already connected to specified master")
    _io(ctx).set_master(h, p)
    from ..core.clients import client_info_line

    repl.log("notice", "REPLICAOF %s:%d enabled (user request from '%s')"
             % (h, p, client_info_line(ctx).decode("utf-8", "replace")))
    return OK


@command("REPLICAOF", arity=3, flags="admin noscript stale no_async_loading", group="server", since="5.0.0",
         complexity="O(1)")
def replicaof(ctx: Client, host: bytes, port: bytes):
    """Configures a server as replica of another, or promotes it to a master."""
    return _replicaof(ctx, host, port)


@command("SLAVEOF", arity=3, flags="admin noscript stale no_async_loading", group="server", since="1.0.0",
         complexity="O(1)")
def slaveof(ctx: Client, host: bytes, port: bytes):
    """Sets a Redis server as a replica of another, or promotes it to being a master."""
    return _replicaof(ctx, host, port)


# --- ROLE ---------------------------------------------------------------------------------------
@command("ROLE", arity=1, flags="noscript loading stale fast", group="server", acl="admin dangerous",
         since="2.8.12", complexity="O(1)")
def role(ctx: Client):
    """Returns the replication role."""
    return ctx.server.repl.role_reply()


# --- WAIT ---------------------------------------------------------------------------------------
WAIT_ON_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
                   "replica is configured to be writable (which is not the default) writes to replicas are just "
                   "local and are not propagated.")


@command("WAIT", arity=3, flags="noscript", group="generic", acl="connection", since="3.0.0",
         changed={"7.2": dict(flags=""), ("7.4", "valkey-8.0"): dict(flags="blocking")})
def wait(ctx: Client, numreplicas: bytes, timeout: bytes):
    """Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."""
    repl = ctx.server.repl
    if repl.masterhost is not None:
        raise CommandError(WAIT_ON_REPLICA)
    n = to_int(numreplicas)
    t = parse_timeout(timeout, seconds=False, ctx=ctx)
    offset = ctx.repl_woff
    acks = repl.count_acks(offset)
    if acks >= n or not may_block(ctx):
        return acks
    if not repl.replicas:
        request_acks(ctx.server)  # 7.2+ counts the GETACK in its offset even without replicas
    repl.wait_for(ctx, offset, n)
    return Blocked((), t, _never_ready, lambda: repl.wait_timed_out(ctx, offset))


def _never_ready(ctx: Client, key: bytes):
    return None


# --- FAILOVER -----------------------------------------------------------------------------------
@command("FAILOVER", arity=-1, flags="admin noscript stale", group="server", since="6.2.0", complexity="O(1)")
def failover(ctx: Client, *args: bytes):
    """Starts a coordinated failover from a server to one of its replicas."""
    repl = ctx.server.repl
    if len(args) == 1 and args[0].lower() == b"abort":
        if repl.failover_state == "no-failover":
            raise CommandError("ERR No failover in progress.")
        _io(ctx).abort_failover("Failover manually aborted")
        return OK
    timeout = 0
    force = False
    host = None
    port = 0
    i = 0
    n = len(args)
    while i < n:
        a = args[i].lower()
        if a == b"timeout" and i + 1 < n and timeout == 0:
            timeout = to_int(args[i + 1], NOT_INTEGER)
            if timeout <= 0:
                raise CommandError("ERR FAILOVER timeout must be greater than 0")
            i += 2
        elif a == b"to" and i + 2 < n and host is None:
            port = to_int(args[i + 2], NOT_INTEGER)
            host = args[i + 1].decode("utf-8", "surrogateescape")
            i += 3
        elif a == b"force" and not force:
            force = True
            i += 1
        else:
            raise CommandError(SYNTAX)
    if repl.failover_state != "no-failover":
        raise CommandError("ERR FAILOVER already in progress.")
    if repl.masterhost is not None:
        raise CommandError("ERR FAILOVER is not valid when server is a replica.")
    if not repl.replicas:
        raise CommandError("ERR FAILOVER requires connected replicas.")
    if force and (not timeout or host is None):
        raise CommandError("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
    if host is not None:
        r = repl.find_replica(host, port)
        if r is None:
            raise CommandError("ERR FAILOVER target HOST and PORT is not a replica.")
        if r.state != ONLINE:
            raise CommandError("ERR FAILOVER target replica is not online.")
    _io(ctx).start_failover(host, port, timeout, force)
    return OK
