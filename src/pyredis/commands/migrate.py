"""MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password |
AUTH2 username password] [KEYS key ...], as Redis 7.0's migrateCommand (cluster.c).

The keys found are DUMPed and sent to the target as RESTORE commands (with their remaining
TTL, and REPLACE when asked), preceded by AUTH and by SELECT when the cached connection is
not on that database yet; every reply is read back, and each key the target acknowledged is
deleted here unless COPY (propagated as one DEL of those keys). Like Redis, the transfer is
synchronous: the server waits for the target (up to `timeout` ms per operation).

Connections are cached per "host:port" as given (Redis's migrate_cached_sockets): reused
with the database they last selected, at most 64, closed after 10 s without use by the cron
(INFO migrate_cached_sockets counts them). A cached connection that fails before any reply
was read is closed and the migration tried once more on a new one, unless the failure was a
timeout.
"""

from __future__ import annotations

import errno
import random
import select
import socket

from ..core.acl import redact
from ..core.args import to_int
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC
from ..core.spec import command
from ..errors import SYNTAX, CommandError
from ..rdb import dump_payload
from ..protocol.replies import OK, Simple

CACHE_ITEMS = 64
CACHE_TTL = 10  # seconds
CHUNK = 64 * 1024
LINE_MAX = 1023  # syncReadLine into a 1024-byte buffer


class _Cached:
    __slots__ = ("sock", "buf", "last_dbid", "last_use")

    def __init__(self, sock: socket.socket, now: int) -> None:
        self.sock = sock
        self.buf = b""
        self.last_dbid = -1
        self.last_use = now

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def write(self, data: bytes, timeout_ms: int) -> int:
        """connSyncWrite in 64K chunks: 0, or the errno of the failure."""
        self.sock.settimeout(timeout_ms / 1000)
        try:
            for i in range(0, len(data), CHUNK):
                self.sock.sendall(data[i:i + CHUNK])
        except TimeoutError:
            return errno.ETIMEDOUT
        except OSError as e:
            return e.errno or errno.EIO
        return 0

    def read_line(self, timeout_ms: int) -> tuple[bytes | None, int]:
        """connSyncReadLine: (line without \\r\\n, 0), or (None, errno) on error, end of
        stream (errno 0) or timeout. A line longer than the buffer is cut, the rest stays."""
        self.sock.settimeout(timeout_ms / 1000)
        while True:
            nl = self.buf.find(b"\n", 0, LINE_MAX + 1)
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                return (line[:-1] if line.endswith(b"\r") else line), 0
            if len(self.buf) >= LINE_MAX:
                line, self.buf = self.buf[:LINE_MAX], self.buf[LINE_MAX:]
                return line, 0
            try:
                data = self.sock.recv(16384)
            except TimeoutError:
                return None, errno.ETIMEDOUT
            except OSError as e:
                return None, e.errno or errno.EIO
            if not data:
                return None, 0
            self.buf += data


def _cache(state) -> dict[bytes, _Cached]:
    cache = state.migrate_sockets
    if state.migrate_cron is None:  # the idle-connection cron: registered with the first use
        state.migrate_cron = lambda: close_idle_sockets(state)
        state.hz_cron_handlers.append(state.migrate_cron)
    return cache


def close_idle_sockets(state) -> None:
    """migrateCloseTimedoutSockets (serverCron)."""
    cache = state.migrate_sockets
    if not cache:
        return
    now = state.clock_ms() // 1000
    for name in [n for n, cs in cache.items() if now - cs.last_use > CACHE_TTL]:
        cache.pop(name).close()


