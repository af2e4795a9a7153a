"""A script that wrote and then loops is never persisted half-run: while it is busy, SHUTDOWN
(but NOSAVE), SAVE, BGSAVE, BGREWRITEAOF answer BUSY, the save-points cron and SIGTERM wait,
and after SHUTDOWN NOSAVE a restart finds none of its writes -- compared with redis-server."""

from __future__ import annotations

import signal
import sys
import tempfile
import time

from conftest import REDIS_SERVER, require_binary
from lua_soak import Conn, _free_port
from procs import start, stop

SCRIPT = "redis.call('set', 'partial', '1') local i = 0 while true do i = i + 1 end"


def _scenario(binary: str | None) -> list:
    d = tempfile.mkdtemp(prefix="busy-persist-")
    port = _free_port()
    base = [binary] if binary else [sys.executable, "-m", "pyredis"]
    cmd = [*base, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--appendonly", "yes",
           "--save", "1 1", "--busy-reply-threshold", "100"]
    proc = start(cmd, port)
    out: list = []
    try:
        a, b = Conn(port), Conn(port, timeout=10)
        b.call("SET", "before", "1")
        time.sleep(0.2)  # the AOF has `before`
        a.send(["EVAL", SCRIPT, "0"])
        time.sleep(0.4)
        for cmd_ in (["SHUTDOWN"], ["SHUTDOWN", "SAVE"], ["SAVE"], ["BGSAVE"], ["BGREWRITEAOF"], ["SCRIPT", "KILL"]):
            out.append(b.call(*cmd_))
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # longer than a save point (save 1 1) and a cron tick: nothing happens
        out.append(proc.poll())
        out.append(b.call("PING"))
        b.send(["SHUTDOWN", "NOSAVE"])
        out.append(proc.wait(15) is not None)
        a.close()
        b.close()
        proc = start(cmd, port)
        c = Conn(port)
        out.append(c.call("MGET", "before", "partial"))
        c.close()
    finally:
        stop(proc)
    return out


def test_busy_script_is_never_persisted_half_run():
    require_binary(REDIS_SERVER, "redis-server")
    ours = _scenario(None)
    theirs = _scenario(REDIS_SERVER)
    assert ours == theirs
    assert ours[0].startswith(b"-BUSY") and ours[-1] == b"*2\r\n$1\r\n1\r\n$-1\r\n"
