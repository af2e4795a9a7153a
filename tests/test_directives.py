"""Every directive of Redis 7.0's config table at start-up, against redis-server 7.0.15: each one
with a valid value (one at a time, then all together from one generated file) starts both
servers and reads back the same with CONFIG GET; invalid values stop both with the same text;
repeated and conflicting directives follow Redis's rules; the command line is read as Redis
reads it; directives pyredis does not honour warn (log, README) and never stop a start."""

from __future__ import annotations

import concurrent.futures
import os
import re
import subprocess

import pytest

from conftest import REDIS_SERVER, require_binary
from directives_env import PYREDIS, REDIS, conf_line, launch, low_port, valid_value
from pyredis.config import DIRECTIVES as _ALL_DIRECTIVES, TABLE, Config, ConfigError, options_from_argv
from resp import RawClient

# Redis 7.0's own directives, as the reference server here is 7.0.15 (pyredis's compat-version is
# not one: redis-server refuses it; the later releases' own, Directive.since, are tested in their
# modes: tests/commands/test_set.py's set-max-listpack-*)
DIRECTIVES = [d for d in _ALL_DIRECTIVES if not d.pyredis and d.since is None]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# CONFIG GET differs for reasons of the test set-up, not of the directive.
_NOT_COMPARED = {"dir", "port"}


def _pair_dirs(tmp_path, tag: str) -> tuple[str, str]:
    out = []
    for side in ("ours", "theirs"):
        d = tmp_path / tag / side
        d.mkdir(parents=True)
        out.append(str(d))
    return out[0], out[1]


def _conf(port: int, lines: list[str]) -> str:
    return "\n".join([f"port {port}", "bind 127.0.0.1", 'save ""', "loglevel notice", *lines]) + "\n"


def _get(port: int, names, password: str | None = None) -> dict[str, object]:
    c = RawClient("127.0.0.1", port)
    try:
        if password:
            c.call("AUTH", password)
        return {n: c.call("CONFIG", "GET", n) for n in names}
    finally:
        c.close()


# Directives whose effect is on the process (or on paths relative to its working folder):
# pyredis is started as pyredis-server for them; an embedded server (a thread of this test)
# serves the others, from the same file.
_PROCESS_LEVEL = {"daemonize", "pidfile", "logfile", "syslog-enabled", "syslog-ident", "syslog-facility",
                  "supervised", "dir", "oom-score-adj", "oom-score-adj-values", "server_cpulist", "bio_cpulist",
                  "aof_rewrite_cpulist", "bgsave_cpulist", "disable-thp", "crash-log-enabled", "set-proc-title",
                  "unixsocket", "unixsocketperm", "aclfile", "use-exit-on-panic", "proc-title-template",
                  "bind", "save", "loglevel"}  # (an embedded server is given its own bind, save and loglevel)


class _Embedded:
    """An embedded pyredis started from the config file, shaped like directives_env.Launched."""

    def __init__(self, conf: str, port: int) -> None:
        import pyredis

        self.server = pyredis.Server(port=port, config_file=conf)
        self.error = None
        try:
            self.server.start()
            self.started = True
        except BaseException as e:  # noqa: BLE001 - the start-up outcome is what is compared
            self.error = e
            self.started = False
            self.server.stop()

    def output(self) -> str:
        return repr(self.error)

    def stop(self) -> None:
        self.server.stop()


def _start_both(ours_dir: str, theirs_dir: str, lines: list[str], subprocess_ours: bool = True):
    """pyredis and redis-server, each started in its own folder with its own copy of the same
    config file (only the port and the folder differ)."""
    results = []
    for cmd, d in ((PYREDIS, ours_dir), (REDIS, theirs_dir)):
        for attempt in range(3):
            port = low_port()
            conf = os.path.join(d, "server.conf")
            with open(conf, "w") as f:
                f.write(_conf(port, [f"dir {d}", *lines]))
            if cmd is PYREDIS and not subprocess_ours:
                started = _Embedded(conf, port)
            else:
                started = launch([*cmd, conf], port, d)
            # The free port chosen can be taken before the server binds it (the six threads'
            # clients and servers, other suites on the machine): a new port then, not a verdict.
            # A directive that stops the listening for real fails on every port.
            if started.started or "Failed listening on port" not in started.output() or attempt == 2:
                break
        results.append((started, port))
    return results


