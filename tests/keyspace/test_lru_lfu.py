"""The access-clock arithmetic (keyspace/lru.py) and the eviction pool (core/evict.py) against
evict.c, transcribed below with C's unsigned arithmetic (the `C_*` functions are the
reference: a line-by-line port, masks where C's types wrap)."""

from __future__ import annotations

import random

import pytest

from pyredis.core.evict import EVPOOL_SIZE, Evictor, tenacity_limit_us
from pyredis.keyspace.lru import (LFU, LFU_INIT_VAL, LRU_CLOCK_MAX, estimate_idle_ms, lfu_decr_and_return,
                                  lfu_log_incr, lfu_minutes, lfu_time_elapsed, lru_clock)

U64 = (1 << 64) - 1


# --- evict.c, transcribed -------------------------------------------------------------------
def C_getLRUClock(mstime: int) -> int:
    return (mstime // 1000) & LRU_CLOCK_MAX


def C_estimateObjectIdleTime(lruclock: int, o_lru: int) -> int:
    if lruclock >= o_lru:
        return ((lruclock - o_lru) * 1000) & U64
    return ((lruclock + (LRU_CLOCK_MAX - o_lru)) * 1000) & U64


def C_LFUGetTimeInMinutes(unixtime: int) -> int:
    return (unixtime // 60) & 65535


def C_LFUTimeElapsed(now: int, ldt: int) -> int:
    if now >= ldt:
        return now - ldt
    return 65535 - ldt + now


def C_LFULogIncr(counter: int, lfu_log_factor: int, r: float) -> int:
    if counter == 255:
        return 255
    baseval = float(counter - LFU_INIT_VAL)
    if baseval < 0:
        baseval = 0
    p = 1.0 / (baseval * lfu_log_factor + 1)
    if r < p:
        counter += 1
    return counter


def C_LFUDecrAndReturn(lru: int, now_min: int, lfu_decay_time: int) -> int:
    ldt = lru >> 8
    counter = lru & 255
    num_periods = C_LFUTimeElapsed(now_min, ldt) // lfu_decay_time if lfu_decay_time else 0
    if num_periods:
        counter = 0 if num_periods > counter else counter - num_periods
    return counter


def C_evictionTimeLimitUs(tenacity: int) -> float:
    if tenacity <= 10:
        return 50 * tenacity
    if tenacity < 100:
        return int(500.0 * pow(1.15, tenacity - 10.0))
    return float("inf")


def C_evictionPoolPopulate(pool: list, samples: list) -> None:
    """The insertion loop of evictionPoolPopulate on a fixed array of EVPOOL_SIZE slots:
    pool[k] is None (empty) or (idle, key)."""
    for idle, key in samples:
        k = 0
        while k < EVPOOL_SIZE and pool[k] is not None and pool[k][0] < idle:
            k += 1
        if k == 0 and pool[EVPOOL_SIZE - 1] is not None:
            continue
        elif k < EVPOOL_SIZE and pool[k] is None:
            pass
        else:
            if pool[EVPOOL_SIZE - 1] is None:
                pool[k + 1:] = pool[k:EVPOOL_SIZE - 1]
            else:
                k -= 1
                pool[:k] = pool[1:k + 1]
        pool[k] = (idle, key)


# --- the tests -------------------------------------------------------------------------------
def test_lru_clock_is_seconds_in_24_bits():
    rnd = random.Random(1)
    for _ in range(2000):
        ms = rnd.randrange(0, 1 << 45)
        assert lru_clock(ms) == C_getLRUClock(ms)
    assert lru_clock((LRU_CLOCK_MAX + 1) * 1000) == 0  # wraps about every 194 days


def test_idle_time_wraps_once():
    rnd = random.Random(2)
    for _ in range(5000):
        clock, lru = rnd.randrange(LRU_CLOCK_MAX + 1), rnd.randrange(LRU_CLOCK_MAX + 1)
        assert estimate_idle_ms(clock, lru) == C_estimateObjectIdleTime(clock, lru)
    assert estimate_idle_ms(5, 10) == (5 + LRU_CLOCK_MAX - 10) * 1000
    assert estimate_idle_ms(10, 10) == 0


def test_lfu_minute_clock_and_elapsed():
    rnd = random.Random(3)
    for _ in range(2000):
        ms = rnd.randrange(0, 1 << 45)
        assert lfu_minutes(ms) == C_LFUGetTimeInMinutes(ms // 1000)
        now, ldt = rnd.randrange(65536), rnd.randrange(65536)
        assert lfu_time_elapsed(now, ldt) == C_LFUTimeElapsed(now, ldt)


@pytest.mark.parametrize("factor", [0, 1, 10, 100, 1000])
def test_lfu_log_incr(factor):
    rnd = random.Random(factor)
    for counter in range(256):
        for _ in range(20):
            r = rnd.random()
            assert lfu_log_incr(counter, factor, r) == C_LFULogIncr(counter, factor, r)
    # below and at LFU_INIT_VAL every access counts; 255 saturates
    assert all(lfu_log_incr(c, factor, 0.999999) == c + 1 for c in range(LFU_INIT_VAL + 1))
    assert lfu_log_incr(255, factor, 0.0) == 255


def test_lfu_log_incr_is_logarithmic():
    """redis.conf's table for lfu-log-factor 10: 1000 hits take the counter to about 18,
    100K hits to about 142, a million to 255."""
    rnd = random.Random(7)

    def after(hits: int) -> int:
        c = LFU_INIT_VAL
        for _ in range(hits):
            c = lfu_log_incr(c, 10, rnd.random())
        return c

    assert 15 <= after(1000) <= 22
    assert 132 <= after(100_000) <= 152
    assert after(1_000_000) == 255


@pytest.mark.parametrize("decay", [0, 1, 2, 10])
def test_lfu_decay(decay):
    rnd = random.Random(decay + 100)
    for _ in range(5000):
        lru = rnd.randrange(1 << 24)
        now = rnd.randrange(65536)
        assert lfu_decr_and_return(lru, now, decay) == C_LFUDecrAndReturn(lru, now, decay)
    # one period per decay-time minutes, floored at 0
    if decay:
        assert lfu_decr_and_return((100 << 8) | 20, 100 + 3 * decay, decay) == 17
        assert lfu_decr_and_return((100 << 8) | 2, 100 + 30 * decay, decay) == 0


def test_lfu_touch_and_initial():
    seq = iter([0.5, 0.05, 0.2])
    lfu = LFU(log_factor=10, decay_time=1, minutes=500, rand=lambda: next(seq))
    assert lfu.initial() == (500 << 8) | LFU_INIT_VAL
    v = lfu.touch(lfu.initial())  # counter 5: baseval 0, p 1 -> 6
    assert v == (500 << 8) | 6
    v = lfu.touch(v)  # counter 6: p = 1/11 ~ 0.09, r 0.05 -> 7
    assert v & 255 == 7
    v = lfu.touch(v)  # counter 7: p = 1/21, r 0.2 -> stays
    assert v & 255 == 7
    lfu.minutes = 503  # three minutes later: decays by 3 first, then (p 1: baseval 0) +1
    seq2 = iter([0.9])
    lfu.rand = lambda: next(seq2)
    assert lfu.touch(v) == (503 << 8) | 5


@pytest.mark.parametrize("tenacity", list(range(0, 101)))
def test_tenacity_time_limit(tenacity):
    limit = tenacity_limit_us(tenacity)
    assert (limit if tenacity == 100 else int(limit)) == C_evictionTimeLimitUs(tenacity)


class _FakeState:
    """Just enough of a ServerState for Evictor._populate."""

    def __init__(self, samples: int):
        from pyredis.config import Config
        from pyredis.core.state import ServerState

        self.st = ServerState(Config())
        self.st.config.values["maxmemory-samples"] = samples


def test_eviction_pool_matches_evictionPoolPopulate(monkeypatch):
    """Random batches of (idle, key) samples go into both pools; after every batch the two
    pools hold the same entries in the same order."""
    import pyredis.core.evict as evict

    st = _FakeState(5).st
    st.evictor.samples = 5
    ev: Evictor = st.evictor
    ev._policy("volatile-ttl")  # the pool score is then ULLONG_MAX - the key's expire time
    db = st.dbs[0]
    rnd = random.Random(11)
    ref: list = [None] * EVPOOL_SIZE
    for batch in range(300):
        keys = [b"k%d" % rnd.randrange(200) for _ in range(rnd.randrange(1, 9))]
        whens = {}
        for k in keys:
            whens[k] = rnd.choice([rnd.randrange(1000), 500])  # ties included
            db.expires[k] = whens[k]
        monkeypatch.setattr(evict, "sample_keys", lambda d, n, rand, keys=keys: keys)
        ev._populate(db, db.expires)
        C_evictionPoolPopulate(ref, [(evict.ULLONG_MAX - whens[k], k) for k in keys])
        ours = [(idle, key) for idle, (key, _) in zip(ev.pool_idle, ev.pool)]
        assert ours == [e for e in ref if e is not None], batch
        if rnd.random() < 0.3 and ev.pool:  # the best entry taken for eviction
            ev.pool.pop()
            ev.pool_idle.pop()
            last = max(i for i, e in enumerate(ref) if e is not None)
            ref[last] = None
