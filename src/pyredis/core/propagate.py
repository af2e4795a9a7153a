"""The stream of effects: commands as Redis propagates them (to the AOF today, to replicas
tomorrow), built once per call and handed to every sink.

A sink is any object with `feed(dbid, argv)`; it keeps its own selected database and writes
SELECT when dbid changes (Redis's feedAppendOnlyFile / replicationFeedSlaves do the same).
With no sink attached `active` is False and callers skip building effects at all: a server
without AOF and replicas pays one attribute test per write.

Effects of one top-level call travel together: several effects of one command (SPOP of many
members, XREADGROUP's XCLAIMs), of EXEC and of a script are wrapped in MULTI/EXEC once, at
the outermost level (Redis 7.0's propagatePendingCommands). EXEC and scripts capture what the
commands they run emit and release it as one transaction when they end.

API:
    prop = state.propagation
    prop.add_sink(sink) / prop.remove_sink(sink); prop.active
    prop.emit(dbid, argv)             # one effect (a command, an expired key's DEL)
    prop.emit_all(effects)            # [(dbid, argv), ...] of one call: MULTI/EXEC around several
    token = prop.capture(); ...; effects = prop.release(token)   # EXEC and scripts (only when active)
    prop.muted += 1 / -= 1           # redis.set_repl(redis.REPL_NONE): the effects are dropped
"""

from __future__ import annotations

from typing import Protocol

_MULTI = [b"MULTI"]
_EXEC = [b"EXEC"]


class Sink(Protocol):
    def feed(self, dbid: int, argv: list[bytes]) -> None: ...


class Propagation:
    __slots__ = ("sinks", "active", "muted", "_captures")

    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self.active = False  # any sink attached: build effects at all
        self.muted = 0
        self._captures: list[list[tuple[int, list[bytes]]]] = []

    def add_sink(self, sink: Sink) -> None:
        if sink not in self.sinks:
            self.sinks.append(sink)
        self.active = True

    def remove_sink(self, sink: Sink) -> None:
        if sink in self.sinks:
            self.sinks.remove(sink)
        self.active = bool(self.sinks)

    def emit(self, dbid: int, argv: list[bytes]) -> None:
        if self.muted:
            return
        if self._captures:
            self._captures[-1].append((dbid, argv))
            return
        for sink in self.sinks:
            sink.feed(dbid, argv)

    def emit_all(self, effects: list[tuple[int, list[bytes]]]) -> None:
        """The effects of one call: as they are when one, in MULTI/EXEC when several (unless
        they already are a transaction, or an enclosing EXEC/script wraps them)."""
        if len(effects) > 1 and not self._captures and effects[0][1][:1] != _MULTI:
            self.emit(effects[0][0], _MULTI)
            for dbid, argv in effects:
                self.emit(dbid, argv)
            self.emit(effects[-1][0], _EXEC)
        else:
            for dbid, argv in effects:
                self.emit(dbid, argv)

    def capture(self) -> int:
        """Start collecting instead of emitting (EXEC, a script); returns a token for release."""
        self._captures.append([])
        return len(self._captures)

    def release(self, token: int) -> list[tuple[int, list[bytes]]]:
        assert token == len(self._captures), "captures released out of order"
        return self._captures.pop()