def _one_directive(tmp_path, d) -> str | None:
    """None when both servers agree; else what differs."""
    value = valid_value(d)
    ours_dir, theirs_dir = _pair_dirs(tmp_path, d.name)
    lines = [] if d.name == "port" else [conf_line(d, value)]
    (ours, op), (theirs, tp) = _start_both(ours_dir, theirs_dir, lines, d.name in _PROCESS_LEVEL)
    try:
        if ours.started != theirs.started:
            return (f"{d.name} {value!r}: pyredis started={ours.started} redis started={theirs.started}\n"
                    f"pyredis: {ours.output()[-800:]}\nredis: {theirs.output()[-800:]}")
        if not ours.started or d.name in _NOT_COMPARED:
            return None
        pw = value if d.name == "requirepass" else None
        names = [d.name, *d.aliases]
        a, b = _get(op, names, pw), _get(tp, names, pw)
        if a != b:
            return f"{d.name} {value!r}: pyredis {a} redis {b}"
        return None
    finally:
        ours.stop()
        theirs.stop()


def test_every_directive_starts_one_at_a_time(tmp_path):
    """Each directive alone, with a valid value, in the config file both servers start from."""
    require_binary(REDIS_SERVER, "redis-server")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        problems = [p for p in pool.map(lambda d: _one_directive(tmp_path, d), DIRECTIVES) if p]
    assert problems == []


def test_every_directive_together_from_one_file(tmp_path):
    """All directives at once, from one generated file: both start, and CONFIG GET * (and the
    hidden ones by name) agree."""
    require_binary(REDIS_SERVER, "redis-server")
    lines = [conf_line(d, valid_value(d)) for d in DIRECTIVES if d.name not in ("port", "bind", "save", "dir")]
    ours_dir, theirs_dir = _pair_dirs(tmp_path, "all")
    (ours, op), (theirs, tp) = _start_both(ours_dir, theirs_dir, lines)
    try:
        assert ours.started and theirs.started, (ours.output()[-2000:], theirs.output()[-2000:])
        hidden = [d.name for d in DIRECTIVES if d.hidden]
        a = _get(op, ["*", *hidden], "secret")
        b = _get(tp, ["*", *hidden], "secret")
        flat_a, flat_b = a.pop("*"), b.pop("*")
        da = {flat_a[i]: flat_a[i + 1] for i in range(0, len(flat_a), 2)}
        db = {flat_b[i]: flat_b[i + 1] for i in range(0, len(flat_b), 2)}
        for n in _NOT_COMPARED:
            da.pop(n.encode(), None)
            db.pop(n.encode(), None)
        assert da == db
        assert a == b
        # what pyredis does not honour says so in its log, and it still started
        log = ours.output()
        assert "replicaof is set but not implemented" not in log  # replication is implemented
        assert "io-threads is set but not implemented by pyredis" in log
    finally:
        ours.stop()
        theirs.stop()


def test_hidden_directives_are_all_there():
    """The HIDDEN_CONFIG entries of Redis 7.0's table: CONFIG GET answers them by name only."""
    hidden = {"use-exit-on-panic", "watchdog-period", "loading-process-events-interval-bytes", "key-load-delay",
              "rdb-key-save-delay", "lua-enable-deprecated-api"}
    assert hidden == {d.name for d in DIRECTIVES if d.hidden}


