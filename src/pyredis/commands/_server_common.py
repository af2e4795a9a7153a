"""Helpers shared by the server command modules (command, config_cmd, info, debug, memory,
slowlog): the HELP reply, the enable-*-command check, the instantaneous metrics and the RSS.

Nothing here registers a command; the modules that do import what they need from here, so a
helper has one home whichever command uses it.
"""

from __future__ import annotations

import os
import resource
import time
from collections import deque

from ..protocol.replies import Simple


def help_reply(lines: list[str]) -> list:
    """A HELP subcommand's reply: one status line per text line, as addReplyHelp."""
    return [Simple(x.encode()) for x in lines]


class Metrics:
    """Per-server samples for the instantaneous_* figures (Redis's trackInstantaneousMetric):
    16 samples taken every 100 ms by a cron handler."""

    def __init__(self) -> None:
        self.reset()
        self.peak_memory = 0

    def reset(self) -> None:
        self.last_t = time.monotonic()
        self.last = (0, 0, 0)
        self.samples: dict[str, deque] = {k: deque(maxlen=16) for k in ("ops", "in", "out")}

    def sample(self, state) -> None:
        now = time.monotonic()
        dt = now - self.last_t
        if dt < 0.1:
            return
        st = state.stats
        cur = (st.total_commands_processed, st.total_net_input_bytes, st.total_net_output_bytes)
        for key, a, b in zip(("ops", "in", "out"), cur, self.last):
            self.samples[key].append((a - b) / dt if a >= b else 0.0)
        self.last, self.last_t = cur, now

    def rate(self, key: str) -> float:
        s = self.samples[key]
        return sum(s) / len(s) if s else 0.0


def metrics(state) -> Metrics:
    """The server's Metrics (INFO, CONFIG RESETSTAT, MEMORY STATS), created on first use."""
    m = getattr(state, "_info_metrics", None)
    if m is None:
        m = state._info_metrics = Metrics()
        state.hz_cron_handlers.append(lambda: m.sample(state))
    return m


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
