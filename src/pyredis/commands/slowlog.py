"""SLOWLOG, LATENCY and MONITOR: the server's views of the commands it runs.

Where it sits: core/dispatch.py times every command and hands the slow ones to
state.slowlog_push (SLOWLOG reads and clears state.slowlog). After each command, while
MONITOR clients exist, dispatch feeds them (core/monitor.py); MONITOR adds the client to
state.monitors.
LATENCY reads core/latency.py: the latency monitor's events and the per-command histograms.
"""

from __future__ import annotations


from ..core.args import LONG_MAX, to_range_int
from ..core.client import Client
from ..core.spec import command, container
from ..errors import CommandError
from ..protocol.replies import NO_REPLY, OK, Verbatim
from ._server_common import help_reply

# --- SLOWLOG ------------------------------------------------------------------------------
container("SLOWLOG", group="server", summary="A container for slow log commands", since="2.2.12")


@command("SLOWLOG|GET", arity=-2, flags="admin loading stale", group="server", since="2.2.12",
         complexity="O(N) where N is the number of entries returned")
def slowlog_get(ctx: Client, *args: bytes):
    """Returns the slow log's entries."""
    count = 10
    if len(args) > 1:
        raise CommandError("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
    if args:
        count = to_range_int(args[0], -1, LONG_MAX, "ERR count should be greater than or equal to -1")
    log = ctx.server.slowlog
    entries = list(log) if count == -1 else list(log)[:count]
    return [[e[0], e[1], e[2], list(e[3]), e[4], e[5]] for e in entries]


@command("SLOWLOG|LEN", arity=2, flags="admin loading stale", group="server", since="2.2.12", complexity="O(1)")
def slowlog_len(ctx: Client):
    """Returns the number of entries in the slow log."""
    return len(ctx.server.slowlog)


@command("SLOWLOG|RESET", arity=2, flags="admin loading stale", group="server", since="2.2.12",
         complexity="O(N) where N is the number of entries in the slowlog")
def slowlog_reset(ctx: Client):
    """Clears all entries from the slow log."""
    ctx.server.slowlog.clear()
    return OK


_SLOWLOG_HELP = [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
]


@command("SLOWLOG|HELP", arity=2, flags="loading stale", group="server", since="6.2.0", complexity="O(1)")
def slowlog_help(ctx: Client):
    """Show helpful text about the different subcommands"""
    return help_reply(_SLOWLOG_HELP)


# --- LATENCY (core/latency.py: the monitor's events and the per-command histograms) ------------
container("LATENCY", group="server", summary="A container for latency diagnostics commands", since="2.8.13")


@command("LATENCY|LATEST", arity=2, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_latest(ctx: Client):
    """Returns the latest latency samples for all events."""
    return ctx.server.latency.latest()


@command("LATENCY|HISTORY", arity=3, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_history(ctx: Client, event: bytes):
    """Returns timestamp-latency samples for an event."""
    return ctx.server.latency.history(event.decode("utf-8", "surrogateescape"))


@command("LATENCY|RESET", arity=-2, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_reset(ctx: Client, *events: bytes):
    """Resets the latency data for one or more events."""
    return ctx.server.latency.reset([e.decode("utf-8", "surrogateescape") for e in events] if events else None)


@command("LATENCY|GRAPH", arity=3, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_graph(ctx: Client, event: bytes):
    """Returns a latency graph for an event."""
    graph = ctx.server.latency.graph(event.decode("utf-8", "surrogateescape"))
    if graph is None:
        raise CommandError(b"ERR No samples available for event '%s'" % event.split(b"\0", 1)[0])
    return Verbatim(graph.encode("utf-8", "surrogateescape"))


@command("LATENCY|DOCTOR", arity=2, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_doctor(ctx: Client):
    """Returns a human-readable latency analysis report."""
    return Verbatim(ctx.server.latency.doctor().encode("utf-8", "surrogateescape"))


def _cdf(hist) -> dict:
    """fillCommandCDF: calls, and the cumulative count by power-of-two microseconds."""
    return {b"calls": hist.total, b"histogram_usec": dict(hist.cdf())}


@command("LATENCY|HISTOGRAM", arity=-2, flags="admin noscript loading stale", group="server", since="7.0.0",
         complexity="O(N) where N is the number of commands with latency information being retrieved.")
def latency_histogram(ctx: Client, *names: bytes):
    """Returns the cumulative distribution of latencies of a subset or all commands."""
    from ..core.latency import fold
    from ..core.spec import TABLE, all_specs

    table = ctx.server.commands or TABLE
    if not names:
        specs = all_specs()
    else:
        specs = []
        for name in names:
            parts = name.lower().split(b"|")
            spec = table.get(parts[0])
            if spec is not None and len(parts) == 2:
                spec = spec.subcommands.get(parts[1])
            elif len(parts) > 2:
                spec = None
            if spec is None:
                continue  # an unknown command is left out
            specs.append(spec)
            if len(parts) == 1:
                specs.extend(spec.subcommands.values())
    out = {}
    for spec in specs:
        hist = fold(spec)
        if hist is not None and hist.total:
            out[spec.fullname.encode()] = _cdf(hist)
    return out


_LATENCY_HELP = [
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
]


@command("LATENCY|HELP", arity=2, flags="loading stale", group="server", since="2.8.13", complexity="O(1)")
def latency_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return help_reply(_LATENCY_HELP)


# --- MONITOR ------------------------------------------------------------------------------
def _drop_monitor(c: Client) -> None:
    mons = c.server.monitors
    if c in mons:
        mons.remove(c)


@command("MONITOR", arity=1, flags="admin noscript loading stale", group="server", since="1.0.0", complexity="")
def monitor(ctx: Client):
    """Listens for all requests received by the server in real-time."""
    state = ctx.server
    if ctx.multi is not None or ctx.in_exec:
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if ctx in state.monitors:
        return NO_REPLY
    if _drop_monitor not in state.reset_hooks:
        state.reset_hooks.append(_drop_monitor)
        srv = state.server
        if srv is not None and hasattr(srv, "disconnect_hooks"):
            srv.disconnect_hooks.append(_drop_monitor)
    state.monitors.append(ctx)
    return OK