# --- invalid values: the same refusal as redis-server ------------------------------------------
def _invalid_values(d) -> list[str]:
    special = {
        "save": ["1 2 3", "0 1", "10 -1", "x 1"],
        "bind": [" ".join(["127.0.0.1"] * 17)],
        "replicaof": ["somehost", "somehost 70000", "somehost x", "somehost -1"],
        "oom-score-adj-values": ["1 2", "1 2 3000", "1 2 x", "1 2 3 4"],
        "latency-tracking-info-percentiles": ["abc", "101", "50 x"],
        "notify-keyspace-events": ["Z", "KEz"],
        "client-output-buffer-limit": ["normal 1 2", "foo 1 2 3", "normal 1x 2 3", "normal 1 2 -1"],
        "cluster-announce-hostname": ["a_b", "x" * 300],
        "unixsocketperm": ["999", "1000", "abc"],
        "proc-title-template": ["{bad}", "{title", ""],
        "dbfilename": ["a/b", "a\\\\b"],
        "appendfilename": ["a/b", ""],
        "appenddirname": ["a/b", ""],
        "logfile": ["/nonexistent-dir/x.log"],
        "shutdown-on-sigint": ["bogus", "save nosave"],
        "shutdown-on-sigterm": ["", "now bogus"],
        "activedefrag": ["yes", "maybe"],
        "maxmemory-clients": ["101%", "-1", "1x"],
    }
    if d.name in special:
        return special[d.name]
    if d.kind == "bool":
        return ["maybe"]
    if d.kind == "int":
        out = ["abc", "1.5"]
        if d.hi < 2**63 - 1:
            out.append(str(d.hi + 1))
        if d.lo > -(2**63):
            out.append(str(d.lo - 1))
        return out
    if d.kind == "memory":
        out = ["1x", "-1"]
        if d.lo > 0:
            out.append(str(d.lo - 1))
        return out
    if d.kind == "enum":
        return ["bogus"]
    return []


_INVALID = [(d, v) for d in DIRECTIVES for v in _invalid_values(d)]


def _redis_refusal(conf: str, cwd: str) -> list[str]:
    """The lines after redis-server's FATAL CONFIG FILE ERROR header (["(accepted)"]: the file
    was read; `port 0` then stops it for want of a listener)."""
    proc = subprocess.run([REDIS_SERVER, conf], capture_output=True, text=True, timeout=20, cwd=cwd)
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if "FATAL CONFIG FILE ERROR" in ln:
            return lines[i + 1:]
    return ["(accepted)"]


def test_invalid_values_are_refused_as_redis(tmp_path):
    """Every directive with values it refuses: redis-server's start-up error, line for line
    (the line, what it says), and pyredis refuses the same way."""
    require_binary(REDIS_SERVER, "redis-server")
    problems = []

    def one(i_dv):
        i, (d, value) = i_dv
        conf = tmp_path / f"bad{i}.conf"
        conf.write_text(f"# a comment\n{conf_line(d, value)}\nport 0\n")
        theirs = _redis_refusal(str(conf), str(tmp_path))
        try:
            Config().load_startup(str(conf), None, "")
            ours = ["(accepted)"]
        except ConfigError as e:
            ours = str(e).splitlines()
        if ours != theirs:
            problems.append((d.name, value, ours, theirs))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(one, enumerate(_INVALID)))
    assert problems == []


