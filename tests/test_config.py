"""CONFIG GET/SET/RESETSTAT/REWRITE and the directive table, in every compat-version mode against
its server (redis-server 7.0.15, 7.2.6, 7.4.1, valkey-server 8.0.1)."""

from __future__ import annotations

import os
import socket
import time

import pytest
import redis

import pyredis
from conftest import ALL_MODES, RealRedis, oracle_binary
from pyredis.config import TABLE as CONFIG_TABLE
from pyredis.config import Config, ConfigError
from resp import RawClient

pytestmark = pytest.mark.modes(*ALL_MODES)

# Directives whose value legitimately differs between two freshly started servers.
EXCEPTIONS = {
    "port": "each server listens on its own free port",
    "dir": "each server runs in its own working directory",
}


@pytest.fixture(scope="module")
def fresh_pair(tmp_path_factory, compat_mode):
    """A pyredis and the mode's server started with the same options, untouched by other tests."""
    d = tmp_path_factory.mktemp("cfg")
    (d / "ours").mkdir()
    ours = pyredis.Server(port=0, enable_debug_command="yes", appendonly="no", dir=str(d / "ours"),
                          compat_version=compat_mode)
    ours.start()
    theirs = RealRedis(dir=str(d), mode=compat_mode)
    yield ours, theirs
    ours.stop()
    theirs.stop()


def _config_all(port: int) -> dict[str, str]:
    c = RawClient("127.0.0.1", port)
    try:
        flat = c.call("CONFIG", "GET", "*")
    finally:
        c.close()
    return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}


def test_config_get_all_defaults_match_redis(fresh_pair):
    ours, theirs = fresh_pair
    a, b = _config_all(ours.port), _config_all(theirs.port)
    assert sorted(set(a) - set(b)) == [], "directives pyredis shows that redis-server does not"
    assert sorted(set(b) - set(a)) == [], "directives redis-server shows that pyredis does not"
    diffs = {k: (a[k], b[k]) for k in a if a[k] != b[k] and k not in EXCEPTIONS}
    assert diffs == {}


def test_hidden_directives_answer_by_exact_name(diff):
    for name in ("key-load-delay", "rdb-key-save-delay", "HZ", "Maxmemory", "nosuchdirective",
                 "lua-time-limit", "slaveof", "hash-max-ziplist-entries",
                 # the later releases' own, and the names they gave old directives
                 "aof-disable-auto-gc", "cluster-ping-interval", "locale-collate", "enable-debug-assert",
                 "debug-context", "server_cpulist", "Server-Cpulist", "bgsave-cpulist", "masterauth",
                 "primaryauth", "primaryuser", "set-max-listpack-entries", "hide-user-data-from-log"):
        diff.check("CONFIG", "GET", name)


def test_config_get_patterns(diff):
    diff.check("CONFIG", "GET", "maxmemory*", unordered=True)
    diff.check("CONFIG", "GET", "hz", "maxmemory*", "hz", unordered=True)
    diff.check("CONFIG", "GET", "slave*", "*ziplist*", unordered=True)
    diff.check("CONFIG", "GET", "*max*entries*", unordered=True)
    diff.check("CONFIG", "GET", "[lm]axmemory", unordered=True)
    diff.check("CONFIG", "GET", "*cpulist*", "primary*", "master*", "*auto-gc*", unordered=True)
    diff.check("CONFIG", "GET")
    diff.check("CONFIG")
    diff.check("CONFIG", "NOSUCH")
    diff.check("CONFIG", "HELP")


