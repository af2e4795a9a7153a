"""pyredis-cli against redis-cli: the same commands, sent by both tools to the same server,
must print the same bytes (formatted with --no-raw, raw when stdout is a pipe)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REDIS_CLI = shutil.which("redis-cli")
PYREDIS_CLI = str(Path(sys.executable).parent / "pyredis-cli")

needs_redis_cli = pytest.mark.skipif(REDIS_CLI is None and not os.environ.get("CI"),
                                     reason="redis-cli not installed (apt-get install redis-tools)")


def run(tool: str, *args: str, stdin: bytes | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([tool, *args], input=stdin, capture_output=True, timeout=timeout)


def both(port: int, *args: str, stdin: bytes | None = None):
    ours = run(PYREDIS_CLI, "-p", str(port), *args, stdin=stdin)
    theirs = run(REDIS_CLI, "-p", str(port), *args, stdin=stdin)
    return ours, theirs


def same(port: int, *args: str, stdin: bytes | None = None) -> bytes:
    ours, theirs = both(port, *args, stdin=stdin)
    assert ours.stdout == theirs.stdout, f"{args}: pyredis-cli={ours.stdout!r} redis-cli={theirs.stdout!r}"
    assert ours.returncode == theirs.returncode, args
    return ours.stdout


SETUP = [
    ("RPUSH", "l", "a", "b c", 'q"uote', "\x01\n\t\\"),
    ("HSET", "h", "f", "v", "g", "w"),
    ("SADD", "s", "x", "y", "z"),
    ("ZADD", "z", "1.5", "a", "2", "b"),
    ("SET", "n", "10"),
]

COMMANDS = [
    ("PING",),
    ("GET", "n"),
    ("GET", "missing"),
    ("INCR", "n"),
    ("LRANGE", "l", "0", "-1"),
    ("LRANGE", "missing", "0", "-1"),
    ("HGETALL", "h"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZSCORE", "z", "a"),
    ("MGET", "n", "missing", "n"),
    ("NOSUCHCOMMAND", "x"),
    ("INCR", "l"),
    ("EVAL", "return {1,{2,'x',{}},'z', {1,2,3,4,5,6,7,8,9,10,{11,12}}}", "0"),
    ("EVAL", "return {map={k={7,{8,9}}, j=3, e={}}}", "0"),
    ("EVAL", "return {map={a={map={x={1,2}}}}}", "0"),
    ("EVAL", "return {double=3.5}", "0"),
    ("DEBUG", "PROTOCOL", "true"),
    ("DEBUG", "PROTOCOL", "verbatim"),
    ("DEBUG", "PROTOCOL", "null"),
    ("DEBUG", "PROTOCOL", "map"),
    ("BLPOP", "missing", "0.01"),
    ("SET", "n", "10", "XX"),
    ("OBJECT", "ENCODING", "missing"),
]


@pytest.fixture
def loaded(pyredis_server, pyredis_client):
    for cmd in SETUP:
        pyredis_client.execute_command(*cmd)
    return pyredis_server.port


@needs_redis_cli
@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["-3"], ["-3", "--no-raw"], ["--csv"], ["-3", "--csv"]],
                         ids=["raw-resp2", "tty-resp2", "raw-resp3", "tty-resp3", "csv-resp2", "csv-resp3"])
def test_output_matches_redis_cli(loaded, mode):
    port = loaded
    for cmd in COMMANDS:
        if cmd[0] in ("INCR",) and cmd[1] == "n":
            continue  # changes state: checked below, once per tool
        same(port, *mode, *cmd)
    ours = run(PYREDIS_CLI, "-p", str(port), *mode, "INCR", "n").stdout
    theirs = run(REDIS_CLI, "-p", str(port), *mode, "INCR", "n").stdout
    assert (ours, theirs) in ((b"11\n", b"12\n"), (b"(integer) 11\n", b"(integer) 12\n"))


@needs_redis_cli
def test_ping_prints_pong(pyredis_server):
    out = run(PYREDIS_CLI, "-p", str(pyredis_server.port), "ping")
    assert out.stdout == b"PONG\n" and out.returncode == 0


@needs_redis_cli
def test_against_real_redis_server(real_redis):
    for cmd in SETUP:
        run(REDIS_CLI, "-p", str(real_redis.port), *cmd)
    for cmd in COMMANDS:
        if cmd[0] in ("INCR", "DEBUG"):
            continue
        same(real_redis.port, "--no-raw", *cmd)
        same(real_redis.port, "-3", "--no-raw", *cmd)
    run(REDIS_CLI, "-p", str(real_redis.port), "FLUSHALL")


@needs_redis_cli
def test_escapes_and_binary(pyredis_server, pyredis_client):
    pyredis_client.set("bin", "a\tb\x7f\\\"é\r")
    port = pyredis_server.port
    same(port, "--no-raw", "GET", "bin")
    same(port, "GET", "bin")


@needs_redis_cli
def test_repeat_interval_db_and_uri(pyredis_server, pyredis_client):
    port = pyredis_server.port
    assert run(PYREDIS_CLI, "-p", str(port), "-r", "3", "-i", "0.01", "INCR", "c").stdout == b"1\n2\n3\n"
    pyredis_client.execute_command("SELECT", "2")
    assert run(PYREDIS_CLI, "-p", str(port), "-n", "2", "SET", "indb2", "x").stdout == b"OK\n"
    assert run(PYREDIS_CLI, "-u", f"redis://127.0.0.1:{port}/2", "GET", "indb2").stdout == b"x\n"
    assert run(PYREDIS_CLI, "-p", str(port), "GET", "indb2").stdout == b"\n"


@needs_redis_cli
def test_stdin_lines_and_x(pyredis_server, pyredis_client):
    port = pyredis_server.port
    script = b'set a "hello world"\nget a\nnosuch\nget \'it\\\'s\'\nrpush q "\\x41\\n"\nlrange q 0 -1\n'
    for mode in ([], ["--no-raw"]):
        ours = run(PYREDIS_CLI, "-p", str(port), *mode, stdin=script)
        pyredis_client.flushall()
        theirs = run(REDIS_CLI, "-p", str(port), *mode, stdin=script)
        pyredis_client.flushall()
        assert ours.stdout == theirs.stdout and ours.returncode == theirs.returncode
    assert run(PYREDIS_CLI, "-p", str(port), "-x", "SET", "fromstdin", stdin=b"payload\n").stdout == b"OK\n"
    assert pyredis_client.get("fromstdin") == "payload\n"


@needs_redis_cli
def test_scan(pyredis_server, pyredis_client):
    for i in range(30):
        pyredis_client.set(f"user:{i}", i)
    pyredis_client.set("other", 1)
    port = pyredis_server.port
    for mode in ([], ["--no-raw"]):
        ours, theirs = both(port, *mode, "--scan", "--pattern", "user:*")
        assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
        assert len(ours.stdout.splitlines()) == 30


def test_auth_user_and_password(tmp_path):
    import pyredis

    with pyredis.Server(port=0, requirepass="s3cret", dir=str(tmp_path)) as srv:
        p = str(srv.port)
        noauth = run(PYREDIS_CLI, "-p", p, "--no-raw", "ping")
        assert noauth.stdout == b"(error) NOAUTH Authentication required.\n"
        ok = run(PYREDIS_CLI, "-p", p, "-a", "s3cret", "ping")
        assert ok.stdout == b"PONG\n"
        assert b"Warning: Using a password" in ok.stderr
        quiet = run(PYREDIS_CLI, "-p", p, "--user", "default", "--pass", "s3cret", "--no-auth-warning", "ping")
        assert quiet.stdout == b"PONG\n" and quiet.stderr == b""
        assert run(PYREDIS_CLI, "-u", f"redis://default:s3cret@127.0.0.1:{p}", "--no-auth-warning",
                   "ping").stdout == b"PONG\n"
        env = dict(os.environ, REDISCLI_AUTH="s3cret")
        assert subprocess.run([PYREDIS_CLI, "-p", p, "ping"], capture_output=True, env=env,
                              timeout=20).stdout == b"PONG\n"


def test_connection_refused_exit_code():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        out = run(PYREDIS_CLI, "-p", str(port), "ping")
    assert out.returncode == 1
    assert out.stderr == f"Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n".encode()


def test_stat_lines(pyredis_server, pyredis_client):
    pyredis_client.mset({"a": 1, "b": 2})
    proc = subprocess.Popen([PYREDIS_CLI, "-p", str(pyredis_server.port), "--stat", "-i", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = [proc.stdout.readline().decode() for _ in range(4)]
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert lines[0].startswith("------- data ------ --------------------- load")
    assert lines[1].startswith("keys       mem      clients blocked requests")
    assert lines[2].split()[0] == "2" and lines[2].split()[1].endswith(("K", "M", "B"))
    assert "(+" in lines[3]


def test_split_args():
    from pyredis.cli.client import split_args

    assert split_args('set "a b" \'c d\' e') == [b"set", b"a b", b"c d", b"e"]
    assert split_args('"\\x41\\n\\"x"') == [b'A\n"x']
    assert split_args('"unbalanced') is None
    assert split_args("   ") == []


@needs_redis_cli
def test_stdin_line_splitting_edges(pyredis_server):
    """redis-cli splits a line with the server's sdssplitargs (cliSplitArgs): \\v and \\f stay
    inside a word, `\\x` without two hex digits is a plain `x`, a NUL ends the line."""
    port = str(pyredis_server.port)
    script = b'ECHO a\x0bb\nECHO a\x0cb\nECHO "x\\x 1"\nECHO "\\x41\\x4a"\n'
    for mode in ([], ["--no-raw"]):
        ours = run(PYREDIS_CLI, "-p", port, *mode, stdin=script)
        theirs = run(REDIS_CLI, "-p", port, *mode, stdin=script)
        assert ours.stdout == theirs.stdout and ours.returncode == theirs.returncode, (ours.stdout, theirs.stdout)
    from pyredis.cli.client import split_args

    assert split_args("get a\x0bb") == [b"get", b"a\x0bb"]
    assert split_args("get a\x00b") == [b"get", b"a"]


def test_tty_format_units():
    from pyredis.cli.client import Reply
    from pyredis.cli.printer import format_raw, format_tty

    arr = Reply("array", [Reply("bulk", b"a"), Reply("set", [Reply("integer", 1), Reply("integer", 2)])])
    assert format_tty(arr) == '1) "a"\n2) 1~ (integer) 1\n   2~ (integer) 2\n'
    assert format_tty(Reply("bignum", b"123")) == "(big number) 123\n"
    assert format_raw(Reply("map", [Reply("bulk", b"k"), Reply("double", b"1.5")])) == b"k 1.5"


def test_interactive_prompt(pyredis_server, pyredis_client, tmp_path):
    """The prompt on a terminal: TTY formatting, `N cmd` repeats, SELECT in the prompt, history."""
    import select

    port = pyredis_server.port
    hist = tmp_path / "hist"
    master, slave = os.openpty()  # a terminal without forking this (threaded) test process
    proc = subprocess.Popen([PYREDIS_CLI, "-p", str(port)], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "REDISCLI_HISTFILE": str(hist), "TERM": "dumb"},
                            start_new_session=True)
    os.close(slave)
    out = b""

    def expect(text: bytes, timeout: float = 10) -> None:
        nonlocal out
        deadline = time.time() + timeout
        while text not in out:
            left = deadline - time.time()
            assert left > 0, f"waiting for {text!r}, got {out!r}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:  # the terminal closed
                    break
        assert text in out, out

    try:
        expect(f"127.0.0.1:{port}> ".encode())
        os.write(master, b'set greeting "hello world"\r')
        expect(b"OK")
        os.write(master, b"3 incr n\r")
        expect(b"(integer) 3")
        os.write(master, b"select 2\r")
        expect(f"127.0.0.1:{port}[2]> ".encode())
        os.write(master, b"get greeting\r")
        expect(b"(nil)")
        os.write(master, b"select 0\r")
        os.write(master, b"get greeting\r")
        expect(b'"hello world"')
        os.write(master, b"help get\r")
        # coloured on a terminal, as redis-cli; the text is COMMAND DOCS's of the server's mode (the suite's 7.0)
        expect(b"\x1b[33msummary:\x1b[0m Get the value of a key")
        os.write(master, b"quit\r")
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"incr n" in hist.read_bytes()


def read_until_line(proc: subprocess.Popen, needle: bytes, timeout: float = 10) -> bytes:
    """What proc printed on stdout until a complete line containing `needle` (waiting for it,
    at most `timeout` seconds)."""
    fd = proc.stdout.fileno()
    out = b""
    deadline = time.monotonic() + timeout
    while not (needle in out and b"\n" in out[out.index(needle):]):
        left = deadline - time.monotonic()
        assert left > 0, f"no line with {needle!r} within {timeout}s: {out!r}"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 1 << 16)
            assert chunk, f"stdout closed before a line with {needle!r}: {out!r}"
            out += chunk
    return out


@needs_redis_cli
@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["-3", "--no-raw"]])
def test_subscribe_streams_messages(pyredis_server, pyredis_client, mode):
    port = str(pyredis_server.port)
    outputs = []
    for tool in (PYREDIS_CLI, REDIS_CLI):
        deadline = time.time() + 10
        while pyredis_client.pubsub_numsub("news")[0][1] != 0:  # the previous tool is gone
            assert time.time() < deadline
            time.sleep(0.02)
        proc = subprocess.Popen([tool, "-p", port, *mode, "subscribe", "news"], stdout=subprocess.PIPE)
        out = b""
        try:
            while pyredis_client.pubsub_numsub("news")[0][1] == 0:
                assert time.time() < deadline
                time.sleep(0.02)
            pyredis_client.publish("news", "hello")
            pyredis_client.publish("news", "world")
            out = read_until_line(proc, b"world")  # the last message is printed in full
        finally:
            proc.terminate()
            out += proc.communicate(timeout=10)[0]
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert b"world" in outputs[0]


@needs_redis_cli
def test_eval_file(pyredis_server, pyredis_client, tmp_path):
    script = tmp_path / "s.lua"
    script.write_text("return {KEYS[1], KEYS[2], ARGV[1], #ARGV, redis.call('INCR', KEYS[1])}")
    port = pyredis_server.port
    for mode in ([], ["--no-raw"]):
        ours = run(PYREDIS_CLI, "-p", str(port), *mode, "--eval", str(script), "k1", "k2", ",", "a1", "a2")
        pyredis_client.flushall()
        theirs = run(REDIS_CLI, "-p", str(port), *mode, "--eval", str(script), "k1", "k2", ",", "a1", "a2")
        pyredis_client.flushall()
        assert ours.stdout == theirs.stdout and b"a1" in ours.stdout


def test_shutdown_is_silent_success(tmp_path):
    import pyredis

    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path))
    srv.start()
    try:
        out = run(PYREDIS_CLI, "-p", str(srv.port), "shutdown")
        assert (out.returncode, out.stdout, out.stderr) == (0, b"", b"")
        srv.proc.wait(15)
    finally:
        srv.stop()


@needs_redis_cli
@pytest.mark.parametrize("topic", [["set"], ["zadd"], ["sort"], ["georadius"], ["xadd"], ["config", "set"],
                                   ["client", "kill"], ["object", "encoding"], ["lpos"], ["migrate"],
                                   ["config"], ["xgroup"], ["@string"], ["@server"], ["@stream"]])
def test_help_matches_redis_cli(real_redis, topic):
    """help <command>, rendered from COMMAND DOCS, equals redis-cli's help text (colours aside)."""
    import re

    port = str(real_redis.port)
    ours = run(PYREDIS_CLI, "-p", port, "help", *topic).stdout.decode()
    theirs = run(REDIS_CLI, "-p", port, "help", *topic).stdout.decode()
    theirs = re.sub(r"\x1b\[[0-9;]*m", "", theirs).replace("\r\n", "\n")
    assert ours == theirs
