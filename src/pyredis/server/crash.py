"""The crash report: what a user's bug report needs, written to the log before the process dies.

On a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: a fault in a C extension such as
lupa, or DEBUG SEGFAULT / DEBUG PANIC) two handlers run, in this order:

1. faulthandler (CPython's, async-signal-safe C): "Fatal Python error: ..." and the Python stack
   of every thread. It needs nothing of the interpreter, so the stacks are written even when
   the fault left Python in a bad state.
2. ours (Python, through ctypes, chained by faulthandler): Redis's report frame
   (=== PYREDIS BUG REPORT START ... END ===) with the signal, the version, the client and the
   command being executed (CLIENT INFO's line and argv, as Redis's "CURRENT CLIENT INFO"), and
   a few server figures. Best effort: if it fails, step 1 is already in the log.

Then the signal's default action ends the process (a core dump where enabled), as Redis does.
Installed once per process by pyredis-server (__main__), never by an embedded server in a test
thread: a crash handler belongs to the process, not to a library. With crash-log-enabled no
(Redis's setupSigSegvAction) nothing is installed and a fatal signal just ends the process;
CONFIG SET crash-log-enabled installs or removes the handlers.

API:
    install(server)   # after the RedisServer exists; the report goes to its logfile, or stdout
    remove()          # the signals' default actions again (before a panic's abort())
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import time

from ..config import TABLE
from ..util import sdscatrepr
from ..version import __version__

_FATAL = (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT)
_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_int)
_keep: list = []  # the ctypes callback and the open log descriptor live as long as the process


def install(server) -> None:
    server.config.on_change("crash-log-enabled", lambda on: _install(server) if on else remove())
    if server.config["crash-log-enabled"]:
        _install(server)


def remove() -> None:
    if not _keep:
        return
    faulthandler.disable()
    libc = ctypes.CDLL(None)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
    for sig in _FATAL:
        libc.signal(sig, 0)  # SIG_DFL
    os.close(_keep[1])
    _keep.clear()


def _install(server) -> None:
    if _keep:
        return
    logfile = server.config["logfile"]
    fd = os.open(logfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if logfile else os.dup(1)
    libc = ctypes.CDLL(None)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]

    def on_fatal(sig: int) -> None:
        try:
            os.write(fd, report(server, sig))
        finally:
            libc.signal(sig, 0)  # SIG_DFL: the fault recurs (or abort() raises again) and ends us

    cb = _HANDLER(on_fatal)
    _keep.extend((cb, fd))
    addr = ctypes.cast(cb, ctypes.c_void_p).value
    for sig in _FATAL:
        libc.signal(sig, addr)
    faulthandler.enable(file=fd, all_threads=True)  # chains to on_fatal after the stacks


def report(server, sig: int) -> bytes:
    """The text of the report (also used by DEBUG PANIC before it aborts)."""
    state = server.state
    pid = os.getpid()
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = str(sig)
    lines = [
        "",
        "=== PYREDIS BUG REPORT START: Cut & paste starting from here ===",
        f"{pid}:M {stamp} # pyredis {__version__} ({state.compat.server_name.capitalize()} {state.compat.version} compatible) crashed by signal: {sig} ({name})",
        "The Python stack of every thread is written just above this report (\"Fatal Python error\").",
        "",
        "------ CURRENT CLIENT INFO ------",
    ]
    cfg = server.config
    # hide-user-data-from-log (7.4, Valkey 8.0): clientArgsToLog logs the command name only
    hide = cfg.has(TABLE["hide-user-data-from-log"]) and cfg["hide-user-data-from-log"]
    lines += _client_lines(state.current_client, hide)
    lines += [
        "",
        "------ INFO OUTPUT (summary) ------",
        f"uptime_in_seconds:{int(now - state.start_time)}",
        f"connected_clients:{len(state.clients)}",
        f"keys:{sum(len(db) for db in state.dbs)}",
        f"total_commands_processed:{state.stats.total_commands_processed}",
        "",
        "=== PYREDIS BUG REPORT END. Make sure to include from START to END, and the stacks above. ===",
        "       Please report the crash by opening an issue on the project's tracker.",
        "",
    ]
    return "\n".join(lines).encode("utf-8", "replace")


def _client_lines(c, hide: bool = False) -> list[str]:
    if c is None:
        return ["(no client: the fault was outside a command)"]
    out = []
    try:
        from ..core.clients import client_info_line

        out.append(client_info_line(c).decode("utf-8", "replace"))
    except Exception as e:  # the report must not fail for want of one field
        out.append(f"id={getattr(c, 'id', '?')} (client info unavailable: {type(e).__name__})")
    argv = getattr(c, "argv", None) or []
    if hide:
        argv = argv[:1]
    for i, a in enumerate(argv[:16]):
        text = sdscatrepr(a[:128])
        more = f"... ({len(a)} bytes)" if len(a) > 128 else ""
        out.append(f"argv[{i}]: '{text}'{more}")
    if len(argv) > 16:
        out.append(f"... and {len(argv) - 16} more arguments")
    return out
