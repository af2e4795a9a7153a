"""Connection commands: PING ECHO QUIT HELLO SELECT RESET AUTH CLIENT ..."""

from __future__ import annotations

import time

from ..core.acl import redact
from ..core.args import LONG_MAX, to_int, to_int32, to_range_int
from ..core.client import Client
from ..core.clients import client_info_line, client_type
from ..core.spec import command, container
from ..errors import INVALID_DB, NOPASS, SYNTAX, WRONGPASS, CommandError
from ..protocol.replies import OK, PONG, Simple


@command("PING", arity=-1, flags="fast", group="connection", since="1.0.0")
def ping(ctx: Client, *args: bytes):
    """Returns the server's liveliness response."""
    if len(args) > 1:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    if ctx.resp == 2 and (ctx.subscriptions or ctx.psubscriptions or ctx.ssubscriptions):
        return [b"pong", args[0] if args else b""]
    return args[0] if args else PONG


@command("ECHO", arity=2, flags="loading stale fast", group="connection")
def echo(ctx: Client, message: bytes):
    """Returns the given string."""
    return message


@command("QUIT", arity=-1, flags="allow_busy noscript loading stale fast no_auth", group="connection")
def quit_(ctx: Client, *args: bytes):
    """Closes the connection."""
    ctx.close_after_reply = True
    return OK


@command("SELECT", arity=2, flags="loading stale fast", group="connection")
def select(ctx: Client, index: bytes):
    """Changes the selected database."""
    dbid = to_int32(index)  # getIntFromObjectOrReply: beyond a C int, Redis's range text
    if dbid < 0 or dbid >= len(ctx.server.dbs):
        raise CommandError(INVALID_DB)
    ctx.select(dbid)
    return OK


@command("AUTH", arity=-2, flags="noscript loading stale fast no_auth allow_busy", group="connection")
def auth(ctx: Client, *args: bytes):
    """Authenticates the connection."""
    if len(args) > 2:
        raise CommandError(SYNTAX)
    redact(ctx, 1, 2)
    acl = ctx.server.acl
    if len(args) == 1:
        if acl.default.nopass:
            raise CommandError(NOPASS)
        username, password = b"default", args[0]
    else:
        username, password = args
    if not acl.authenticate(ctx, username, password, ctx.argv[0]):
        raise CommandError(WRONGPASS)
    return OK


def _hello_map(ctx: Client) -> dict:
    compat = ctx.server.compat
    return {
        b"server": compat.server_name.encode(),
        b"version": compat.version.encode(),
        b"proto": ctx.resp,
        b"id": ctx.id,
        b"mode": b"standalone",
        b"role": b"replica" if ctx.server.repl.masterhost is not None else b"master",
        b"modules": [],
    }


@command("HELLO", arity=-1, flags="noscript loading stale fast no_auth allow_busy", group="connection", since="6.0.0")
def hello(ctx: Client, *args: bytes):
    """Handshakes with the Redis server."""
    ver = None
    i = 0
    if args:
        v = to_int(args[0], "ERR Protocol version is not an integer or out of range")
        if v < 2 or v > 3:
            raise CommandError("NOPROTO unsupported protocol version")
        ver = v
        i = 1
    username = password = name = None
    while i < len(args):
        opt = args[i].upper()
        more = len(args) - i - 1
        if opt == b"AUTH" and more >= 2:
            redact(ctx, i + 2, i + 3)
            username, password = args[i + 1], args[i + 2]
            i += 3
        elif opt == b"SETNAME" and more >= 1:
            name = args[i + 1]
            i += 2
        else:
            raise CommandError("ERR Syntax error in HELLO option '%s'" % args[i].decode("utf-8", "replace"))
    if username is not None and not ctx.server.acl.authenticate(ctx, username, password, ctx.argv[0]):
        raise CommandError(WRONGPASS)
    if not ctx.authenticated:
        proto = "<proto> " if ctx.server.compat.at_least("7.2") else ""
        raise CommandError("NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                           f"HELLO {proto}AUTH <user> <pass> option can be used to authenticate the client and "
                           "select the RESP protocol version at the same time")
    if name is not None:
        validate_client_name(name, ctx.server.compat.at_least("7.2"))
        ctx.name = name
    if ver is not None:
        ctx.resp = ver
    return _hello_map(ctx)


