"""Caching OIDC discovery metadata (/.well-known/openid-configuration) with a TTL, and
stampede protection: when the entry expires, one process refetches while the others wait
on a redis-py Lock and then read the fresh copy.

Run against the development service:  uv run python examples/oidc_cache.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import redis

CACHE_TTL = 3600


def discovery(r: redis.Redis, issuer: str, fetch: Callable[[str], dict], ttl: int = CACHE_TTL,
              lock_timeout: float = 10, wait: float = 15) -> dict:
    key = f"oidc:discovery:{issuer}"
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    # Lock: SET NX PX with a token, released by a Lua compare-and-delete.
    with r.lock(f"lock:{key}", timeout=lock_timeout, blocking_timeout=wait):
        cached = r.get(key)  # someone else may have refreshed it while we waited
        if cached is not None:
            return json.loads(cached)
        doc = fetch(issuer.rstrip("/") + "/.well-known/openid-configuration")
        r.set(key, json.dumps(doc), ex=ttl)
        return doc


def _fake_fetch(url: str) -> dict:
    issuer = url.split("/.well-known")[0]
    return {"issuer": issuer, "jwks_uri": issuer + "/jwks", "token_endpoint": issuer + "/token"}


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6380"), decode_responses=True)
    print(discovery(r, "https://login.example.com", _fake_fetch))
    print("ttl:", r.ttl("oidc:discovery:https://login.example.com"))


if __name__ == "__main__":
    main()
