"""Rate limiting three ways.

1. Fixed window: INCR a per-window counter, EXPIRE it with the window (NX: set once).
2. Sliding window: a sorted set of request times, trimmed and counted atomically in a Lua
   script (EVAL) that reads the server clock (TIME), so every app server agrees on "now".
3. The `limits` library's Redis storage (what Flask-Limiter / SlowAPI use).

Run against the development service:  uv run python examples/rate_limit.py
"""

from __future__ import annotations

import os
import uuid

import redis


def fixed_window(r: redis.Redis, who: str, limit: int, window: int) -> bool:
    """True if this request is allowed: at most `limit` per `window` seconds."""
    key = f"rl:fixed:{who}"
    with r.pipeline() as p:
        p.incr(key)
        p.expire(key, window, nx=True)  # only the first request of a window starts its clock
        count, _ = p.execute()
    return count <= limit


SLIDING_WINDOW = """
local key, window_ms, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_ms)
local used = redis.call('ZCARD', key)
if used >= limit then
  return {0, used}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window_ms)
return {1, used + 1}
"""


def sliding_window(r: redis.Redis, who: str, limit: int, window: float) -> bool:
    """True if fewer than `limit` requests were allowed in the last `window` seconds."""
    allowed, _used = r.eval(SLIDING_WINDOW, 1, f"rl:sliding:{who}", int(window * 1000), limit, uuid.uuid4().hex)
    return bool(allowed)


def limits_limiter(url: str, rate: str = "5/minute"):
    """A `limits` fixed-window limiter on Redis storage: limiter.hit(item, "user-1") -> bool."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    return FixedWindowRateLimiter(storage_from_string(url)), parse(rate)


def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://localhost:6380")
    r = redis.Redis.from_url(url, decode_responses=True)
    print("fixed  :", [fixed_window(r, "demo", 3, 60) for _ in range(5)])
    print("sliding:", [sliding_window(r, "demo", 3, 60) for _ in range(5)])
    limiter, item = limits_limiter(url, "3/minute")
    print("limits :", [limiter.hit(item, "demo") for _ in range(5)])


if __name__ == "__main__":
    main()