def validate_client_name(name: bytes, later: bool = False) -> None:
    if later:  # 7.2 checks the name as a C string: up to its first NUL
        name = name.split(b"\0", 1)[0]
    for c in name:
        if c < 33 or c > 126:
            raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")


@command("RESET", arity=1, flags="noscript loading stale fast no_auth allow_busy", group="connection", since="6.2.0")
def reset(ctx: Client):
    """Resets the connection."""
    for hook in ctx.server.reset_hooks:
        hook(ctx)
    ctx.multi = None
    ctx.multi_error = False
    ctx.watched = None
    ctx.dirty_cas = False
    ctx.select(0)
    ctx.resp = 2
    ctx.name = b""
    ctx.reply_mode = "on"
    ctx.no_touch = False  # (CLIENT NO-EVICT stays: Redis 7.0's RESET keeps it)
    ctx.server.acl.set_default_auth(ctx)
    return Simple(b"RESET")


# --- CLIENT ----------------------------------------------------------------------------
container("CLIENT", group="connection", summary="A container for client connection commands.", since="2.4.0")


@command("CLIENT|ID", arity=2, flags="noscript loading stale", group="connection", since="5.0.0")
def client_id(ctx: Client):
    """Returns the unique client ID of the connection."""
    return ctx.id


@command("CLIENT|SETNAME", arity=3, flags="noscript loading stale", group="connection", since="2.6.9")
def client_setname(ctx: Client, name: bytes):
    """Sets the connection name."""
    validate_client_name(name, ctx.server.compat.at_least("7.2"))
    ctx.name = name
    return OK


@command("CLIENT|GETNAME", arity=2, flags="noscript loading stale", group="connection", since="2.6.9")
def client_getname(ctx: Client):
    """Returns the name of the connection."""
    return ctx.name or None


@command("CLIENT|INFO", arity=2, flags="noscript loading stale", group="connection", since="6.2.0")
def client_info(ctx: Client):
    """Returns information about the connection."""
    from ..protocol.replies import Verbatim

    return Verbatim(client_info_line(ctx) + b"\n")


@command("CLIENT|LIST", arity=-2, flags="admin noscript loading stale", group="connection", since="2.4.0")
def client_list(ctx: Client, *args: bytes):
    """Lists open connections."""
    from ..protocol.replies import Verbatim

    clients = ctx.server.clients
    if len(args) == 2 and args[0].lower() == b"type":
        keep = _type_filter(args[1])
        shown = [c for c in clients.values() if keep(c)]
    elif len(args) > 1 and args[0].lower() == b"id":
        # each id in argument order, repeats included; ids of no client (0, -1...) show nothing
        shown = []
        for a in args[1:]:
            c = clients.get(to_int(a, "ERR Invalid client ID"))
            if c is not None:
                shown.append(c)
    elif args:
        raise CommandError(SYNTAX)
    else:
        shown = list(clients.values())
    return Verbatim(b"".join(client_info_line(c) + b"\n" for c in shown))


def _type_filter(arg: bytes):
    """The TYPE of CLIENT LIST and CLIENT KILL as a predicate on clients."""
    t = arg.lower()
    if t not in (b"normal", b"master", b"replica", b"slave", b"pubsub"):
        raise CommandError("ERR Unknown client type '%s'" % arg.decode("utf-8", "replace"))
    want = "replica" if t == b"slave" else t.decode()
    return lambda c: client_type(c) == want


