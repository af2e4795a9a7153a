"""The server clock, in milliseconds since the epoch. Injectable: tests and
`DEBUG CLOCK` (see issue 6) can freeze or advance it; everything time-based reads it here."""

from __future__ import annotations

import time


class Clock:
    __slots__ = ("_offset_ms", "_frozen_ms")

    def __init__(self) -> None:
        self._offset_ms = 0
        self._frozen_ms: int | None = None

    def ms(self) -> int:
        if self._frozen_ms is not None:
            return self._frozen_ms
        return int(time.time() * 1000) + self._offset_ms

    def us(self) -> int:
        if self._frozen_ms is not None:
            return self._frozen_ms * 1000
        return int(time.time() * 1_000_000) + self._offset_ms * 1000

    def freeze(self) -> None:
        self._frozen_ms = self.ms()

    def resume(self) -> None:
        if self._frozen_ms is not None:
            self._offset_ms = self._frozen_ms - int(time.time() * 1000)
            self._frozen_ms = None

    def advance(self, ms: int) -> None:
        if self._frozen_ms is not None:
            self._frozen_ms += ms
        else:
            self._offset_ms += ms

    def set(self, unix_ms: int) -> None:
        if self._frozen_ms is not None:
            self._frozen_ms = unix_ms
        else:
            self._offset_ms = unix_ms - int(time.time() * 1000)

    @property
    def frozen(self) -> bool:
        return self._frozen_ms is not None
