"""Redis's per-key access clocks (evict.c): the 24-bit LRU clock and the LFU counter that share
the robj `lru` field. Kept per key in Database.lru; read by OBJECT IDLETIME / FREQ, DEBUG
OBJECT, the RDB IDLE/FREQ opcodes and the eviction pool (core/evict.py).

LRU: the field is the LRU clock of the last access, seconds since the epoch modulo 2**24
(LRU_CLOCK_RESOLUTION 1000 ms); the idle time is the clock's distance from it, wrapping once.

LFU: the field is (last decrement time in minutes, 16 bits) << 8 | a logarithmic counter (8
bits). New keys start at LFU_INIT_VAL; an access first decays the counter by one per
`lfu-decay-time` minutes elapsed, then increments it with probability
1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1), saturating at 255.

API:
    lru_clock(ms) -> int                       estimate_idle_ms(clock, lru) -> int
    lfu_minutes(ms) -> int                     lfu_time_elapsed(now_min, ldt) -> int
    lfu_log_incr(counter, log_factor, r) -> int          (r uniform in [0, 1])
    lfu_decr_and_return(lru, now_min, decay_time) -> int
    LFU(log_factor, decay_time): .minutes (set by the clock), .initial(), .touch(lru)
"""

from __future__ import annotations

import random

LRU_BITS = 24
LRU_CLOCK_MAX = (1 << LRU_BITS) - 1
LRU_CLOCK_RESOLUTION = 1000  # ms
LFU_INIT_VAL = 5


def lru_clock(ms: int) -> int:
    """getLRUClock: (mstime / LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX."""
    return (ms // LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX


def estimate_idle_ms(clock: int, lru: int) -> int:
    """estimateObjectIdleTime: milliseconds since the access recorded as `lru`."""
    if clock >= lru:
        return (clock - lru) * LRU_CLOCK_RESOLUTION
    return (clock + (LRU_CLOCK_MAX - lru)) * LRU_CLOCK_RESOLUTION


def lfu_minutes(ms: int) -> int:
    """LFUGetTimeInMinutes: (unixtime / 60) & 65535."""
    return (ms // 1000 // 60) & 65535


def lfu_time_elapsed(now_min: int, ldt: int) -> int:
    """LFUTimeElapsed: minutes since ldt, the 16-bit minute clock wrapping at most once."""
    if now_min >= ldt:
        return now_min - ldt
    return 65535 - ldt + now_min


def lfu_log_incr(counter: int, log_factor: int, r: float) -> int:
    """LFULogIncr with r = rand()/RAND_MAX."""
    if counter == 255:
        return 255
    baseval = counter - LFU_INIT_VAL
    if baseval < 0:
        baseval = 0
    p = 1.0 / (baseval * log_factor + 1)
    return counter + 1 if r < p else counter


def lfu_decr_and_return(lru: int, now_min: int, decay_time: int) -> int:
    """LFUDecrAndReturn: the counter after the decay periods elapsed since its ldt."""
    counter = lru & 255
    periods = lfu_time_elapsed(now_min, lru >> 8) // decay_time if decay_time else 0
    if periods:
        counter = 0 if periods > counter else counter - periods
    return counter


class LFU:
    """The LFU field arithmetic with the server's settings and minute clock (one per server,
    shared by its databases while an LFU policy is selected)."""

    __slots__ = ("log_factor", "decay_time", "minutes", "rand")

    def __init__(self, log_factor: int, decay_time: int, minutes: int = 0, rand=random.random) -> None:
        self.log_factor = log_factor
        self.decay_time = decay_time
        self.minutes = minutes
        self.rand = rand

    def initial(self) -> int:
        """A new object: the current minute and LFU_INIT_VAL."""
        return (self.minutes << 8) | LFU_INIT_VAL

    def counter(self, lru: int) -> int:
        return lfu_decr_and_return(lru, self.minutes, self.decay_time)

    def touch(self, lru: int) -> int:
        """updateLFU: decay, then the logarithmic increment; the ldt becomes now."""
        c = lfu_decr_and_return(lru, self.minutes, self.decay_time)
        if c != 255:
            c = lfu_log_incr(c, self.log_factor, self.rand())
        return (self.minutes << 8) | c