@command("CLIENT|KILL", arity=-3, flags="admin noscript loading stale", group="connection", since="2.4.0")
def client_kill(ctx: Client, *args: bytes):
    """Terminates open connections."""
    clients = ctx.server.clients
    if len(args) == 1:
        # the old form: every client from that address (all the unix socket's: "path:0"),
        # the caller included
        addr = args[0].decode("utf-8", "replace")
        victims = [c for c in clients.values() if c.addr == addr]
        for c in victims:
            _kill(ctx, c)
        if not victims:
            raise CommandError("ERR No such client")
        return OK
    filters = []
    skipme = True
    for i in range(0, len(args), 2):
        if i + 1 == len(args):  # an option without its value, once the ones before it are read
            raise CommandError(SYNTAX)
        opt, val = args[i].upper(), args[i + 1]
        if opt == b"ID":
            v = to_range_int(val, 1, LONG_MAX, "ERR client-id should be greater than 0")
            filters.append(lambda c, v=v: c.id == v)
        elif opt == b"ADDR":
            filters.append(lambda c, v=val.decode(): c.addr == v)
        elif opt == b"LADDR":
            filters.append(lambda c, v=val.decode(): c.laddr == v)
        elif opt == b"USER":
            u = ctx.server.acl.users.get(val)
            if u is None:
                raise CommandError("ERR No such user '%s'" % val.decode("utf-8", "replace"))
            filters.append(lambda c, u=u: c.acl_user is u)
        elif opt == b"TYPE":
            filters.append(_type_filter(val))
        elif opt == b"MAXAGE" and ctx.server.compat.at_least("7.4", "valkey-8.0"):
            age = to_int(val, "ERR maxage is not an integer or out of range")
            if age <= 0:
                raise CommandError("ERR maxage should be greater than 0")
            filters.append(lambda c, age=age: int(time.time() - c.ctime) > age)
        elif opt == b"SKIPME":
            s = val.lower()
            if s == b"yes":
                skipme = True
            elif s == b"no":
                skipme = False
            else:
                raise CommandError(SYNTAX)
        else:
            raise CommandError(SYNTAX)
    n = 0
    for c in list(clients.values()):
        if skipme and c is ctx:
            continue
        if all(f(c) for f in filters):
            _kill(ctx, c)
            n += 1
    return n


def _kill(ctx: Client, c: Client) -> None:
    if c is ctx:
        ctx.close_after_reply = True
    elif c.kill is not None:
        c.kill()


@command("CLIENT|NO-EVICT", arity=3, flags="admin noscript loading stale", group="connection", since="7.0.0")
def client_no_evict(ctx: Client, mode: bytes):
    """Sets the client eviction mode of the connection."""
    ctx.no_evict = _on_off(mode)
    return OK


def _on_off(mode: bytes) -> bool:
    """ON / OFF (any case) of the CLIENT switches; a syntax error otherwise."""
    m = mode.upper()
    if m == b"ON":
        return True
    if m == b"OFF":
        return False
    raise CommandError(SYNTAX)


@command("CLIENT|REPLY", arity=3, flags="noscript loading stale", group="connection", since="3.2.0")
def client_reply(ctx: Client, mode: bytes):
    """Instructs the server whether to reply to commands."""
    m = mode.upper()
    if m == b"ON":
        ctx.reply_mode = "on"
        return OK
    if m == b"OFF":
        ctx.reply_mode = "off"
    elif m == b"SKIP":
        ctx.reply_mode = "skip_next"
    else:
        raise CommandError(SYNTAX)
    from ..protocol.replies import NO_REPLY

    return NO_REPLY


@command("CLIENT|PAUSE", arity=-3, flags="admin noscript loading stale", group="connection", since="3.0.0")
def client_pause(ctx: Client, timeout: bytes, *mode: bytes):
    """Suspends commands processing."""
    from ..core.blocking import parse_timeout
    from ..core.pause import PAUSE_ALL, PAUSE_WRITE

    if len(mode) > 1:
        raise CommandError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
                           % (ctx.argv[1][:128], ctx.argv[0].upper()))
    kind = PAUSE_ALL
    if mode:
        m = mode[0].lower()
        if m == b"write":
            kind = PAUSE_WRITE
        elif m != b"all":
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    ms = parse_timeout(timeout, seconds=False)
    state = ctx.server
    # getTimeoutFromObjectOrReply: 0 stays 0 (a pause already over); a sum past LLONG_MAX
    # wraps negative in Redis, a pause over at once too
    end = ms + state.clock_ms() if ms > 0 else 0
    state.pause.pause(end if end <= LONG_MAX else -1, kind)
    return OK


