"""A small reliable job queue: producers LPUSH, workers BLMOVE each job into their own
processing list (so a crashed worker's job is not lost), then LREM it when done.

    jobs              pending jobs (JSON)
    jobs:processing:<worker>   taken, not yet acknowledged

Run against the development service:  uv run python examples/job_queue.py
"""

from __future__ import annotations

import json
import os
import uuid

import redis

QUEUE = "jobs"


def enqueue(r: redis.Redis, kind: str, **payload) -> str:
    job_id = uuid.uuid4().hex
    r.lpush(QUEUE, json.dumps({"id": job_id, "kind": kind, "payload": payload}))
    return job_id


def take(r: redis.Redis, worker: str, timeout: float = 5) -> dict | None:
    """Block up to `timeout` seconds for a job; it moves atomically to the worker's list."""
    raw = r.blmove(QUEUE, f"{QUEUE}:processing:{worker}", timeout, "RIGHT", "LEFT")
    return None if raw is None else json.loads(raw)


def ack(r: redis.Redis, worker: str, job: dict) -> None:
    r.lrem(f"{QUEUE}:processing:{worker}", 1, json.dumps(job))


def requeue_abandoned(r: redis.Redis, worker: str) -> int:
    """Put back what a dead worker had taken (run at that worker's restart)."""
    n = 0
    while r.lmove(f"{QUEUE}:processing:{worker}", QUEUE, "RIGHT", "RIGHT") is not None:
        n += 1
    return n


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6380"), decode_responses=True)
    enqueue(r, "email", to="ada@example.com")
    job = take(r, "worker-1", timeout=1)
    print("took", job)
    ack(r, "worker-1", job)
    print("empty queue ->", take(r, "worker-1", timeout=0.2))


if __name__ == "__main__":
    main()
