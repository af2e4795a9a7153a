"""pyredis-cli: a redis-cli for pyredis (and any Redis), in Python.

    pyredis-cli [OPTIONS] [cmd [arg [arg ...]]]

One-shot commands print replies as redis-cli 7.0 does (printer.py): `(integer) 1`, `(nil)`,
`1) "a"` with nested/indented arrays, RESP3 maps `1# "k" => "v"` and sets `1~ "a"`,
`(error) ERR ...`; when stdout is not a terminal the raw format is used (as redis-cli), unless
--no-raw. Without a command: an interactive prompt with history (readline), or, when stdin is
not a terminal, one command per input line.

The wire protocol is spoken directly (a small RESP2/RESP3 reader below) so that every reply type
is printed as the server sent it: a client library would turn sets into unordered sets, doubles
into floats and maps into dicts. This module holds the options, the connection, the reader and
the modes (one-shot, REPL, stdin lines, --stat, --scan, --eval, help from COMMAND DOCS).
"""

from __future__ import annotations

import getpass
import os
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from ..util import sdscatrepr, sdssplitargs
from ..version import REDIS_VERSION, __version__
from .printer import as_text, print_reply

USAGE = """\
pyredis-cli %s (redis-cli %s compatible)

Usage: pyredis-cli [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -s <socket>        Server socket (overrides hostname and port).
  -a <password>      Password to use when connecting to the server.
                     You can also use the REDISCLI_AUTH environment
                     variable to pass this password more safely.
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  --askpass          Force user to input password with mask from STDIN.
  -u <uri>           Server URI (redis://[user:password@]host[:port][/db], rediss:// for TLS).
  -r <repeat>        Execute specified command N times (-1: forever).
  -i <interval>      When -r is used, waits <interval> seconds per command.
                     Also the --stat interval (default 1).
  -n <db>            Database number.
  -2                 Start session in RESP2 protocol mode.
  -3                 Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN.
  -e                 Return exit error code when command execution fails.
  --raw              Use raw formatting for replies (default when STDOUT is not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --csv              Output in CSV format.
  --tls              Establish a secure TLS connection.
  --sni <host>       Server name indication for TLS.
  --cacert <file>    CA Certificate file to verify with.
  --cacertdir <dir>  Directory where trusted CA certificates are stored.
  --insecure         Allow insecure TLS connection by skipping cert validation.
  --cert <file>      Client certificate to authenticate with.
  --key <file>       Private key file to authenticate with.
  --stat             Print rolling stats about server: mem, clients, ...
  --scan             List all keys using the SCAN command.
  --pattern <pat>    Keys pattern when using the --scan mode.
  --count <count>    Count option when using the --scan mode (default: 10).
  --eval <file>      Send an EVAL command using the Lua script at <file>:
                     pyredis-cli --eval script.lua key1 key2 , arg1 arg2
  --no-auth-warning  Don't show warning message when using password on command line.
  --help             Output this help and exit.
  --version          Output version and exit.
"""


class ConnectError(Exception):
    pass


# --- replies -------------------------------------------------------------------------------
@dataclass
class Reply:
    """One reply, typed as the wire said: kind in status/error/integer/double/bulk/verbatim/
    nil/bool/bignum/array/map/set/push; value is bytes, int, bool or a list of Reply."""

    kind: str
    value: Any = None


class ProtocolError(Exception):
    pass