@command("CLIENT|UNPAUSE", arity=2, flags="admin noscript loading stale", group="connection", since="6.2.0")
def client_unpause(ctx: Client):
    """Resumes processing commands from paused clients."""
    ctx.server.pause.unpause()
    return OK


@command("CLIENT|HELP", arity=2, flags="loading stale", group="connection", since="5.0.0")
def client_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return [Simple(x.encode()) for x in _client_help_lines(ctx.server.compat)]


def _client_help_lines(compat) -> list[str]:
    """CLIENT HELP as the mode's server words it."""
    later = compat.at_least("7.2")
    valkey = compat.valkey
    typ = "(NORMAL|PRIMARY|REPLICA|PUBSUB)" if valkey else "(NORMAL|MASTER|REPLICA|PUBSUB)"
    out = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    ]
    if valkey:
        out += [
            "CAPA <option> [options...]",
            "    The client claims its some capability options. Options are:",
            "    * REDIRECT",
            "      The client can handle redirection during primary and replica failover in standalone mode.",
        ]
    out += [
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        f"    * TYPE {typ}",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
    ]
    if compat.at_least("7.4", "valkey-8.0"):
        out += [
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
        ]
    out += [
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        f"    * TYPE {typ}",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
    ]
    if later:
        out += [
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
        ]
    out += [
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ]
    if later:
        out += ["NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on."]
    out += ["HELP", "    Print this help." if later else "    Prints this help."]
    return out


@command("CLIENT|SETINFO", arity=4, flags="noscript loading stale", group="connection", since="7.2.0")
def client_setinfo(ctx: Client, attr: bytes, value: bytes):
    """Sets information specific to the client or connection."""
    a = attr.lower()
    if a not in (b"lib-name", b"lib-ver"):
        raise CommandError(b"ERR Unrecognized option '%s'" % attr)
    for ch in value.split(b"\0", 1)[0]:  # (a C string: up to its first NUL)
        if ch < 33 or ch > 126:
            raise CommandError(b"ERR %s cannot contain spaces, newlines or special characters." % attr)
    if a == b"lib-name":
        ctx.lib_name = value
    else:
        ctx.lib_ver = value
    return OK


@command("CLIENT|NO-TOUCH", arity=3, flags="noscript loading stale", group="connection", since="7.2.0")
def client_no_touch(ctx: Client, mode: bytes):
    """Controls whether commands sent by the client affect the LRU/LFU of accessed keys."""
    ctx.no_touch = _on_off(mode)
    return OK