SET_ERRORS = [
    ("foo", "bar"),
    ("port", "abc"),
    ("maxmemory", "10x"),
    ("hz",),
    ("hz", "10", "maxmemory"),
    ("daemonize", "yes"),
    ("loglevel", "bad"),
    ("appendonly", "maybe"),
    ("hz", "10", "hz", "11"),
    ("hz", "10", "HZ", "11"),
    ("maxmemory-samples", "0"),
    ("save", "1 2 3"),
    ("save", "10 x"),
    ("save", " 3600 1"),
    ("save", "3600  1"),
    ("save", "3600 1 "),
    ("save", "3600 -1"),
    ("save", "0 1"),
    ("save", "3600 1.5"),
    ("client-output-buffer-limit", "foo 1 2 3"),
    ("client-output-buffer-limit", "normal 1 2"),
    ("hz", "-1"),
    ("hz", "05"),
    ("hz", " 5"),
    ("hz", "abc", "daemonize", "yes"),
    ("daemonize", "yes", "foo", "bar"),
    ("foo", "bar", "daemonize", "yes"),
    ("hz", "11", "maxmemory", "abc"),
    ("slowlog-log-slower-than", "-5"),
    ("maxclients", "0"),
    ("proto-max-bulk-len", "10"),
    ("enable-debug-command", "yes"),
    ("dir", "/tmp"),
    ("dbfilename", "x.rdb"),
    ("maxmemory", "-0"),
    ("maxmemory", "1 mb"),
    ("maxmemory", "0x10"),
    ("maxmemory-clients", "101%"),
    ("maxmemory-clients", "-5"),
    ("notify-keyspace-events", "KEZ"),
    ("oom-score-adj-values", "1 2"),
    ("oom-score-adj-values", "1 2 5000"),
    ("latency-tracking-info-percentiles", "abc"),
    ("latency-tracking-info-percentiles", "101"),
    ("cluster-announce-hostname", "a_b"),
    ("shutdown-on-sigint", "bad"),
    ("appendfsync", "sometimes"),
    ("maxmemory-policy", "lru"),
    ("active-defrag-cycle-max", "100"),
    ("io-threads", "2"),
    ("repl-backlog-size", "0"),
    ("loglevel", "everything"),
    ("aof_rewrite_cpulist", "0"),
    ("aof-rewrite-cpulist", "0"),
]

# CONFIG SET that one release accepts and another refuses, or words differently: each mode
# answers as its server (then the old value is restored on both)
MODE_SETS = [
    ("loglevel", "nothing"),
    ("maxmemory-samples", "64"),
    ("maxmemory-samples", "65"),
    ("activedefrag", "yes"),
    ("locale-collate", "C"),
    ("locale-collate", "xx_YY"),
    ("cluster-announce-human-nodename", "a!b"),
    ("cluster-announce-human-nodename", "node-1.a b"),
    ("cluster-announce-client-ipv4", "1.2.3"),
    ("cluster-announce-client-ipv4", "10.0.0.1"),
    ("cluster-announce-client-ipv6", "::g"),
    ("cluster-announce-client-ipv6", "::1"),
    ("cluster-blacklist-ttl", "-5"),
    ("prefetch-batch-max-size", "129"),
    ("events-per-io-thread", "0"),
    ("max-new-connections-per-cycle", "0"),
    ("max-new-tls-connections-per-cycle", "1000"),
    ("hide-user-data-from-log", "no"),
    ("availability-zone", "zone-a"),
    ("primaryauth", "secret"),
    ("masterauth", "secret"),
    ("primaryuser", "someone"),
    ("aof-disable-auto-gc", "yes"),
    ("cluster-ping-interval", "100"),
    ("debug-context", "ctx"),
    ("unixsocketgroup", "wheel"),
    ("server-cpulist", "0"),
]


@pytest.mark.parametrize("name,value", MODE_SETS, ids=[" ".join(a) for a in MODE_SETS])
def test_config_set_by_mode(diff, name, value):
    before = diff.both("CONFIG", "GET", name)
    try:
        diff.check("CONFIG", "SET", name, value)
        diff.check("CONFIG", "GET", name)
    finally:
        for client, old in zip((diff.ours, diff.theirs), before):
            flat = list(old.items())[0] if isinstance(old, dict) and old else old
            if flat:
                client.call("CONFIG", "SET", name, flat[1])
    diff.check("CONFIG", "GET", name)


@pytest.mark.parametrize("args", SET_ERRORS, ids=[" ".join(a) for a in SET_ERRORS])
def test_config_set_errors(diff, args):
    reply = diff.check("CONFIG", "SET", *args)
    assert isinstance(reply, bytes) and reply.startswith(b"ERR")
    diff.check("CONFIG", "GET", "hz")  # a failed multi-set changed nothing


