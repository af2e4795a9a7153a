"""pyredis-check-aof against redis-check-aof 7.0.15: the same files (each tool on its own copy),
the same arguments and answers; the same standard output (serverLog's pid and time left out),
exit status and files afterwards. --fix and --truncate-to-timestamp included."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import require_binary

CHECK_AOF = shutil.which("redis-check-aof")


def _cmd(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


SET_A = _cmd(b"SET", b"a", b"1")
SET_B = _cmd(b"SET", b"b", b"2")
SET_C = _cmd(b"SET", b"c", b"3")
TS = b"#TS:100\r\n" + SET_A + b"#TS:200\r\n" + SET_B + b"#TS:300\r\n" + SET_C
MULTI = _cmd(b"MULTI") + SET_A + SET_B + _cmd(b"EXEC")


def _rdb() -> bytes:
    """A small RDB (an empty dataset) as a base file."""
    from pyredis.config import Config
    from pyredis.core.state import ServerState
    from pyredis.rdb import rdb_bytes

    return rdb_bytes(ServerState(Config()))


def _mp(*files: tuple[str, bytes, str]) -> dict[str, bytes]:
    """A multi-part AOF in ad/: (name, contents, type) in manifest order."""
    out = {f"ad/{n}": data for n, data, _ in files}
    seq = {"b": 0, "i": 0}
    lines = []
    for n, _, t in files:
        seq[t] += 1
        lines.append(f"file {n} seq {seq[t]} type {t}\n")
    out["ad/x.manifest"] = "".join(lines).encode()
    return out


CASES = [
    # (id, files, args, stdin)
    ("valid", {"a.aof": SET_A + SET_B}, ["a.aof"], None),
    ("empty", {"a.aof": b""}, ["a.aof"], None),
    ("missing", {}, ["a.aof"], None),
    ("usage", {}, [], None),
    ("usage-3", {"a.aof": SET_A}, ["--bogus", "a.aof"], None),
    ("usage-4", {"a.aof": SET_A}, ["--fix", "1", "a.aof"], None),
    ("truncated", {"a.aof": (SET_A + SET_B)[:-5]}, ["a.aof"], None),
    ("fix-yes", {"a.aof": (SET_A + SET_B)[:-5]}, ["--fix", "a.aof"], "y\n"),
    ("fix-no", {"a.aof": (SET_A + SET_B)[:-5]}, ["--fix", "a.aof"], "n\n"),
    ("fix-middle", {"a.aof": SET_A + SET_B.replace(b"$1\r\nb", b"?1\r\nb") + SET_C}, ["--fix", "a.aof"], "Y\n"),
    ("bad-length", {"a.aof": SET_A + b"*1\r\n$x\r\n"}, ["a.aof"], None),
    ("bad-newline", {"a.aof": SET_A + b"*1\r\n$4\r\nPINGxx"}, ["a.aof"], None),
    ("negative-length", {"a.aof": b"*1\r\n$-3\r\nab\r\n"}, ["a.aof"], None),
    ("garbage", {"a.aof": SET_A + b"hello\r\n"}, ["a.aof"], None),
    ("ends-after-argc", {"a.aof": SET_A + b"*2\r\n"}, ["a.aof"], None),
    ("multi-ok", {"a.aof": MULTI}, ["a.aof"], None),
    ("multi-open", {"a.aof": SET_C + _cmd(b"MULTI") + SET_A}, ["a.aof"], None),
    ("multi-open-fix", {"a.aof": SET_C + _cmd(b"MULTI") + SET_A}, ["--fix", "a.aof"], "y\n"),
    ("multi-twice", {"a.aof": _cmd(b"MULTI") + _cmd(b"multi")}, ["a.aof"], None),
    ("exec-alone", {"a.aof": SET_A + _cmd(b"EXEC")}, ["a.aof"], None),
    ("annotations", {"a.aof": TS}, ["a.aof"], None),
    ("ts-cut", {"a.aof": TS}, ["--truncate-to-timestamp", "250", "a.aof"], None),
    ("ts-exact", {"a.aof": TS}, ["--truncate-to-timestamp", "200", "a.aof"], None),
    ("ts-nothing", {"a.aof": TS}, ["--truncate-to-timestamp", "300", "a.aof"], None),
    ("ts-before-all", {"a.aof": TS}, ["--truncate-to-timestamp", "50", "a.aof"], None),
    ("ts-invalid", {"a.aof": TS}, ["--truncate-to-timestamp", "1x", "a.aof"], None),
    ("ts-invalid-empty", {"a.aof": TS}, ["--truncate-to-timestamp", "", "a.aof"], None),
    ("ts-bad-annotation", {"a.aof": b"#TS:abc\r\n" + SET_A}, ["--truncate-to-timestamp", "5", "a.aof"], None),
    ("ts-then-broken-tail", {"a.aof": TS[:-4]}, ["--truncate-to-timestamp", "250", "a.aof"], None),
    ("ts-broken-before-cut", {"a.aof": TS[:-4]}, ["--truncate-to-timestamp", "400", "a.aof"], None),
    ("mp-valid", _mp(("x.1.incr.aof", SET_A, "i"), ("x.2.incr.aof", TS, "i")), ["ad/x.manifest"], None),
    ("mp-rdb-base", _mp(("x.1.base.rdb", _rdb(), "b"), ("x.1.incr.aof", SET_A, "i")), ["ad/x.manifest"], None),
    ("mp-resp-base", _mp(("x.1.base.aof", SET_B, "b"), ("x.1.incr.aof", SET_A, "i")), ["ad/x.manifest"], None),
    ("mp-empty-incr", _mp(("x.1.base.aof", SET_B, "b"), ("x.1.incr.aof", b"", "i")), ["ad/x.manifest"], None),
    ("mp-missing-file", _mp(("x.1.incr.aof", SET_A, "i")) | {"ad/x.1.incr.aof": None}, ["ad/x.manifest"], None),
    ("mp-bad-manifest", {"ad/x.manifest": b"file x.1.incr.aof seq 1 type i\ngarbage\n", "ad/x.1.incr.aof": SET_A},
     ["ad/x.manifest"], None),
    ("mp-fix-not-last", _mp(("x.1.incr.aof", SET_A[:-3], "i"), ("x.2.incr.aof", SET_B, "i")),
     ["--fix", "ad/x.manifest"], "y\n"),
    ("mp-fix-last", _mp(("x.1.incr.aof", SET_A, "i"), ("x.2.incr.aof", SET_B[:-3], "i")),
     ["--fix", "ad/x.manifest"], "y\n"),
    ("mp-ts-not-last", _mp(("x.1.incr.aof", TS, "i"), ("x.2.incr.aof", TS, "i")),
     ["--truncate-to-timestamp", "250", "ad/x.manifest"], None),
    ("mp-ts-last", _mp(("x.1.incr.aof", b"#TS:10\r\n" + SET_A, "i"), ("x.2.incr.aof", TS, "i")),
     ["--truncate-to-timestamp", "250", "ad/x.manifest"], None),
    ("mp-ts-nothing", _mp(("x.1.incr.aof", TS, "i"), ("x.2.incr.aof", TS, "i")),
     ["--truncate-to-timestamp", "999", "ad/x.manifest"], None),
    ("lines-across-files", _mp(("x.1.incr.aof", SET_A + SET_B, "i"), ("x.2.incr.aof", SET_C[:-2], "i")),
     ["ad/x.manifest"], None),
]

_LOG = re.compile(r"^\d+:C \d+ \w+ \d+ [\d:.]+ # ", re.M)


def _run(cmd: list[str], cwd: str, args: list[str], stdin: str | None) -> tuple[int, str, dict[str, bytes]]:
    proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, input=(stdin or "").encode(), timeout=60)
    out = _LOG.sub("", proc.stdout.decode("utf-8", "replace"))
    out = re.sub(r"Usage: \S+", "Usage: CHECK", out)
    files = {}
    for root, _, names in os.walk(cwd):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, cwd)] = f.read()
    return proc.returncode, out, files


@pytest.mark.parametrize("tag,files,args,stdin", CASES, ids=[c[0] for c in CASES])
def test_check_aof_as_redis_check_aof(tmp_path, tag, files, args, stdin):
    require_binary(CHECK_AOF, "redis-check-aof")
    results = []
    ours_cmd = [os.path.join(os.path.dirname(sys.executable), "pyredis-check-aof")]
    for side, cmd in (("ours", ours_cmd), ("theirs", ["redis-check-aof"])):
        d = tmp_path / side
        d.mkdir()
        for name, data in files.items():
            if data is None:
                continue
            (d / name).parent.mkdir(parents=True, exist_ok=True)
            (d / name).write_bytes(data)
        if side == "theirs":
            cmd = [CHECK_AOF]
        results.append(_run(cmd, str(d), args, stdin))
    ours, theirs = results
    assert ours[1] == theirs[1]
    assert ours[0] == theirs[0]
    assert ours[2] == theirs[2]


# --- pyredis-check-rdb on sane files: redis-check-rdb's report, line for line ---------------------
CHECK_RDB = shutil.which("redis-check-rdb")


def test_check_rdb_reports_as_redis_check_rdb(tmp_path):
    """An RDB of several databases, expiries (one already past) and a function library, written
    by redis-server and by pyredis: both tools print the same report (aux fields, the
    databases selected with their offsets, the counts); a missing file."""
    import time

    import redis as redis_py

    import pyredis
    from conftest import RealRedis

    require_binary(CHECK_RDB, "redis-check-rdb")
    lib = "#!lua name=lib\nredis.register_function('f', function() return 1 end)"

    def fill(r) -> None:
        r.set("a", "1")
        r.set("soon", "x", px=300)
        r.set("later", "y", ex=100000)
        r.execute_command("FUNCTION", "LOAD", lib)
        r.execute_command("SELECT", 3)
        r.hset("h", mapping={"f": "v"})
        r.rpush("l", *range(300))
        r.execute_command("SELECT", 0)
        r.save()

    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    ours_dir.mkdir()
    theirs_dir.mkdir()
    theirs = RealRedis(dir=str(theirs_dir))
    try:
        r = redis_py.Redis(port=theirs.port)
        fill(r)
        r.close()
    finally:
        theirs.stop()
    with pyredis.Server(port=0, dir=str(ours_dir)) as srv:
        r = redis_py.Redis.from_url(srv.url)
        fill(r)
        r.close()
    time.sleep(0.4)  # the 300 ms key is past now: "already expired"
    ours_tool = os.path.join(os.path.dirname(sys.executable), "pyredis-check-rdb")
    for d in (ours_dir, theirs_dir):
        a = subprocess.run([ours_tool, "dump.rdb"], cwd=d, capture_output=True, text=True, timeout=60)
        b = subprocess.run([CHECK_RDB, "dump.rdb"], cwd=d, capture_output=True, text=True, timeout=60)
        assert (a.returncode, a.stdout) == (b.returncode, b.stdout)
        assert "[info] 1 already expired" in a.stdout and "Selecting DB ID 3" in a.stdout
    a = subprocess.run([ours_tool, "nosuch.rdb"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    b = subprocess.run([CHECK_RDB, "nosuch.rdb"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout) == (1, "[offset 0] Checking RDB file nosuch.rdb\n")


@pytest.mark.parametrize("data", [b"", b"RED", b"NOTREDIS0010xx", b"REDIS9999", b"REDIS0000"],
                         ids=["empty", "short", "signature", "version", "version-0"])
def test_check_rdb_header_errors_as_redis(tmp_path, data):
    require_binary(CHECK_RDB, "redis-check-rdb")
    (tmp_path / "x.rdb").write_bytes(data)
    ours_tool = os.path.join(os.path.dirname(sys.executable), "pyredis-check-rdb")
    a = subprocess.run([ours_tool, "x.rdb"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    b = subprocess.run([CHECK_RDB, "x.rdb"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)