def test_pyredis_server_prints_the_refusal_as_redis(tmp_path):
    """The whole stderr of a refused start (the header names pyredis as well as Redis 7.0.15)."""
    require_binary(REDIS_SERVER, "redis-server")
    cases = [["--hz", "abc"], ["--port"], ["--port", "0", "--nosuch", "1"], ["--dir", "/nonexistent-dir"],
             ["--logfile", "/nonexistent-dir/x.log"], ["--save", "1", "2", "3"], ["--maxmemory", "1", "2"]]
    for args in cases:
        theirs = subprocess.run([REDIS_SERVER, *args], capture_output=True, text=True, timeout=20, cwd=tmp_path)
        ours = subprocess.run([*PYREDIS, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert ours.returncode == theirs.returncode == 1, args
        t = theirs.stderr.splitlines()
        o = ours.stderr.splitlines()
        assert o[2:] == t[2:] and t[1].startswith("*** FATAL CONFIG FILE ERROR (Redis 7.0.15)"), (args, o, t)
        assert o[1].startswith("*** FATAL CONFIG FILE ERROR (pyredis"), o


# --- repeated and conflicting directives, the command line -------------------------------------
def _run_both(tmp_path, tag: str, args: list[str], files: dict[str, str] | None = None, stdin: str | None = None,
              get: tuple[str, ...] = ()):
    """Both servers with the same arguments (`{port}` is each one's port), each in its own
    folder holding the same `files`. Returns [(started, CONFIG GET replies, stderr, log), ...]."""
    out = []
    ours_dir, theirs_dir = _pair_dirs(tmp_path, tag)
    for cmd, d in ((PYREDIS, ours_dir), (REDIS, theirs_dir)):
        for name, text in (files or {}).items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text.replace("{dir}", d))
        port = low_port()
        argv = [a.replace("{port}", str(port)).replace("{dir}", d) for a in args]
        if stdin is not None:
            proc = subprocess.Popen([*cmd, *argv], cwd=d, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            proc.stdin.write(stdin)
            proc.stdin.close()
            server = None
        else:
            server = launch([*cmd, *argv], port, d, tag="log")
            proc = server.proc
        try:
            started = _answers(port, proc)
            replies = {}
            if started:
                replies = _get(port, get)
                for k, v in replies.items():  # paths: the part under the server's own folder
                    if isinstance(v, list) and len(v) == 2:
                        replies[k] = [v[0], v[1].replace(d.encode(), b"{dir}")]
        finally:
            if server is not None:
                server.stop()
            else:
                from procs import stop

                stop(proc)
        if server is not None:
            with open(server.logpath, errors="replace") as f:
                text = f.read()
        else:
            text = proc.stdout.read() + proc.stderr.read()
        out.append((started, replies, text))
    return out


def _answers(port: int, proc) -> bool:
    import socket
    import time

    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64)[:1] in (b"+", b"-"):
                    return True
        except OSError:
            pass
        if proc.poll() is not None:
            return False
        time.sleep(0.03)
    return False


def _fatal_lines(text: str) -> list[str]:
    """What follows the FATAL CONFIG FILE ERROR header, or the log lines' messages."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if "FATAL CONFIG FILE ERROR" in ln:
            return lines[i + 1:]
    noise = ("WARNING", "Server initialized", "monotonic clock", "oO0OoO0OoO0Oo", "Redis version=",
             "Configuration loaded", "Running mode", "is set but not implemented by pyredis")
    return [re.sub(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] ", "", ln) for ln in lines
            if not any(n in ln for n in noise)]


_BASE = ["--port", "{port}", "--bind", "127.0.0.1"]
_REPEATS = [
    ("last-wins", [*_BASE, "--hz", "20", "--hz", "30"], {}, ("hz",)),
    ("save-appends", [*_BASE, "--save", "100", "1", "--save", "200", "2"], {}, ("save",)),
    ("save-reset-then-append", ["c.conf", *_BASE, "--save", "", "--save", "300", "3"], {"c.conf": "save 100 1\n"},
     ("save",)),
    ("save-after-include-resets", ["c.conf", *_BASE],
     {"c.conf": "save 5 5\ninclude inc.conf\nsave 20 2\nsave 30 3\n", "inc.conf": "save 10 1\n"}, ("save",)),
    ("save-empty-last", [*_BASE, "--save", "60", "10", "--save"], {}, ("save",)),
    ("save-empty-before-option", [*_BASE, "--save", "--hz", "20"], {}, ("save", "hz")),
    ("bind-last-wins", ["--port", "{port}", "--bind", "127.0.0.2", "--bind", "127.0.0.1", "-::1"], {}, ("bind",)),
    ("multi-arg-in-one-word", [*_BASE, "--save", "100 1  200 2"], {}, ("save",)),
    ("name-and-value-in-one-argument", [*_BASE, "--hz 40"], {}, ("hz",)),
    ("user-twice", [*_BASE, "--user", "foo", "--user", "foo"], {}, ()),
    ("rename-twice", [*_BASE, "--rename-command", "get", "foo", "--rename-command", "get", "bar"], {}, ()),
    ("rename-target-taken", [*_BASE, "--rename-command", "get", "foo", "--rename-command", "set", "foo"], {}, ()),
    ("loadmodule-missing", [*_BASE, "--loadmodule", "/nonexistent-dir/mod.so"], {}, ()),
    ("module-config-alone", [*_BASE, "--foo.bar", "1"], {}, ()),
    ("module-config-no-value", [*_BASE, "--foo.bar"], {}, ()),
    ("sentinel-statement", ["c.conf", *_BASE], {"c.conf": "sentinel monitor m 127.0.0.1 1 1\n"}, ()),
    ("sentinel-alone", ["c.conf", *_BASE], {"c.conf": "sentinel\n"}, ("hz",)),
    ("cluster-and-replicaof", [*_BASE, "--cluster-enabled", "yes", "--replicaof", "127.0.0.1", "1"], {}, ()),
    ("deprecated-accepted", [*_BASE, "--list-max-ziplist-entries", "5", "--lua-replicate-commands", "yes"], {},
     ("list-max-listpack-size",)),
    ("deprecated-wrong-arity", [*_BASE, "--list-max-ziplist-value", "5", "6"], {}, ()),
    ("dir-missing", [*_BASE, "--dir", "/nonexistent-dir"], {}, ()),
    ("dir-relative-twice", [*_BASE, "--dir", "a", "--dir", "b", "--dbfilename", "x.rdb"], {"a/b/.keep": ""},
     ("dir", "dbfilename")),
    ("hz-clamped", [*_BASE, "--hz", "0"], {}, ("hz",)),
    ("include-glob", ["c.conf", *_BASE], {"c.conf": "include {dir}/conf.d/*.conf\ninclude {dir}/none/*.conf\n",
                                          "conf.d/1.conf": "hz 11\n", "conf.d/2.conf": "hz 12\nmaxmemory 1mb\n"},
     ("hz", "maxmemory")),
    ("include-missing", ["c.conf", *_BASE], {"c.conf": "include /nonexistent-dir/x.conf\n"}, ()),
    ("include-two-args", ["c.conf", *_BASE], {"c.conf": "include a.conf b.conf\n"}, ()),
    ("config-file-missing", ["/nonexistent-dir/redis.conf", *_BASE], {}, ()),
    ("logfile-unwritable", [*_BASE, "--logfile", "/nonexistent-dir/x.log"], {}, ()),
    ("value-starting-with-dashes", [*_BASE, "--requirepass", "--secret"], {}, ()),
]


@pytest.mark.parametrize("tag,args,files,get", _REPEATS, ids=[r[0] for r in _REPEATS])
def test_repeated_and_conflicting_directives_as_redis(tmp_path, tag, args, files, get):
    ours, theirs = _run_both(tmp_path, tag, args, files, get=get)
    assert ours[0] == theirs[0], (ours[2][-1500:], theirs[2][-1500:])
    if ours[0]:
        assert ours[1] == theirs[1]
    else:
        wanted = _fatal_lines(theirs[2])[-2:]
        got = _fatal_lines(ours[2])
        assert all(w in got for w in wanted), (got, wanted)


def test_config_from_stdin_as_redis(tmp_path):
    """`-` as the last argument (or the first): stdin's lines follow the file's, before the
    command line's options."""
    for args in (["c.conf", *_BASE, "-"], ["-", *_BASE]):
        ours, theirs = _run_both(tmp_path, f"stdin{len(args)}", args, {"c.conf": "hz 15\nmaxmemory 2mb\n"},
                                 stdin="hz 33\nmaxmemory-policy allkeys-lru\n", get=("hz", "maxmemory", "maxmemory-policy"))
        assert ours[0] == theirs[0] and ours[1] == theirs[1], (ours, theirs)


def test_options_from_argv_builds_redis_lines():
    """main()'s translation of argv into config lines (sdscatrepr of each value)."""
    assert options_from_argv([]) == (None, False, None)
    assert options_from_argv(["x.conf", "--port", "1", "-"]) == ("x.conf", True, 'port "1" ')
    assert options_from_argv(["--save", "--hz", "a b"]) == (None, False, 'save ""\nhz "a b" ')
    assert options_from_argv(["--port 6380", "--bind", "--dir"]) == (None, False, 'port 6380 \nbind "--dir" ')


# --- directives pyredis does not honour: a warning, never a failed start -----------------------
_NONDEFAULT = {"cluster-enabled": "yes", "watchdog-period": "1000", "replicaof": "127.0.0.1 1",
               "supervised": "systemd", "loading-process-events-interval-bytes": "4096", "cluster-port": "12345",
               "activedefrag": "yes", "cluster-announce-client-ipv4": "10.0.0.3",
               "cluster-announce-client-ipv6": "::1", "locale-collate": "C"}


def _first_mode(name: str, value: str) -> str:
    """The first mode that has the directive and accepts the value (a later release's own:
    Directive.since; `activedefrag yes`: the releases built with jemalloc)."""
    from pyredis.version import MODES

    for mode in MODES:
        cfg = Config()
        cfg.set("compat-version", mode, startup=True)
        try:
            cfg.set(name, value, startup=True)
        except ConfigError:
            continue
        return mode
    raise AssertionError(f"no mode accepts {name} {value}")


def _not_implemented():
    from pyredis.server.server import NOT_IMPLEMENTED

    return NOT_IMPLEMENTED


def _warning(name: str, why: str) -> str:
    return f"{name} is set but not implemented by pyredis ({why}): it has no effect."


def test_not_implemented_directives_warn_at_startup_and_on_config_set(tmp_path):
    import pyredis

    todo = _not_implemented()
    values = {n: _NONDEFAULT.get(n) or valid_value(TABLE[n]) for n in todo}
    # each in the first mode that has it (the later releases' own: Directive.since)
    by_mode: dict[str, list[str]] = {}
    for n in todo:
        by_mode.setdefault(_first_mode(n, values[n]), []).append(n)
    for mode, names in by_mode.items():
        # (replicaof and cluster-enabled may not go together: Redis refuses that, and so does
        # pyredis; replicaof itself is implemented now and warns of nothing)
        groups = [[n for n in names if n != "replicaof"]] + ([["replicaof"]] if "replicaof" in names else [])
        for group in groups:
            log = tmp_path / f"start-{mode}-{len(group)}.log"
            conf = tmp_path / f"all-{mode}-{len(group)}.conf"
            conf.write_text("".join(conf_line(TABLE[n], values[n]) + "\n" for n in group))
            with pyredis.Server(port=0, config_file=str(conf), logfile=str(log), dir=str(tmp_path),
                                compat_version=mode) as s:
                text = log.read_text()
                for n in group:
                    assert _warning(n, todo[n]) in text, n
                assert RawClient("127.0.0.1", s.port).call("PING") == b"PONG"
        log2 = tmp_path / f"set-{mode}.log"
        with pyredis.Server(port=0, logfile=str(log2), dir=str(tmp_path), compat_version=mode) as s:
            assert "is set but not implemented" not in log2.read_text()  # defaults: nothing to say
            c = RawClient("127.0.0.1", s.port)
            for n in names:
                if TABLE[n].mutable:
                    assert c.call("CONFIG", "SET", n, values[n]) == b"OK", n
                    assert _warning(n, todo[n]) in log2.read_text(), n
            c.close()


def test_readme_lists_every_directive_that_warns():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    missing = [n for n in _not_implemented() if f"`{n}`" not in readme]
    assert missing == []