ROUNDTRIPS = [
    ("maxmemory", ["1gb", "1M", "05", "100kb"], "0"),
    ("maxmemory-clients", ["10%", "1mb"], "0"),
    ("notify-keyspace-events", ["KEA", "$lshzxeg", "Kx", "Egt$", "AKEmn", "n", "Kgn", "KEmn", "Kg$lshzxetdn"], ""),
    ("save", ["100 10 20 5", "3600 1", "3600 ", "3600 +1", "+3600 1", "3600 05"], ""),
    ("shutdown-on-sigint", ["nosave now", "save", "NOW force"], "default"),
    ("client-output-buffer-limit", ["replica 1mb 2 3", "pubsub 0 0 0 normal 1gb 1mb 5"],
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    ("latency-tracking-info-percentiles", ["50.5 99", "0 100", "99.99"], "50 99 99.9"),
    ("hz", ["1000", "0", "100"], "10"),
    ("activerehashing", ["NO", "Yes"], "yes"),
    ("loglevel", ["WARNING", "notice"], "warning"),
    ("list-max-listpack-size", ["-6", "100"], "-2"),
    ("busy-reply-threshold", ["100"], "5000"),
    ("lua-time-limit", ["200"], "5000"),
    ("maxmemory-policy", ["ALLKEYS-LRU"], "noeviction"),
    ("slowlog-max-len", ["1000"], "128"),
    ("replica-announce-ip", ["10.0.0.1"], ""),
    ("oom-score-adj-values", ["1 2 3"], "0 200 800"),
    ("hash-max-ziplist-value", ["1kb"], "64"),
]


@pytest.mark.parametrize("name,values,restore", ROUNDTRIPS, ids=[r[0] for r in ROUNDTRIPS])
def test_config_set_then_get(diff, name, values, restore):
    try:
        for v in values:
            diff.check("CONFIG", "SET", name, v)
            diff.check("CONFIG", "GET", name)
    finally:
        diff.check("CONFIG", "SET", name, restore)
    diff.check("CONFIG", "GET", name)


def test_config_set_several_pairs(diff):
    try:
        diff.check("CONFIG", "SET", "hz", "20", "maxmemory", "1mb", "slowlog-max-len", "64")
        diff.check("CONFIG", "GET", "hz", "maxmemory", "slowlog-max-len", unordered=True)
        # Aliases are distinct names for the duplicate check.
        diff.check("CONFIG", "SET", "lua-time-limit", "100", "busy-reply-threshold", "200")
        diff.check("CONFIG", "GET", "busy-reply-threshold")
    finally:
        diff.check("CONFIG", "SET", "hz", "10", "maxmemory", "0", "slowlog-max-len", "128",
                   "busy-reply-threshold", "5000")


def test_config_rewrite_without_file(diff):
    diff.check("CONFIG", "REWRITE")


def test_config_resetstat(r):
    r.set("k", "v")
    try:
        r.execute_command("NOSUCHCOMMAND")
    except redis.ResponseError:
        pass
    assert r.info("stats")["total_commands_processed"] > 0
    assert r.info("errorstats")
    assert r.config_resetstat()
    stats = r.info("stats")
    assert stats["total_commands_processed"] <= 1  # only the INFO itself may be counted
    assert r.info("errorstats") == {}
    assert "cmdstat_set" not in r.info("commandstats")


# --- unit tests of the table ------------------------------------------------------------------
def test_set_many_is_atomic():
    cfg = Config()
    with pytest.raises(ConfigError) as e:
        cfg.set_many([("hz", "20"), ("maxmemory", "bogus")])
    assert str(e.value) == "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    assert cfg["hz"] == 10
    cfg.set_many([("hz", "20"), ("maxmemory", "2mb")])
    assert (cfg["hz"], cfg["maxmemory"]) == (20, 2 * 1024 * 1024)


def test_change_hooks_run_after_set():
    cfg = Config()
    seen = []
    cfg.on_change("slowlog-log-slower-than", seen.append)
    cfg.set_many([("slowlog-log-slower-than", "5")])
    assert seen == [5]


def test_load_file_and_args(tmp_path):
    p = tmp_path / "redis.conf"
    p.write_text('# comment\nmaxmemory 2mb\nsave 900 1\nsave 300 10\nhash-max-ziplist-entries 7\n'
                 'client-output-buffer-limit pubsub 1mb 2mb 3\nrequirepass "a b"\n')
    cfg = Config()
    cfg.load_file(str(p))
    cfg.load_args(["--hz", "50", "--save", ""])
    assert cfg.config_file == str(p)
    assert cfg.get("maxmemory") == {"maxmemory": "2097152"}
    assert cfg["save"] == []
    assert cfg["hash-max-listpack-entries"] == 7
    assert cfg["requirepass"] == "a b"
    assert cfg.render("client-output-buffer-limit").endswith("pubsub 1048576 2097152 3")
    with pytest.raises(ConfigError, match="Bad directive"):
        Config().load_text("nosuchdirective 1\n")
    with pytest.raises(ConfigError, match="argument must be 'yes' or 'no'"):
        Config().load_text("appendonly perhaps\n")


def test_hide_user_data_from_log_keeps_arguments_out_of_the_crash_report():
    """hide-user-data-from-log (7.4, Valkey 8.0): clientArgsToLog shows the command name only."""
    from types import SimpleNamespace

    from pyredis.server.crash import _client_lines

    c = SimpleNamespace(id=1, argv=[b"SET", b"secret-key", b"secret-value"])
    assert "secret-value" in "\n".join(_client_lines(c, hide=False))
    hidden = "\n".join(_client_lines(c, hide=True))
    assert "argv[0]: '\"SET\"'" in hidden and "secret" not in hidden


def test_mode_chosen_before_the_lines_are_read(tmp_path):
    """A directive whose values depend on the mode reads in the mode the whole text chooses,
    wherever compat-version is (a later line, the command line)."""
    p = tmp_path / "m.conf"
    p.write_text("loglevel nothing\nmaxmemory-samples 64\ncompat-version 7.2\n")
    cfg = Config()
    cfg.load_startup(str(p), None, None)
    assert (cfg["loglevel"], cfg["compat-version"]) == ("nothing", "7.2")
    p.write_text("loglevel nothing\n")
    with pytest.raises(ConfigError, match="must be one of the following: debug, verbose, notice, warning$"):
        Config().load_startup(str(p), None, 'compat-version "7.0" ')
    cfg = Config()
    cfg.load_embedded(str(p), ["--compat-version", "valkey-8.0"])
    assert cfg["loglevel"] == "nothing" and cfg["repl-backlog-size"] == 10 * 1024 * 1024


REWRITE_BASE = "# my settings\nmaxmemory 1mb\nhz 15\nsave 900 1\nsave 300 10\nbind 127.0.0.1\n\n# tail comment\n"
REWRITE_SETS = [("maxmemory", "2mb"), ("slowlog-max-len", "77"), ("notify-keyspace-events", "KEA"),
                ("client-output-buffer-limit", "pubsub 1mb 2mb 3"), ("save", ""), ("maxmemory-policy", "allkeys-lru"),
                ("replica-announce-ip", 'we"ird\\name'), ("activerehashing", "no"), ("hash-max-ziplist-entries", "100"),
                ("masterauth", "m pass"), ("requirepass", "pa ss")]
# Lines that differ for reasons outside CONFIG REWRITE: ports and directories of the two servers,
# the ACL user line redis-server adds, and a 7.0 quirk that always writes the percentiles.
REWRITE_IGNORED = ("port ", "dir ", "user ", "compat-version ", "latency-tracking-info-percentiles ", "enable-debug-command ",
                   "appendonly ", "loglevel ")


def _rewrite_on(port: int, path, auth: bool) -> list[str]:
    c = RawClient("127.0.0.1", port)
    for name, value in REWRITE_SETS:
        assert c.call("CONFIG", "SET", name, value) == b"OK"
    c.call("AUTH", "pa ss")
    assert c.call("CONFIG", "REWRITE") == b"OK"
    c.close()
    return [ln for ln in path.read_text().splitlines() if not ln.startswith(REWRITE_IGNORED)]


class _RealWithConfigFile:
    """The mode's server started with a config file (it must come first on its command line)."""

    def __init__(self, conf: str, workdir: str, mode: str = "7.0") -> None:
        import subprocess

        from conftest import free_port

        self.port = free_port()
        self.proc = subprocess.Popen([oracle_binary(mode), conf, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", workdir, "--daemonize", "no", "--save", "", "--loglevel", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def test_config_rewrite_matches_redis(tmp_path, compat_mode):
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    ours_dir.mkdir()
    theirs_dir.mkdir()
    ours_conf, theirs_conf = ours_dir / "redis.conf", theirs_dir / "redis.conf"
    ours_conf.write_text(REWRITE_BASE)
    theirs_conf.write_text(REWRITE_BASE)
    theirs = _RealWithConfigFile(str(theirs_conf), str(theirs_dir), compat_mode)
    try:
        with pyredis.Server(port=0, config_file=str(ours_conf), dir=str(ours_dir), compat_version=compat_mode) as ours:
            a = _rewrite_on(ours.port, ours_conf, True)
        b = _rewrite_on(theirs.port, theirs_conf, True)
    finally:
        theirs.stop()
    marker = "# Generated by CONFIG REWRITE"
    assert a[: a.index(marker)] == b[: b.index(marker)]
    assert sorted(a[a.index(marker):]) == sorted(b[b.index(marker):])
    # The rewritten file loads back to the same configuration.
    cfg = Config()
    cfg.load_embedded(str(ours_conf), ["--compat-version", compat_mode])
    assert cfg["masterauth"] == "m pass"
    assert cfg["maxmemory"] == 2 * 1024 * 1024 and cfg["slowlog-max-len"] == 77
    assert cfg["requirepass"] == "pa ss" and cfg["hz"] == 15 and cfg["save"] == []
    assert cfg["replica-announce-ip"] == 'we"ird\\name'


# --- configuration values the server acts on ---------------------------------------------------
@pytest.fixture
def own_pair(tmp_path, compat_mode):
    (tmp_path / "ours").mkdir()
    ours = pyredis.Server(port=0, dir=str(tmp_path / "ours"), compat_version=compat_mode)
    ours.start()
    theirs = RealRedis(dir=str(tmp_path), mode=compat_mode)
    yield ours, theirs
    ours.stop()
    theirs.stop()


def _both(pair, *cmd):
    out = []
    for port in (pair[0].port, pair[1].port):
        c = RawClient("127.0.0.1", port)
        out.append(c.call(*cmd))
        c.close()
    return out


def test_requirepass_applies_to_new_connections(own_pair):
    replies = []
    for port in (own_pair[0].port, own_pair[1].port):
        admin = RawClient("127.0.0.1", port)
        seq = [admin.call("CONFIG", "SET", "requirepass", "s3cret"), admin.call("PING")]
        other = RawClient("127.0.0.1", port)
        seq += [other.call("GET", "x"), other.call("AUTH", "wrong"), other.call("AUTH", "s3cret"),
                other.call("GET", "x"), other.call("AUTH", "default", "s3cret")]
        seq.append(admin.call("CONFIG", "SET", "requirepass", ""))
        third = RawClient("127.0.0.1", port)
        seq.append(third.call("PING"))
        seq.append(third.call("AUTH", "x"))
        for c in (admin, other, third):
            c.close()
        replies.append(seq)
    assert replies[0] == replies[1]
    assert replies[0][2].startswith(b"NOAUTH")


def _raw_exchange(port: int, payload: bytes, wait: float = 0.5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        if payload:
            s.sendall(payload)
        deadline = time.time() + wait
        out = b""
        s.settimeout(0.2)
        while time.time() < deadline:
            try:
                d = s.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not d:
                break
            out += d
        return out


def test_proto_max_bulk_len_limits_the_parser(own_pair):
    _both(own_pair, "CONFIG", "SET", "proto-max-bulk-len", "1mb")
    payload = b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (1024 * 1024 + 1)
    a = _raw_exchange(own_pair[0].port, payload)
    b = _raw_exchange(own_pair[1].port, payload)
    assert a == b == b"-ERR Protocol error: invalid bulk length\r\n"
    ok = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (1024 * 1024, b"x" * (1024 * 1024))
    assert _raw_exchange(own_pair[0].port, ok, 1.0).startswith(b"$1048576\r\n")


def test_maxclients_refuses_extra_connections(own_pair):
    results = []
    for port in (own_pair[0].port, own_pair[1].port):
        admin = RawClient("127.0.0.1", port)
        admin.call("CONFIG", "SET", "maxclients", "2")
        second = RawClient("127.0.0.1", port)
        assert second.call("PING") == b"PONG"
        third = _raw_exchange(port, b"")  # the refusal comes unasked, before any request
        admin.call("CONFIG", "SET", "maxclients", "10000")
        results.append(third)
        second.close()
        admin.close()
    assert results[0] == results[1] == b"-ERR max number of clients reached\r\n"


def test_hz_and_loglevel_take_effect(own_pair):
    ours = own_pair[0]
    c = redis.Redis(port=ours.port)
    c.config_set("hz", "100")
    assert c.info("server")["hz"] == 100
    c.config_set("loglevel", "debug")
    assert ours.state.config["loglevel"] == "debug"
    c.close()


def test_dir_is_reported_as_an_absolute_path(r, pyredis_srv):
    assert Config().get("dir") == {"dir": os.getcwd()}  # unset: the working directory
    d = r.config_get("dir")["dir"]
    assert os.path.isabs(d) and d == pyredis_srv.state.config["dir"]


def test_protected_configs_when_enabled(tmp_path, compat_mode):
    theirs = RealRedis("--enable-protected-configs", "yes", dir=str(tmp_path), mode=compat_mode)
    try:
        with pyredis.Server(port=0, enable_protected_configs="yes", dir=str(tmp_path),
                            compat_version=compat_mode) as ours:
            replies = []
            for port in (ours.port, theirs.port):
                c = RawClient("127.0.0.1", port)
                replies.append([c.call("CONFIG", "SET", "dir", "/nonexistent/dir"),
                                c.call("CONFIG", "SET", "dbfilename", "other.rdb"),
                                c.call("CONFIG", "GET", "dbfilename"),
                                c.call("CONFIG", "SET", "hz", "12", "dir", "/nonexistent/dir"),
                                c.call("CONFIG", "GET", "hz"),
                                c.call("CONFIG", "SET", "dbfilename", ""),  # Valkey 8.0: can't be empty
                                c.call("CONFIG", "SET", "dir", ""),
                                c.call("CONFIG", "SET", "dbfilename", "a/b.rdb")])
                c.close()
            assert replies[0] == replies[1]
            assert replies[0][0] == b"ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    finally:
        theirs.stop()


def test_client_query_buffer_limit_closes_the_connection(own_pair):
    for port in (own_pair[0].port, own_pair[1].port):
        admin = RawClient("127.0.0.1", port)
        victim = socket.create_connection(("127.0.0.1", port), timeout=2)  # open before the change
        assert admin.call("CONFIG", "SET", "client-query-buffer-limit", "1mb") == b"OK"
        victim.sendall(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n")
        sent = 0
        try:
            for _ in range(40):
                victim.sendall(b"x" * 50000)
                sent += 50000
                time.sleep(0.01)
            closed = victim.recv(100) == b""
        except OSError:
            closed = True
        assert closed and sent <= 1_500_000, port
        victim.close()
        assert admin.call("PING") == b"PONG"
        admin.close()


# --- every mutable directive: a legal non-default value round-trips like in redis-server ---------
from pyredis.config import DIRECTIVES  # noqa: E402

# Changing these on the shared servers would disturb the other tests or the machine.
_ROUNDTRIP_SKIP = {"port", "bind", "dir", "dbfilename", "requirepass", "appendonly", "save", "maxmemory",
                   "maxclients", "protected-mode", "oom-score-adj", "oom-score-adj-values", "masterauth",
                   "masteruser", "client-query-buffer-limit", "proto-max-bulk-len", "slowlog-log-slower-than",
                   "activedefrag", "notify-keyspace-events", "client-output-buffer-limit"}


def _alternate(d) -> str | None:
    if d.kind == "bool":
        return "no" if d.default else "yes"
    if d.kind == "int":
        v = d.default + 1 if d.default + 1 <= d.hi else d.default - 1
        return str(v)
    if d.kind == "memory":
        return "3mb" if d.lo <= 3 * 1024 * 1024 else str(d.lo + 1)
    if d.kind == "enum":
        return next(e for e in d.enum if e != d.default)
    if d.kind == "flags":
        return "now"
    if d.kind == "string":
        return "some-value"
    return None


_MUTABLE = [d for d in DIRECTIVES if d.mutable and not d.protected and not d.hidden
            and d.name not in _ROUNDTRIP_SKIP and _alternate(d) is not None]


@pytest.mark.parametrize("d", _MUTABLE, ids=[d.name for d in _MUTABLE])
def test_every_directive_round_trips(diff, d):
    if d.since is not None and not diff.check("CONFIG", "GET", d.name):
        return  # a later release's directive, unknown to both here (the check compared that)
    before = diff.both("CONFIG", "GET", d.name)
    value = _alternate(d)
    try:
        diff.check("CONFIG", "SET", d.name, value)
        diff.check("CONFIG", "GET", d.name)
        for alias in d.aliases:
            diff.check("CONFIG", "GET", alias)
    finally:
        for client, old in zip((diff.ours, diff.theirs), before):
            flat = list(old.items())[0] if isinstance(old, dict) else old
            client.call("CONFIG", "SET", d.name, flat[1])
    diff.check("CONFIG", "GET", d.name)


def test_failed_apply_rolls_back_and_reruns_hooks():
    cfg = Config()
    seen = []
    cfg.on_change("slowlog-log-slower-than", seen.append)
    applied = []

    def apply_tls():  # as the server's: refuses while tls-port is set without certificates
        applied.append(cfg["tls-port"])
        if cfg["tls-port"]:
            raise ValueError("Unable to update TLS configuration. Check server logs.")

    cfg.on_apply(["tls-port", "tls-cert-file"], apply_tls)
    with pytest.raises(ConfigError, match="argument 'tls-port'.*Unable to update TLS configuration"):
        cfg.set_many([("slowlog-log-slower-than", "5"), ("TLS-PORT", "6380"), ("tls-cert-file", "x")])
    assert cfg["slowlog-log-slower-than"] == 10000 and cfg["tls-port"] == 0 and cfg["tls-cert-file"] == ""
    assert seen == [5, 10000]
    assert applied == [6380, 0]  # once for both directives, then again with the old values
    applied.clear()
    cfg.set_many([("tls-cert-file", "")])  # unchanged and not volatile: no apply
    assert applied == []
    cfg.on_apply(["tls-key-file"], apply_tls, volatile=["tls-key-file"])
    cfg.set_many([("tls-key-file", "")])  # volatile: the file is read again
    assert applied == [0]


def test_failed_tls_multi_set_matches_redis(diff):
    diff.check("CONFIG", "SET", "hz", "33", "tls-port", "6390")
    diff.check("CONFIG", "GET", "hz")


BAD_LINES = ["foo bar", "appendonly maybe", "hz abc", "maxmemory 1x", "daemonize", "save 1 2 3",
             'requirepass "unbalanced', "loglevel loud", "hz 1 2", "databases 0", "maxmemory-clients 200%",
             "client-output-buffer-limit normal 1 2", "notify-keyspace-events Z", "port 70000",
             # lines one release accepts and another refuses (or words differently)
             "loglevel nothing", "maxmemory-samples 65", "activedefrag yes", "locale-collate xx_YY",
             "locale-collate C", "cluster-announce-human-nodename a!b", 'dbfilename ""', "dbfilename a/b",
             'dir ""', 'cluster-config-file ""', "replicaof localhost x", "prefetch-batch-max-size 129",
             "server-cpulist 0", "primaryauth secret", "masterauth secret", "unixsocketgroup nogroup",
             "cluster-announce-client-ipv4 1.2.3", "set-max-listpack-entries 5", "max-new-connections-per-cycle 0"]


@pytest.mark.parametrize("line", BAD_LINES)
def test_config_file_errors_match_redis(tmp_path, line, compat_mode):
    """The first line the mode's server refuses, and its words (a line after the one tested
    is refused by every release: a server that accepts the line stops there)."""
    import subprocess

    conf = tmp_path / "bad.conf"
    conf.write_text(f"# first line\n{line}\nno-such-directive 1\n")
    proc = subprocess.run([oracle_binary(compat_mode), str(conf), "--port", "0", "--daemonize", "no"],
                          capture_output=True, text=True, timeout=10)
    assert proc.returncode != 0
    theirs = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()][-3:]
    cfg = Config()
    with pytest.raises(ConfigError) as e:
        cfg.load_startup(str(conf), None, f'compat-version "{compat_mode}" ')
    assert str(e.value).splitlines() == theirs


# --- sweep: every directive x tricky values, accepted/refused and rendered like redis-server ----
_FUZZ_SKIP = {"port", "bind", "dir", "save", "appendonly", "requirepass", "maxmemory", "maxmemory-clients", "oom-score-adj",
              "oom-score-adj-values", "masterauth", "masteruser", "timeout", "maxclients", "activedefrag",
              "tls-port", "tls-replication", "tls-cluster"}
_FUZZ_NAMES = sorted(n for n, d in CONFIG_TABLE.items()
                     if not d.hidden and d.name not in _FUZZ_SKIP and n not in _FUZZ_SKIP)
_FUZZ_VALUES = ["", "0", "-1", "1", "2", "05", "1k", "1kb", "1K", "1KB", "1gb", "3mb", "yes", "no", "YES", "No",
                "abc", "1.5", " 1", "1 ", "+1", "9223372036854775807", "9223372036854775808",
                "-9223372036854775808", "100%", "50%", "0%", "101%", "%", "k", "-1k", "65535", "65536",
                "4294967295", "4294967296", "2147483647", "2147483648", "-2147483648", "-2147483649",
                "1 2 3", "10 20", "everysec", "always", "local", "allkeys-lru", "notice", "debug", "KEA",
                "Ex", "gn", "save now", "nosave force", "0 0 0", "normal 1mb 1mb 1", "1e3", "0x10",
                "{title}", "{port}", "x {bad}", "{title", "{server-mode} {title}", "a{listen-addr}",
                "yes ", " yes", "1mb ", "1Mb", "1b", "0b", "123456789012", "-2", "-6", "100", "128", "A", "AK",
                "KEA$", "$", "g$lshzxetdmnKE", "\t1", "nosave", "default now", "NOW", "save nosave", "force",
                "10 1 20", "1 1", "0 1", "1 -1", "+1 +1", "1 ", " 1 1", "a b", "replica 0 0 0", "slave 1 2 3",
                "pubsub 1 2 -1", "normal 1x 1 1", "0.5", "100.0", "99.9 50", "2000 -2000 0"]


def test_config_set_sweep(pyredis_srv, real_redis):
    """Every (directive, value) pair of the lists above, on both servers (about 20k pairs)."""
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    mismatches = []
    try:
        for name in _FUZZ_NAMES:
            for value in _FUZZ_VALUES:
                before = [c.call("CONFIG", "GET", name) for c in (ours, theirs)]
                replies = [c.call("CONFIG", "SET", name, value) for c in (ours, theirs)]
                after = [c.call("CONFIG", "GET", name) for c in (ours, theirs)]
                for c, old in zip((ours, theirs), before):
                    if len(old) == 2:
                        c.call("CONFIG", "SET", name, old[1])
                if replies[0] != replies[1] or after[0] != after[1]:
                    mismatches.append((name, value, replies, after))
    finally:
        ours.close()
        theirs.close()
    assert mismatches == []


def test_notify_new_events_survive_the_A_rendering(own_pair):
    """CONFIG GET shows "AKE" for "AKEn" (as 7.0.15 renders it) but new-key events still fire."""
    seen = []
    for port in (own_pair[0].port, own_pair[1].port):
        c = RawClient("127.0.0.1", port)
        sub = RawClient("127.0.0.1", port)
        c.call("CONFIG", "SET", "notify-keyspace-events", "AKEn")
        shown = c.call("CONFIG", "GET", "notify-keyspace-events")
        sub.call("SUBSCRIBE", "__keyevent@0__:new")
        c.call("SET", "brand-new", "1")
        seen.append((shown, sub.read()))
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()
    assert seen[0] == seen[1]
    assert seen[0][0] == [b"notify-keyspace-events", b"AKE"]


_ROLLBACK_GET = ("maxmemory", "hz", "maxmemory-policy", "tls-port", "tls-cluster", "tls-replication",
                 "hash-max-listpack-entries", "hash-max-ziplist-entries", "dbfilename", "bind")


def _rollback_cases(busy_port: int) -> list[tuple[str, ...]]:
    return [
        ("maxmemory", "10mb", "tls-port", "16999"),                 # apply of tls-port fails
        ("MAXMEMORY", "20mb", "HZ", "bogus"),                       # set of hz fails: named in lowercase
        ("maxmemory", "10mb", "TLS-Replication", "yes", "tls-cluster", "yes"),  # one apply, named by the first
        ("tls-cert-file", "/x", "maxmemory", "20mb"),               # applyTlsCfg with TLS off succeeds
        ("tls-cert-file", "", "tls-port", "0"),                     # tls-port unchanged: not applied
        ("maxmemory", "30mb", "port", str(busy_port)),              # updatePort cannot listen
        ("hz", "20", "maxmemory", "30mb", "bind", "127.0.0.1 -::1", "port", str(busy_port)),
        ("hash-max-ziplist-entries", "5", "hash-max-listpack-entries", "6"),  # an alias is its own config
        ("hash-max-ziplist-entries", "bogus", "maxmemory", "1mb"),
        ("maxmemory-policy", "allkeys-lru", "maxmemory-policy", "noeviction"),
        ("maxmemory", "40mb", "dir", "/nonexistent/dir", "maxmemory-policy", "bogus"),  # dir's chdir is the set
        ("maxmemory-policy", "bogus", "dir", "/nonexistent/dir"),
        ("dbfilename", "x.rdb", "maxmemory", "bogus"),
    ]


def test_config_set_rolls_back_every_parameter_as_redis(tmp_path):
    """configSetCommand: values set in order (a failed set restores the ones before it), apply
    functions run once after all are set (a failed apply restores all): replies and CONFIG
    GET afterwards equal redis-server's."""
    busy = socket.create_server(("127.0.0.1", 0))
    theirs = RealRedis("--enable-protected-configs", "yes", dir=str(tmp_path))
    try:
        with pyredis.Server(port=0, enable_protected_configs="yes", dir=str(tmp_path)) as ours:
            a, b = RawClient("127.0.0.1", ours.port), RawClient("127.0.0.1", theirs.port)
            for args in _rollback_cases(busy.getsockname()[1]):
                x, y = a.call("CONFIG", "SET", *args), b.call("CONFIG", "SET", *args)
                assert x == y, (args, x, y)
                for name in _ROLLBACK_GET:
                    assert a.call("CONFIG", "GET", name) == b.call("CONFIG", "GET", name), (args, name)
                assert a.call("PING") == b.call("PING")  # still served on the old port
            a.close()
            b.close()
    finally:
        busy.close()
        theirs.stop()


def test_config_set_port_moves_the_listener():
    """updatePort: CONFIG SET port listens on the new port and closes the old one."""
    with pyredis.Server(port=0) as ours:
        c = RawClient("127.0.0.1", ours.port)
        new = socket.create_server(("127.0.0.1", 0))
        port = new.getsockname()[1]
        new.close()
        assert c.call("CONFIG", "SET", "port", str(port)) == b"OK"
        assert c.call("CONFIG", "GET", "port") == [b"port", str(port).encode()]
        d = RawClient("127.0.0.1", port)
        assert d.call("PING") == b"PONG"
        assert c.call("PING") == b"PONG"  # connections made before stay
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", ours.port), timeout=2).close()
        assert d.call("CONFIG", "SET", "port", str(ours.port)) == b"OK"
        e = RawClient("127.0.0.1", ours.port)
        assert e.call("PING") == b"PONG"
        for x in (c, d, e):
            x.close()
