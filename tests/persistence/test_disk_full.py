"""A full disk: the AOF is never corrupted and nothing acknowledged is lost, as Redis 7.0.

The disk fills up for the server alone: its RLIMIT_FSIZE is lowered to just above the AOF's
size (resource.prlimit on its pid) -- a write past it fails with EFBIG ("File too large") the
way one past a full disk fails with ENOSPC, short write first -- and raised again later.

appendfsync everysec: writes after the failure get -MISCONF, the acknowledged ones are kept in
memory and written when space returns, and a restart finds every acknowledged key; the error
is logged once, not once per write. appendfsync always: the server exits with Redis's message
(it cannot keep its promise that a reply means on disk)."""

from __future__ import annotations

import glob
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

from conftest import REDIS_SERVER, require_binary
from lua_soak import Conn, _free_port
from procs import start, stop

UNLIMITED = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)


def _limit(pid: int, size: int) -> None:
    """The soft limit only: lowering a hard limit could not be undone without privilege."""
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


def _ignore_sigxfsz() -> None:
    # Past RLIMIT_FSIZE the kernel sends SIGXFSZ, whose default action kills (redis-server
    # does not ignore it; Python does): ignored, the write fails with EFBIG instead, like
    # one on a full disk fails with ENOSPC.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _incr_size(d: str) -> int:
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "appendonlydir", "*.incr.aof")))


OK = b"+OK\r\n"


def _everysec(binary: str | None) -> tuple[tuple, int]:
    d = tempfile.mkdtemp(prefix="disk-full-")
    port = _free_port()
    base = [binary] if binary else [sys.executable, "-m", "pyredis"]
    # the log goes to a pipe: a log file would hit the file-size limit too
    cmd = [*base, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "yes",
           "--appendfsync", "everysec"]
    proc = start(cmd, port, subprocess.PIPE, preexec_fn=_ignore_sigxfsz)
    try:
        c = Conn(port)
        before = [c.call("SET", "before%d" % i, "x" * 20) for i in range(20)]
        time.sleep(0.3)
        size = _incr_size(d)
        _limit(proc.pid, size + 100)
        # a few fit, one is cut short, then MISCONF. At least ten writes, and on until three have
        # been refused: with everysec, redis-server postpones its write by up to 2 s while the
        # previous second's background fsync runs (a busy machine), and the writes meanwhile
        # are all acknowledged from its buffer
        during: list = []
        deadline = time.time() + 10
        while True:
            during.append(c.call("SET", "during%d" % len(during), "y" * 40))
            refused = [r != OK for r in during]
            if len(during) >= 10 and (refused[-3:] == [True] * 3 or time.time() > deadline):
                break
            if len(during) >= 10:
                time.sleep(0.05)
        read = c.call("GET", "before1")  # reads go on
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, UNLIMITED)
        deadline = time.time() + 10
        while True:  # the retry writes the buffered commands; writes are accepted again
            r = c.call("SET", "after", "z")
            if r == OK:
                break
            assert time.time() < deadline, r
            time.sleep(0.1)
        acked = [k for k, r in zip(["before%d" % i for i in range(20)] + ["during%d" % i for i in range(len(during))],
                                   before + during) if r == OK] + ["after"]
        c.send(["SHUTDOWN"])  # saves nothing (save "") but flushes and fsyncs the AOF; no reply
        c.close()
        log = proc.communicate(timeout=15)[0]
        errors = log.count(b"Error writing to the AOF file") + log.count(b"Short write while writing to the AOF")
        proc = start(cmd, port, preexec_fn=_ignore_sigxfsz)  # the AOF loads: no partial command inside
        c = Conn(port)
        found = c.call("EXISTS", *acked)
        c.close()
        return (before, during, read, found == b":%d\r\n" % len(acked)), errors
    finally:
        stop(proc)


def _shape(out: tuple) -> tuple:
    """What must hold on both servers: every write before the limit acknowledged; then some
    acknowledged (those that fit, or wait in the buffer), and once one is refused every later
    one too, with MISCONF; reads go on; all acknowledged keys found after the restart. (How
    many fit depends on when each server happens to write its AOF buffer.)"""
    before, during, read, found = out
    refused = [r != OK for r in during]
    first = refused.index(True) if True in refused else len(refused)
    return (all(r == OK for r in before), first < len(refused), all(refused[first:]),
            set(during[first:]), read, found)


def test_full_disk_everysec_as_redis():
    require_binary(REDIS_SERVER, "redis-server")
    ours, our_errors = _everysec(None)
    theirs, their_errors = _everysec(REDIS_SERVER)
    assert _shape(ours) == _shape(theirs)
    assert _shape(ours) == (True, True, True, {b"-MISCONF Errors writing to the AOF file: No space left on device\r\n"},
                            b"$20\r\n" + b"x" * 20 + b"\r\n", True)
    assert our_errors == their_errors == 1  # logged once, not once per failed write


def _always(binary: str | None) -> tuple[int, bool]:
    d = tempfile.mkdtemp(prefix="disk-full-always-")
    port = _free_port()
    base = [binary] if binary else [sys.executable, "-m", "pyredis"]
    cmd = [*base, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "yes",
           "--appendfsync", "always"]
    proc = start(cmd, port, subprocess.PIPE, preexec_fn=_ignore_sigxfsz)
    try:
        c = Conn(port, timeout=10)
        c.call("SET", "k", "v")
        size = _incr_size(d)
        _limit(proc.pid, size + 10)
        c.send(["SET", "big", "x" * 100])
        log = proc.communicate(timeout=15)[0]
        exited = b"Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..." in log
        return proc.returncode, exited
    finally:
        stop(proc)


def test_full_disk_always_exits_as_redis():
    require_binary(REDIS_SERVER, "redis-server")
    assert _always(None) == _always(REDIS_SERVER) == (1, True)


def _failed_bgsave(binary: str | None) -> list:
    d = tempfile.mkdtemp(prefix="disk-full-bgsave-")
    port = _free_port()
    base = [binary] if binary else [sys.executable, "-m", "pyredis"]
    cmd = [*base, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "no",
           "--enable-debug-command", "yes"]
    proc = start(cmd, port, subprocess.PIPE, preexec_fn=_ignore_sigxfsz)
    out: list = []
    try:
        c = Conn(port, timeout=10)
        c.call("DEBUG", "POPULATE", "20000", "key", "100")
        _limit(proc.pid, 50000)  # the fork child inherits it: its dump cannot be written
        out.append(c.call("BGSAVE"))
        deadline = time.time() + 20
        while b"rdb_bgsave_in_progress:1" in c.call("INFO", "persistence"):
            assert time.time() < deadline
            time.sleep(0.05)
        info = c.call("INFO", "persistence")
        out.append(b"rdb_last_bgsave_status:err" in info)
        out.append(c.call("SET", "k", "v"))  # stop-writes-on-bgsave-error only with save points
        out.append(sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*"))))
        _limit(proc.pid, resource.RLIM_INFINITY)
        c.close()
    finally:
        stop(proc)
    return out


def test_failed_bgsave_removes_its_temporary_file():
    require_binary(REDIS_SERVER, "redis-server")
    ours = _failed_bgsave(None)
    assert ours == _failed_bgsave(REDIS_SERVER)
    assert ours[1] is True and ours[3] == []
