"""MONITOR: every executed command, as Redis's replicationFeedMonitors shows it, to the clients
in monitor mode (state.monitors). Called by dispatch.call() after the command, only while a
monitor exists.

    1339518083.107412 [0 127.0.0.1:60866] "set" "k" "v"      a client's command
    1339518083.107412 [0 lua] "set" "k" "v"                   redis.call() from a script or function

Admin commands and commands flagged skip_monitor are not shown (Redis hides them too).
"""

from __future__ import annotations

import time

from ..protocol.replies import Simple
from ..util import sdscatrepr


def feed(c, spec, argv: list[bytes]) -> None:
    """After a command (dispatch.call): shown unless admin or skip_monitor."""
    if spec.admin or "skip_monitor" in spec.flags:
        return
    feed_now(c, argv)


def feed_now(c, argv: list[bytes]) -> None:
    """Show argv now: EVAL, EVALSHA and FCALL (skip_monitor) call this before they run, so
    the commands of the script appear after it, as Redis's evalCommand does."""
    state = c.server
    if not state.monitors:
        return
    from .lua import called_from_script

    source = "lua" if called_from_script(c) else c.addr
    line = "%.6f [%d %s] %s" % (time.time(), c.db.id, source, " ".join(sdscatrepr(a) for a in argv))
    msg = Simple(line.encode("utf-8", "surrogateescape"))
    for m in list(state.monitors):
        if m.write_push is not None:
            m.write_push(msg)
