"""Fork children (BGSAVE, BGREWRITEAOF) close every inherited socket first thing and end with
their parent: after kill -9 of the server during a save, new connections are refused (not
accepted and left unanswered), the port is free for an immediate restart, and the child does
not go on writing a temporary file for nobody."""

from __future__ import annotations

import glob
import os
import socket
import sys
import tempfile
import time

from lua_soak import Conn, _free_port
from procs import start, stop


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_parent_killed_during_bgsave():
    d = tempfile.mkdtemp(prefix="fork-child-")
    port = _free_port()
    cmd = [sys.executable, "-m", "pyredis", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
           "--save", "", "--appendonly", "no", "--enable-debug-command", "yes"]
    proc = start(cmd, port)
    try:
        c = Conn(port)
        c.call("DEBUG", "POPULATE", "400000", "key", "200")  # a save that takes a while
        assert c.call("BGSAVE") == b"+Background saving started\r\n"
        deadline = time.time() + 10
        while not _children(proc.pid):
            assert time.time() < deadline
            time.sleep(0.01)
        child = _children(proc.pid)[0]
        c.close()
        proc.kill()
        proc.wait()
        # The port is not held by the child: refused at once, and free for a restart.
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", port)) != 0
        deadline = time.time() + 10
        while _alive(child):  # the child ends with its parent
            assert time.time() < deadline, "the fork child outlived its parent"
            time.sleep(0.05)
        assert not glob.glob(os.path.join(d, "temp-*.rdb"))
        proc = start(cmd, port)
    finally:
        stop(proc)
