"""DEBUG CLOCK: time control for tests (a pyredis extension; redis-server has no such subcommand).

    DEBUG CLOCK FREEZE              stop the server clock at its current reading
    DEBUG CLOCK ADVANCE <ms>        move it forward (negative: back), frozen or not
    DEBUG CLOCK SET <unix-ms>       jump to a wall-clock time, frozen or not
    DEBUG CLOCK RESUME              let a frozen clock run again from where it stands
    DEBUG CLOCK RESET               back to the machine's real time, running
    DEBUG CLOCK GET                 the clock's reading in ms since the epoch (integer)

Everything time-based reads `state.clock` (clock.py): expiry (lazy and active), TTL/PTTL,
TIME, EXPIRETIME, stream ids, blocking deadlines. Like every DEBUG subcommand it needs
`enable-debug-command yes` (or `local` for loopback connections). Registered through
server.py's DEBUG_EXTENSIONS, so DEBUG HELP stays redis-server's text.
"""

from __future__ import annotations

import time

from ..core.client import Client
from ..errors import CommandError
from ..protocol.parser import string2ll
from ..protocol.replies import OK
from .server import DEBUG_EXTENSIONS

_USAGE = "ERR DEBUG CLOCK <FREEZE|ADVANCE ms|SET unix-ms|RESUME|RESET|GET>"


def _ms(arg: bytes) -> int:
    v = string2ll(arg)
    if v is None:
        raise CommandError("ERR value is not an integer or out of range")
    return v


def debug_clock(ctx: Client, *args: bytes):
    if not args:
        raise CommandError(_USAGE)
    state = ctx.server
    clock = state.clock
    op = args[0].upper()
    n = len(args)
    if op == b"GET" and n == 1:
        return clock.ms()
    if op == b"FREEZE" and n == 1:
        clock.freeze()
    elif op == b"RESUME" and n == 1:
        clock.resume()
    elif op == b"RESET" and n == 1:
        clock.resume()
        clock.set(int(time.time() * 1000))
    elif op == b"ADVANCE" and n == 2:
        clock.advance(_ms(args[1]))
    elif op == b"SET" and n == 2:
        clock.set(_ms(args[1]))
    else:
        raise CommandError(_USAGE)
    # The command's own time (and what the next lookups in this event-loop turn compare with).
    state.now_cache = clock.ms()
    _rearm_blocked(state)
    return OK


def _rearm_blocked(state) -> None:
    """Blocked clients' timeouts (BLPOP k 5, XREAD BLOCK ...) are timers in real seconds until
    the deadline on the server clock: recompute them from the moved clock, so an ADVANCE past a
    deadline times the client out now."""
    mgr = getattr(state, "blocking", None)
    if mgr is None:
        return
    for w in list(mgr.by_client.values()):
        if w.active and w.deadline and w.timer is not None:
            w.timer.cancel()
            mgr._arm(w)


DEBUG_EXTENSIONS[b"CLOCK"] = debug_clock