def _atoi(b: bytes) -> int:
    """C's atoi: leading spaces, a sign, then digits up to the first other character."""
    s = b.lstrip(b" \t\n\v\f\r")
    sign = 1
    if s[:1] in (b"+", b"-"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    n = 0
    for ch in s:
        if not 48 <= ch <= 57:
            break
        n = n * 10 + ch - 48
    return sign * n


def _connect(host: bytes, port: bytes, timeout_ms: int) -> socket.socket | None:
    """connBlockingConnect: a non-blocking connect to the first address that accepts one,
    then a wait (up to the timeout) for it to complete. Only a connect that fails at once
    (no address, no route) is an error here: a refused or unfinished connection shows when
    the command is written, as in Redis ("error or timeout writing")."""
    try:
        infos = socket.getaddrinfo(host.decode("utf-8", "surrogateescape"), _atoi(port), socket.AF_UNSPEC,
                                   socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError, OverflowError):
        return None
    for family, kind, proto, _, addr in infos:
        try:
            sock = socket.socket(family, kind, proto)
        except OSError:
            continue
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        if err in (0, errno.EINPROGRESS):
            select.select([], [sock], [], timeout_ms / 1000)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        sock.close()
    return None


def _get_socket(ctx: Client, host: bytes, port: bytes, timeout_ms: int) -> _Cached:
    """migrateGetSocket."""
    cache = _cache(ctx.server)
    name = host + b":" + port
    now = ctx.server.clock_ms() // 1000
    cs = cache.get(name)
    if cs is not None:
        cs.last_use = now
        return cs
    if len(cache) >= CACHE_ITEMS:
        cache.pop(random.choice(list(cache))).close()  # too many: drop one at random
    sock = _connect(host, port, timeout_ms)
    if sock is None:
        raise CommandError("IOERR error or timeout connecting to the client")
    cs = cache[name] = _Cached(sock, now)
    return cs


def _close_socket(ctx: Client, host: bytes, port: bytes) -> None:
    cs = _cache(ctx.server).pop(host + b":" + port, None)
    if cs is not None:
        cs.close()


def _resp(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def migrate_keys(argv: list[bytes]) -> list[int]:
    """migrateGetKeys: the key argument, or the keys after KEYS (none when KEYS comes with a
    non-empty key argument: migrateCommand refuses that)."""
    first, num = 3, 1
    i, n = 6, len(argv)
    while i < n:
        word = argv[i].lower()
        if word == b"keys":
            if argv[3]:
                num = 0
            else:
                first, num = i + 1, n - i - 1
            break
        i += {b"auth": 1, b"auth2": 2}.get(word, 0) + 1
    return list(range(first, min(first + num, n)))


@command("MIGRATE", arity=-6, flags="write", keys=(3, 3, 1), group="generic", acl="keyspace dangerous",
         getkeys=migrate_keys, since="2.6.0",
         complexity="This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the "
                    "target instance. See the pages of these commands for time complexity. Also an O(N) data "
                    "transfer between the two instances is performed.")
def migrate(ctx: Client, host: bytes, port: bytes, key: bytes, db_arg: bytes, timeout_arg: bytes,
            *options: bytes):
    """Atomically transfer a key from a Redis instance to another one."""
    copy = replace = False
    username = password = None
    names = [key]
    i = 0
    while i < len(options):
        word = options[i].lower()
        more = len(options) - 1 - i
        if word == b"copy":
            copy = True
        elif word == b"replace":
            replace = True
        elif word == b"auth":
            if not more:
                raise CommandError(SYNTAX)
            i += 1
            password = options[i]
            redact(ctx, 6 + i)
        elif word == b"auth2":
            if more < 2:
                raise CommandError(SYNTAX)
            username, password = options[i + 1], options[i + 2]
            redact(ctx, 6 + i + 1, 6 + i + 2)
            i += 2
        elif word == b"keys":
            if key:
                raise CommandError("ERR When using MIGRATE KEYS option, the key argument must be set to the "
                                   "empty string")
            names = list(options[i + 1:])
            break
        else:
            raise CommandError(SYNTAX)
        i += 1
    timeout = to_int(timeout_arg)
    dbid = to_int(db_arg)
    if timeout <= 0:
        timeout = 1000

    db = ctx.db
    counting, db.counting = db.counting, True  # lookupKeyRead: keyspace hits and misses
    try:
        found = [(k, v) for k in names if (v := db.lookup(k)) is not None]
    finally:
        db.counting = counting
    if not found:
        return Simple(b"NOKEY")

    state = ctx.server
    may_retry = True
    argv_rewritten = False
    while True:  # try_again
        write_error = False
        cs = _get_socket(ctx, host, port, timeout)
        cmd = []
        if password is not None:
            cmd.append(_resp(b"AUTH", username, password) if username is not None else _resp(b"AUTH", password))
        select = cs.last_dbid != dbid
        if select:
            cmd.append(_resp(b"SELECT", b"%d" % dbid))
        live = []
        now = state.clock_ms()
        for k, v in found:
            ttl = 0
            when = db.get_expire(k)
            if when is not None:
                ttl = when - now
                if ttl < 0:
                    continue  # expired since the lookup
                ttl = max(ttl, 1)
            live.append((k, v))
            payload = dump_payload(v, state.config)
            restore = (b"RESTORE", k, b"%d" % ttl, payload) + ((b"REPLACE",) if replace else ())
            cmd.append(_resp(*restore))
        found = live

        err = cs.write(b"".join(cmd), timeout)
        if err:
            write_error = True
        else:
            auth_line = select_line = b""
            if password is not None:
                auth_line, err = cs.read_line(timeout)
            if auth_line is not None and select:
                select_line, err = cs.read_line(timeout)
            if auth_line is not None and select_line is not None:
                target_error = None
                socket_error = False
                deleted = []
                failed_at = 0
                for j, (k, _v) in enumerate(found):
                    line, err = cs.read_line(timeout)
                    if line is None:
                        socket_error, failed_at = True, j
                        break
                    if (password is not None and auth_line[:1] == b"-") or (select and select_line[:1] == b"-") \
                            or line[:1] == b"-":
                        if target_error is None:
                            cs.last_dbid = -1
                            if password is not None and auth_line[:1] == b"-":
                                line = auth_line
                            elif select and select_line[:1] == b"-":
                                line = select_line
                            target_error = b"ERR Target instance replied with error: " + line[1:]
                    elif not copy:
                        db.delete(k)
                        ctx.touched(k)
                        ctx.notify(NOTIFY_GENERIC, b"del", k)
                        deleted.append(k)
                retry_now = (target_error is None and socket_error and failed_at == 0 and may_retry
                             and err != errno.ETIMEDOUT)
                if not retry_now:
                    if socket_error:
                        _close_socket(ctx, host, port)
                    if deleted:  # propagated as DEL of the keys the target acknowledged
                        ctx.propagate_as = [[b"DEL", *deleted]]
                        argv_rewritten = True
                    if target_error is not None:
                        raise CommandError(target_error)
                    if not socket_error:
                        cs.last_dbid = dbid
                        return OK
                    may_retry = False
        # socket_err
        if not argv_rewritten:
            _close_socket(ctx, host, port)
        if err != errno.ETIMEDOUT and may_retry:
            may_retry = False
            continue
        raise CommandError("IOERR error or timeout %s to target instance" % ("writing" if write_error else "reading"))
