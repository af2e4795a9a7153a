"""rename-command in the configuration, against redis-server run with the same lines: the
renamed and removed commands, COMMAND's view of the table, scripts, start-up errors -- and two
pyredis servers in one process, only one of which renames."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis

import pyredis
from conftest import REDIS_SERVER, RealRedis, require_binary
from resp import RawClient

RENAMES = [("SET", "FOO"), ("config", '""'), ("get", "set"), ("flushall", "wipe")]


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rename")
    conf = folder / "renames.conf"
    conf.write_text("".join(f"rename-command {a} {b}\n" for a, b in RENAMES))
    extra = []
    for a, b in RENAMES:
        extra += ["--rename-command", a, "" if b == '""' else b]
    real = RealRedis(*extra)
    ours = pyredis.Server(port=0, config_file=str(conf), dir=str(folder)).start()
    try:
        yield RawClient("127.0.0.1", ours.port), RawClient("127.0.0.1", real.port), ours
    finally:
        ours.stop()
        real.stop()


def _check(pair, *cmd):
    a, b = pair[0].call(*cmd), pair[1].call(*cmd)
    assert a == b and type(a) is type(b), (cmd, a, b)
    return a


def test_renamed_and_removed_commands(renamed):
    for cmd in [("FOO", "k", "v"), ("foo", "k2", "v2"), ("set", "k"), ("get", "k"), ("SET", "k", "v"),
                ("config", "get", "port"), ("CONFIG", "SET", "hz", "10"), ("wipe",), ("flushall",), ("foo", "k"),
                ("set", "k", "v", "x"), ("EXISTS", "k"),
                ("EVAL", "return redis.call('set', KEYS[1])", "1", "k"),
                ("EVAL", "return redis.call('foo', KEYS[1], 'lua')", "1", "k"),
                ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
                ("MULTI",), ("foo", "m", "1"), ("set", "m"), ("EXEC",),
                ("COMMAND", "INFO", "foo", "set", "get", "config", "wipe", "flushall"),
                ("COMMAND", "LIST", "FILTERBY", "PATTERN", "s?t"),
                ("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"),
                ("COMMAND", "GETKEYS", "foo", "a", "b"), ("COMMAND", "GETKEYS", "set", "a"),
                ("COMMAND", "GETKEYS", "get", "a")]:
        _check(renamed, *cmd)


def test_command_views_shrink_as_redis(renamed):
    ours, theirs, server = renamed
    plain_ours, plain_theirs = RawClient("127.0.0.1", _unrenamed.port), None
    del plain_theirs
    # two of the renames remove nothing; `config ""` removes one top-level command
    assert ours.call("COMMAND", "COUNT") == plain_ours.call("COMMAND", "COUNT") - 1
    names_ours = set(ours.call("COMMAND", "LIST"))
    names_theirs = set(theirs.call("COMMAND", "LIST"))
    assert {b"set", b"get", b"flushall"} <= names_ours and not any(n.startswith(b"config") for n in names_ours)
    assert not any(n.startswith(b"config") for n in names_theirs) and b"set" in names_theirs
    docs_ours, docs_theirs = ours.call("COMMAND", "DOCS", "foo", "config"), theirs.call("COMMAND", "DOCS", "foo", "config")
    assert docs_ours[::2] == docs_theirs[::2] == [b"set"]  # the command keeps its own name
    plain_ours.close()


_unrenamed = None


@pytest.fixture(autouse=True, scope="module")
def _plain_server():
    """A second pyredis server in the same process, without renames."""
    global _unrenamed
    with pyredis.Server(port=0) as s:
        _unrenamed = s
        yield s


def test_renames_are_per_server(renamed):
    ours, theirs, server = renamed
    plain = redis.Redis(port=_unrenamed.port)
    assert plain.set("k", "v") and plain.get("k") == b"v"
    assert plain.config_get("port")["port"] == str(_unrenamed.port)
    plain.close()
    ours.call("FOO", "only-here", "1")
    assert ours.call("set", "only-here") == b"1"  # on the renamed server `set` is GET
    assert ours.call("config", "get", "port").startswith(b"ERR unknown command 'config'")


@pytest.mark.parametrize("lines", [["rename-command nosuch x"], ["rename-command set get"],
                                   ["rename-command set foo", "rename-command set bar"],
                                   ["rename-command get"]])
def test_bad_renames_stop_the_start_as_redis(tmp_path, lines):
    require_binary(REDIS_SERVER, "redis-server")
    conf = tmp_path / "bad.conf"
    conf.write_text("# renames\n" + "\n".join(lines) + "\n")
    out = {}
    for name, argv in (("redis", [REDIS_SERVER]), ("pyredis", [sys.executable, "-m", "pyredis"])):
        p = subprocess.run([*argv, str(conf), "--port", "0", "--daemonize", "no"], capture_output=True, text=True,
                           timeout=30)
        text = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip()]
        out[name] = (p.returncode, text[-3:])
    assert out["pyredis"][0] == out["redis"][0] == 1
    assert out["pyredis"][1] == out["redis"][1], out