# --- client-side caching ---------------------------------------------------------------
@command("CLIENT|TRACKING", arity=-3, flags="noscript loading stale", group="connection", since="6.0.0")
def client_tracking(ctx: Client, mode: bytes, *options: bytes):
    """Controls server-assisted client-side caching for the connection."""
    from ..core.tracking import TrackingState

    m = mode.upper()
    tracking = ctx.server.tracking
    if m == b"OFF":
        tracking.disable(ctx)
        return OK
    if m != b"ON":
        raise CommandError(SYNTAX)
    opts = TrackingState()
    i = 0
    while i < len(options):
        o = options[i].upper()
        more = i + 1 < len(options)
        if o == b"REDIRECT" and more:
            rid = to_int(options[i + 1])
            if rid not in ctx.server.clients:
                raise CommandError("ERR The client ID you want redirect to does not exist")
            opts.redirect = rid
            i += 2
        elif o == b"BCAST":
            opts.bcast = True
            i += 1
        elif o == b"OPTIN":
            opts.optin = True
            i += 1
        elif o == b"OPTOUT":
            opts.optout = True
            i += 1
        elif o == b"NOLOOP":
            opts.noloop = True
            i += 1
        elif o == b"PREFIX" and more:
            opts.prefixes.append(options[i + 1])
            i += 2
        else:
            raise CommandError(SYNTAX)
    old = ctx.tracking
    if old is not None and old.bcast != opts.bcast:
        raise CommandError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
    if opts.prefixes and not opts.bcast:
        raise CommandError("ERR PREFIX option requires BCAST mode to be enabled")
    if opts.optin and opts.optout:
        raise CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if old is not None and ((opts.optin and old.optout) or (opts.optout and old.optin)):
        raise CommandError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
    if opts.bcast and (opts.optin or opts.optout):
        raise CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    overlap = None
    if opts.bcast:
        overlap = _prefix_collision(opts.prefixes, old.prefixes if old is not None else [])
        if overlap is not None and overlap[0] == 0:
            raise CommandError(overlap[1])
        if not opts.prefixes:
            opts.prefixes = [b""]  # BCAST alone: every key, the empty prefix
    if old is not None:
        # Prefixes accumulate across CLIENT TRACKING ON calls in BCAST mode, as in Redis.
        opts.prefixes = old.prefixes + [p for p in opts.prefixes if p not in old.prefixes]
    tracking.enable(ctx, opts)
    if overlap is not None:
        # Redis 7.0's checkPrefixCollisionsOrReply returns the index of the colliding prefix:
        # past the first one, the error is sent and tracking is enabled anyway, +OK following
        if ctx.after_reply is None:
            ctx.after_reply = []
        ctx.after_reply.append(OK)
        raise CommandError(overlap[1])
    return OK


def _prefix_collision(new: list[bytes], existing: list[bytes]) -> tuple[int, bytes] | None:
    """checkPrefixCollisionsOrReply: (index of the new prefix, error) for the first prefix that
    is a prefix of another (or has one), among the client's and then the ones given."""
    def text(p: bytes) -> bytes:
        return p.split(b"\0", 1)[0]  # %s of a C string

    for i, p in enumerate(new):
        for e in existing:
            if p.startswith(e) or e.startswith(p):
                return i, (b"ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client "
                           b"must not overlap." % (text(p), text(e)))
        for q in new[i + 1:]:
            if p.startswith(q) or q.startswith(p):
                return i, (b"ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single "
                           b"client must not overlap." % (text(p), text(q)))
    return None


@command("CLIENT|CACHING", arity=3, flags="noscript loading stale", group="connection", since="6.0.0")
def client_caching(ctx: Client, mode: bytes):
    """Instructs the server whether to track the keys in the next request."""
    t = ctx.tracking
    if t is None:
        raise CommandError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
    m = mode.upper()
    if m == b"YES":
        if not t.optin:
            raise CommandError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
        t.caching = True
    elif m == b"NO":
        if not t.optout:
            raise CommandError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
        t.caching = False
    else:
        raise CommandError(SYNTAX)
    return OK


@command("CLIENT|GETREDIR", arity=2, flags="noscript loading stale", group="connection", since="6.0.0")
def client_getredir(ctx: Client):
    """Returns the client ID to which the connection's tracking notifications are redirected."""
    t = ctx.tracking
    return -1 if t is None else t.redirect


@command("CLIENT|TRACKINGINFO", arity=2, flags="noscript loading stale", group="connection", since="6.2.0")
def client_trackinginfo(ctx: Client):
    """Returns information about server-assisted client-side caching for the connection."""
    from ..protocol.replies import SetReply

    t = ctx.tracking
    if t is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if t.bcast:
        flags.append(b"bcast")
    if t.optin:
        flags.append(b"optin")
        if t.caching is True:
            flags.append(b"caching-yes")
    if t.optout:
        flags.append(b"optout")
        if t.caching is False:
            flags.append(b"caching-no")
    if t.noloop:
        flags.append(b"noloop")
    if t.broken_redirect:
        flags.append(b"broken_redirect")
    return {b"flags": SetReply(flags), b"redirect": t.redirect, b"prefixes": sorted(t.prefixes)}