class RespReader:
    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("Server closed the connection")
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def read(self) -> Reply:
        line = self._line()
        if not line:
            raise ProtocolError("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Reply("status", rest)
        if t == b"-":
            return Reply("error", rest)
        if t == b":":
            return Reply("integer", int(rest))
        if t == b"$":
            n = int(rest)
            return Reply("nil") if n < 0 else Reply("bulk", self._exact(n))
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return Reply("nil")
            kind = {b"*": "array", b"~": "set", b">": "push"}[t]
            return Reply(kind, [self.read() for _ in range(n)])
        if t == b"%":
            return Reply("map", [self.read() for _ in range(int(rest) * 2)])
        if t == b"|":  # attributes: read and drop, then the real reply
            for _ in range(int(rest) * 2):
                self.read()
            return self.read()
        if t == b"_":
            return Reply("nil")
        if t == b",":
            return Reply("double", rest)
        if t == b"#":
            return Reply("bool", rest == b"t")
        if t == b"(":
            return Reply("bignum", rest)
        if t == b"=":
            data = self._exact(int(rest))
            return Reply("verbatim", data[4:] if data[3:4] == b":" else data)
        if t == b"!":
            return Reply("error", self._exact(int(rest)))
        raise ProtocolError(f'Protocol error, got "{t.decode("latin-1")}" as reply type byte')


def encode_command(args: list[bytes]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


# --- argument splitting (sdssplitargs, for the prompt and stdin lines) ------------------------
def split_args(line: str) -> list[bytes] | None:
    """A prompt or stdin line split as redis-cli does: with the server's sdssplitargs
    (redis-cli.c cliSplitArgs; its Lua debugger's verbatim `eval` is not supported here)."""
    return sdssplitargs(line.encode("utf-8", "surrogateescape"))


# --- connection ----------------------------------------------------------------------------
@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 6379
    socket_path: str | None = None
    user: str | None = None
    password: str | None = None
    askpass: bool = False
    db: int = 0
    resp: int = 2
    repeat: int = 1
    interval: float = 0.0
    interval_set: bool = False
    raw: bool | None = None  # None: raw when stdout is not a tty
    csv: bool = False
    tls: bool = False
    sni: str | None = None
    cacert: str | None = None
    cacertdir: str | None = None
    insecure: bool = False
    cert: str | None = None
    key: str | None = None
    stat: bool = False
    scan: bool = False
    pattern: str | None = None
    count: int | None = None
    stdin_last_arg: bool = False
    exit_error: bool = False
    no_auth_warning: bool = False
    password_on_cmdline: bool = False
    eval_file: str | None = None
    command: list[str] = field(default_factory=list)


class Connection:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.sock: Any = None
        self.reader: RespReader | None = None

    @property
    def where(self) -> str:
        o = self.opts
        return o.socket_path if o.socket_path else f"{o.host}:{o.port}"

    def connect(self) -> None:
        o = self.opts
        try:
            if o.socket_path:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(o.socket_path)
            else:
                s = socket.create_connection((o.host, o.port), timeout=None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if o.tls:
                ctx = ssl.create_default_context(cafile=o.cacert, capath=o.cacertdir)
                if o.insecure:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if o.cert:
                    ctx.load_cert_chain(o.cert, o.key)
                s = ctx.wrap_socket(s, server_hostname=o.sni or o.host)
        except (OSError, ssl.SSLError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            if o.socket_path:
                raise ConnectError(f"Could not connect to Redis at {o.socket_path}: {reason}") from None
            raise ConnectError(f"Could not connect to Redis at {o.host}:{o.port}: {reason}") from None
        self.sock = s
        self.reader = RespReader(s)
        self._handshake()

    def _handshake(self) -> None:
        o = self.opts
        if o.password is not None:
            args = [b"AUTH"] + ([o.user.encode()] if o.user else []) + [o.password.encode()]
            r = self.call(args)
            if r.kind == "error":
                sys.stderr.write(f"AUTH failed: {as_text(r.value)}\n")
        if o.db:
            r = self.call([b"SELECT", str(o.db).encode()])
            if r.kind == "error":
                sys.stderr.write(f"{as_text(r.value)}\n")
        if o.resp == 3:
            r = self.call([b"HELLO", b"3"])
            if r.kind == "error":
                sys.stderr.write(f"HELLO 3 failed: {as_text(r.value)}\n")

    def call(self, args: list[bytes]) -> Reply:
        if self.sock is None:
            self.connect()
        self.sock.sendall(encode_command(args))
        r = self.reader.read()
        while r.kind == "push" and self.opts.resp == 3 and args[0].lower() not in (b"subscribe", b"psubscribe"):
            r = self.reader.read()  # out-of-band push (client tracking): skip to the reply
        return r

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


# --- options -------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> Options:
    o = Options()
    i = 0
    n = len(argv)

    def value() -> str:
        nonlocal i
        if i + 1 >= n:
            raise SystemExit(f"Unrecognized option or bad number of args for: '{argv[i]}'")
        i += 1
        return argv[i]

    while i < n:
        a = argv[i]
        if a == "-h" and i + 1 < n:
            o.host = value()
        elif a == "-h" or a == "--help":
            sys.stdout.write(USAGE % (__version__, REDIS_VERSION))
            raise SystemExit(0)
        elif a in ("-v", "--version"):
            sys.stdout.write(f"pyredis-cli {__version__} (redis-cli {REDIS_VERSION} compatible)\n")
            raise SystemExit(0)
        elif a == "-p":
            o.port = int(value())
        elif a == "-s":
            o.socket_path = value()
        elif a in ("-a", "--pass"):
            o.password = value()
            o.password_on_cmdline = True
        elif a == "--user":
            o.user = value()
        elif a == "--askpass":
            o.askpass = True
        elif a == "-u":
            _apply_uri(o, value())
        elif a == "-r":
            o.repeat = int(value())
        elif a == "-i":
            o.interval = float(value())
            o.interval_set = True
        elif a == "-n":
            o.db = int(value())
        elif a == "-2":
            o.resp = 2
        elif a == "-3":
            o.resp = 3
        elif a == "-x":
            o.stdin_last_arg = True
        elif a == "-e":
            o.exit_error = True
        elif a == "--raw":
            o.raw = True
        elif a == "--no-raw":
            o.raw = False
        elif a == "--csv":
            o.csv = True
        elif a == "--tls":
            o.tls = True
        elif a == "--sni":
            o.sni = value()
        elif a == "--cacert":
            o.cacert = value()
        elif a == "--cacertdir":
            o.cacertdir = value()
        elif a == "--insecure":
            o.insecure = True
        elif a == "--cert":
            o.cert = value()
        elif a == "--key":
            o.key = value()
        elif a == "--stat":
            o.stat = True
        elif a == "--scan":
            o.scan = True
        elif a == "--pattern":
            o.pattern = value()
        elif a == "--count":
            o.count = int(value())
        elif a == "--no-auth-warning":
            o.no_auth_warning = True
        elif a == "--eval":
            o.eval_file = value()
        elif a.startswith("-") and len(a) > 1 and not o.command:
            raise SystemExit(f"Unrecognized option or bad number of args for: '{a}'")
        else:
            o.command = argv[i:]
            break
        i += 1
    if o.password is None and os.environ.get("REDISCLI_AUTH"):
        o.password = os.environ["REDISCLI_AUTH"]
    elif o.password_on_cmdline and not o.no_auth_warning:
        sys.stderr.write("Warning: Using a password with '-a' or '-u' option on the command line interface "
                         "may not be safe.\n")
    return o


def _apply_uri(o: Options, uri: str) -> None:
    u = urlparse(uri)
    if u.scheme not in ("redis", "rediss"):
        raise SystemExit(f"Invalid URI scheme: {uri}")
    o.tls = o.tls or u.scheme == "rediss"
    if u.hostname:
        o.host = u.hostname
    if u.port:
        o.port = u.port
    if u.username:
        o.user = unquote(u.username)
    if u.password is not None:
        o.password = unquote(u.password)
        o.password_on_cmdline = True
    path = u.path.lstrip("/")
    if path:
        o.db = int(path)


# --- modes ---------------------------------------------------------------------------------
def _run_once(conn: Connection, args: list[bytes], raw: bool) -> Reply:
    try:
        r = conn.call(args)
    except (ConnectionError, OSError):
        if args[0].lower() != b"shutdown":
            raise
        conn.close()  # SHUTDOWN succeeded: the server hung up without a reply (as redis-cli: silent)
        return Reply("status", b"")
    print_reply(r, raw)
    cmd = args[0].lower()
    if r.kind != "error":
        if cmd == b"select" and len(args) == 2:
            conn.opts.db = int(args[1])
        elif cmd == b"hello" and len(args) >= 2 and args[1] in (b"2", b"3"):
            conn.opts.resp = int(args[1])
    return r


def _stream_replies(conn: Connection, args: list[bytes], raw: bool) -> int:
    """SUBSCRIBE & co. and MONITOR: print every message until interrupted, as redis-cli."""
    if not raw and args[0].lower() != b"monitor":
        sys.stdout.write("Reading messages... (press Ctrl-C to quit)\n")
    conn.sock.sendall(encode_command(args))
    while True:
        r = conn.reader.read()
        print_reply(r, raw)
        if r.kind == "error":
            return 0


# --- help (from the server's COMMAND DOCS) ---------------------------------------------------
def _py(r: Reply) -> Any:
    if r.kind in ("array", "set", "push"):
        return [_py(e) for e in r.value]
    if r.kind == "map":
        v = r.value
        return {_py(v[i]): _py(v[i + 1]) for i in range(0, len(v), 2)}
    if isinstance(r.value, bytes):
        return r.value.decode("utf-8", "replace")
    return r.value


def _as_dict(x: Any) -> dict:
    return x if isinstance(x, dict) else dict(zip(x[::2], x[1::2])) if isinstance(x, list) else {}


def render_arguments(args: list) -> str:
    return " ".join(_render_arg(_as_dict(a)) for a in args)


def _render_arg(a: dict) -> str:
    t = a.get("type")
    token = a.get("token")
    if token == "":
        token = '""'  # MIGRATE's empty key
    flags = a.get("flags") or []
    if t == "pure-token":
        inner = token or a.get("name", "")
    elif t == "oneof":
        inner = "|".join(_render_arg(_as_dict(x)) for x in a.get("arguments", []))
    elif t == "block":
        inner = render_arguments(a.get("arguments", []))
    else:
        inner = a.get("display_text") or a.get("name", "")
    s = f"{token} {inner}" if token and t != "pure-token" else inner
    if "multiple" in flags:
        s = f"{s} [{s} ...]" if "multiple_token" in flags or not token or t == "pure-token" \
            else f"{token} {inner} [{inner} ...]"
    if "optional" in flags:
        s = f"[{s}]"
    return s


HELP_BANNER = """pyredis-cli {v}
To get help about Redis commands type:
      "help @<group>" to get a list of commands in <group>
      "help <command>" for help on <command>
      "quit" to exit
"""


def show_help(conn: Connection, topics: list[bytes]) -> None:
    tty = sys.stdout.isatty()
    bold, grey, yellow, off = ("\033[1m", "\033[90m", "\033[33m", "\033[0m") if tty else ("", "", "", "")
    if not topics:
        sys.stdout.write(HELP_BANNER.format(v=__version__))
        return
    topic = topics[0].decode("utf-8", "replace").lower()
    if topic.startswith("@"):
        r = conn.call([b"COMMAND", b"DOCS"])
        docs = _as_dict(_py(r)) if r.kind != "error" else {}
        for n, d in list(docs.items()):
            docs.update(_as_dict(_as_dict(d).get("subcommands") or {}))
        names = sorted((n for n, d in docs.items() if _as_dict(d).get("group") == topic[1:]),
                       key=lambda n: n.upper().replace("|", " "))
    else:
        name = "|".join(t.decode("utf-8", "replace") for t in topics[:2]).lower()
        r = conn.call([b"COMMAND", b"DOCS", name.encode()])
        docs = _as_dict(_py(r)) if r.kind != "error" else {}
        if not docs and len(topics) > 1:  # "help config get" vs "help get"
            name = topic
            docs = _as_dict(_py(conn.call([b"COMMAND", b"DOCS", name.encode()])))
        names = list(docs)
        for n in list(names):  # a container: then each of its subcommands, as redis-cli
            subs = _as_dict(_as_dict(docs[n]).get("subcommands") or {})
            for sub in sorted(subs):
                docs[sub] = subs[sub]
                names.append(sub)
    out = []
    for n in names:
        d = _as_dict(docs[n])
        out.append(f"\n  {bold}{n.upper().replace('|', ' ')}{off} {grey}{render_arguments(d.get('arguments') or [])}{off}\n"
                   f"  {yellow}summary:{off} {d.get('summary', '')}\n"
                   f"  {yellow}since:{off} {d.get('since', '')}\n"
                   + ("" if topic.startswith("@") else f"  {yellow}group:{off} {d.get('group', '')}\n"))
    sys.stdout.write("".join(out) + "\n" if out else "")


def stat_mode(conn: Connection) -> int:
    interval = conn.opts.interval if conn.opts.interval_set and conn.opts.interval > 0 else 1.0
    requests = 0
    i = 0
    while True:
        r = conn.call([b"INFO"])
        info = _parse_info(r.value if r.kind in ("bulk", "verbatim") else b"")
        if i % 20 == 0:
            sys.stdout.write("------- data ------ --------------------- load -------------------- - child -\n"
                             "keys       mem      clients blocked requests            connections          \n")
        i += 1
        keys = 0
        for j in range(20):
            db = info.get(f"db{j}")
            if db:
                keys += int(dict(kv.split("=", 1) for kv in db.split(","))["keys"])
        line = "%-11s" % keys
        line += "%-8s" % bytes_to_human(int(info.get("used_memory", 0)))
        line += " %-8s" % info.get("connected_clients", "0")
        line += "%-8s" % info.get("blocked_clients", "0")
        total = int(info.get("total_commands_processed", 0))
        line += "%-19s" % f"{total} (+{0 if requests == 0 else total - requests})"
        requests = total
        line += " %-12s" % info.get("total_connections_received", "0")
        child = (int(info.get("rdb_bgsave_in_progress", 0)) | int(info.get("aof_rewrite_in_progress", 0)) << 1
                 | int(info.get("loading", 0)) << 2)
        line += {0: "", 1: "SAVE", 2: "AOF", 3: "SAVE+AOF", 4: "LOAD"}.get(child, "")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        time.sleep(interval)


def _parse_info(text: bytes) -> dict[str, str]:
    out = {}
    for line in text.decode("utf-8", "replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def bytes_to_human(n: int) -> str:
    if n < 1024:
        return f"{n}B"
    for unit, div in (("K", 1024), ("M", 1024 ** 2), ("G", 1024 ** 3), ("T", 1024 ** 4), ("P", 1024 ** 5)):
        if n < div * 1024 or unit == "P":
            return "%.2f%s" % (n / div, unit)
    return f"{n}B"  # pragma: no cover


def scan_mode(conn: Connection, raw: bool) -> int:
    o = conn.opts
    cursor = b"0"
    while True:
        args = [b"SCAN", cursor]
        if o.pattern:
            args += [b"MATCH", o.pattern.encode("utf-8", "surrogateescape")]
        if o.count:
            args += [b"COUNT", str(o.count).encode()]
        r = conn.call(args)
        if r.kind == "error":
            sys.stderr.write(f"Error: {as_text(r.value)}\n")
            return 1
        cursor = r.value[0].value
        out = sys.stdout.buffer
        for key in r.value[1].value:
            out.write(key.value + b"\n" if raw else (sdscatrepr(key.value) + "\n").encode())
        out.flush()
        if cursor == b"0":
            return 0


def _prompt(conn: Connection) -> str:
    o = conn.opts
    if conn.sock is None:
        return "not connected> "
    db = f"[{o.db}]" if o.db else ""
    return f"{conn.where}{db}> "


def interactive(conn: Connection) -> int:
    try:
        import readline
    except ImportError:  # pragma: no cover
        readline = None
    hist = os.environ.get("REDISCLI_HISTFILE") or os.path.join(os.path.expanduser("~"), ".pyrediscli_history")
    if readline is not None and hist not in ("", "/dev/null"):
        try:
            if not os.path.exists(hist):
                open(hist, "a").close()  # append_history_file needs an existing file
            readline.read_history_file(hist)
        except OSError:
            pass
    try:
        conn.connect()
    except ConnectError as e:
        sys.stdout.write(str(e) + "\n")
    try:
        while True:
            try:
                line = input(_prompt(conn))
            except EOFError:
                sys.stdout.write("\n")
                return 0
            except KeyboardInterrupt:
                sys.stdout.write("\n")
                continue
            args = split_args(line)
            if args is None:
                sys.stdout.write("Invalid argument(s)\n")
                continue
            if not args:
                continue
            if readline is not None and hist not in ("", "/dev/null"):
                try:
                    readline.append_history_file(1, hist)
                except OSError:
                    pass
            name = args[0].lower()
            if name in (b"quit", b"exit"):
                return 0
            if name == b"clear":
                sys.stdout.write("\033[H\033[2J")
                continue
            if name == b"help" or name == b"?":
                try:
                    show_help(conn, args[1:])
                except (ConnectError, OSError, ConnectionError) as e:
                    sys.stdout.write(f"{e}\n")
                continue
            times = 1
            if len(args) > 1 and args[0].isdigit():  # "3 incr x" repeats, as redis-cli
                times = int(args[0])
                args = args[1:]
            for _ in range(times):
                try:
                    _run_once(conn, args, raw=bool(conn.opts.raw))
                except ConnectError as e:
                    sys.stdout.write(str(e) + "\n")
                    break
                except (OSError, ConnectionError, ProtocolError):
                    conn.close()
                    sys.stdout.write("Error: Server closed the connection\n")
                    break
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    o = parse_args(argv)
    if o.askpass:
        o.password = getpass.getpass("Please input password: ")
    conn = Connection(o)
    raw: bool | str = (not sys.stdout.isatty()) if o.raw is None else o.raw
    if o.csv:
        raw = "csv"
    try:
        if o.stat:
            conn.connect()
            return stat_mode(conn)
        if o.scan:
            conn.connect()
            return scan_mode(conn, raw)
        if o.eval_file is not None:
            try:
                with open(o.eval_file, "rb") as f:
                    script = f.read()
            except OSError as e:
                sys.stderr.write(f"Can't open file '{o.eval_file}': {e.strerror}\n")
                return 1
            words = [a.encode("utf-8", "surrogateescape") for a in o.command]
            keys = words[:words.index(b",")] if b"," in words else words
            argv_ = words[len(keys) + 1:] if b"," in words else []
            o.command = []
            eval_args = [b"EVAL", script, str(len(keys)).encode(), *keys, *argv_]
            conn.connect()
            r = _run_once(conn, eval_args, raw)
            return 1 if r.kind == "error" and o.exit_error else 0
        if not o.command:
            if sys.stdin.isatty():
                return interactive(conn)
            conn.connect()
            rc = 0
            for line in sys.stdin:
                args = split_args(line.rstrip("\r\n"))
                if args:
                    r = _run_once(conn, args, raw)
                    if r.kind == "error" and o.exit_error:
                        rc = 1
            return rc
        conn.connect()
        args = [a.encode("utf-8", "surrogateescape") for a in o.command]
        if o.stdin_last_arg:
            args.append(sys.stdin.buffer.read())
        if args[0].lower() == b"help":
            show_help(conn, args[1:])
            return 0
        if args[0].lower() in (b"subscribe", b"psubscribe", b"ssubscribe", b"monitor"):
            return _stream_replies(conn, args, raw)
        rc = 0
        n = 0
        while o.repeat < 0 or n < o.repeat:
            r = _run_once(conn, args, raw)
            if r.kind == "error" and o.exit_error:
                rc = 1
            n += 1
            if o.interval and (o.repeat < 0 or n < o.repeat):
                time.sleep(o.interval)
        return rc
    except ConnectError as e:
        sys.stderr.write(str(e) + "\n")
        return 1
    except BrokenPipeError:  # `pyredis-cli --scan | head`: the reader is gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConnectionError, OSError) as e:
        sys.stderr.write(f"Error: {e}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
