"""CSRF tokens: issued per form with SET NX EX, consumed exactly once with GETDEL.

    csrf:<session>:<token> -> "1"   TTL = how long a form stays valid

Run against the development service:  uv run python examples/csrf.py
"""

from __future__ import annotations

import os
import secrets

import redis

TOKEN_TTL = 15 * 60


def issue(r: redis.Redis, session_id: str, ttl: int = TOKEN_TTL) -> str:
    while True:
        token = secrets.token_urlsafe(24)
        # NX: never overwrite a live token (a collision just draws another one)
        if r.set(f"csrf:{session_id}:{token}", "1", nx=True, ex=ttl):
            return token


def consume(r: redis.Redis, session_id: str, token: str) -> bool:
    """True once for a valid, unexpired token; a replayed or expired token is refused."""
    return r.getdel(f"csrf:{session_id}:{token}") is not None


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6380"), decode_responses=True)
    token = issue(r, "sess-1")
    print("first submit:", consume(r, "sess-1", token))
    print("replay:", consume(r, "sess-1", token))


if __name__ == "__main__":
    main()
