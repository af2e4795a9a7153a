"""Session token storage: one hash per session, with a sliding expiry.

    session:<token>  ->  hash {user_id, created, ...}   TTL = idle timeout, renewed on each use

Run against the development service:  uv run python examples/sessions.py
"""

from __future__ import annotations

import os
import secrets
import time

import redis

IDLE_TIMEOUT = 30 * 60  # seconds without a request before the session is gone


class SessionStore:
    def __init__(self, r: redis.Redis, idle_timeout: int = IDLE_TIMEOUT, prefix: str = "session:") -> None:
        self.r = r
        self.idle_timeout = idle_timeout
        self.prefix = prefix

    def create(self, user_id: str, **data: str) -> str:
        token = secrets.token_urlsafe(32)
        key = self.prefix + token
        with self.r.pipeline() as p:  # MULTI/EXEC: the hash never exists without its TTL
            p.hset(key, mapping={"user_id": user_id, "created": str(int(time.time())), **data})
            p.expire(key, self.idle_timeout)
            p.execute()
        return token

    def get(self, token: str) -> dict | None:
        """The session's fields, renewing its idle timeout (sliding expiry)."""
        key = self.prefix + token
        with self.r.pipeline() as p:
            p.hgetall(key)
            p.expire(key, self.idle_timeout)
            data, _ = p.execute()
        return data or None

    def destroy(self, token: str) -> bool:
        return self.r.delete(self.prefix + token) == 1


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6380"), decode_responses=True)
    store = SessionStore(r)
    token = store.create("user-42", role="admin")
    print("session", token[:8] + "...", store.get(token), "ttl", r.ttl("session:" + token))
    store.destroy(token)
    print("after logout:", store.get(token))


if __name__ == "__main__":
    main()
