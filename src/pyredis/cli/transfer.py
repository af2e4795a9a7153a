"""`cli dev pull` / `cli dev push`: copy keys between the development service and another
Redis (redis-server, Valkey, a managed service, another pyredis) with SCAN + DUMP/RESTORE,
which every Redis accepts (managed services usually refuse SYNC).

    summary = copy_keys(src, dst, match="app:*", replace=False, progress=cb)

Keys keep their values (DUMP payloads: Redis's own serialization, so every type and
encoding travels as it is) and their remaining time to live. Without `replace` nothing is
written when any key already exists at the target: the copy is checked first and refused as
a whole, so a push never overwrites half of a production dataset. A payload the target
cannot read (a newer RDB version than it knows: pyredis in 7.4 mode pushing to Redis 7.0)
stops the copy with the target's error and the key it refused."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import redis

BATCH = 200


class TransferError(Exception):
    """The copy was refused or stopped; the message says why (and what was written)."""


@dataclass
class Summary:
    keys: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped: int = 0  # keys that vanished (expired, deleted) between SCAN and DUMP


def _batches(c: redis.Redis, match: str | None) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for key in c.scan_iter(match=match, count=1000):
        batch.append(key)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def existing_keys(src: redis.Redis, dst: redis.Redis, match: str | None) -> tuple[int, list[bytes]]:
    """(how many of src's keys exist at dst, the first few of them)."""
    count, examples = 0, []
    for batch in _batches(src, match):
        pipe = dst.pipeline(transaction=False)
        for key in batch:
            pipe.exists(key)
        for key, there in zip(batch, pipe.execute()):
            if there:
                count += 1
                if len(examples) < 5:
                    examples.append(key)
    return count, examples


def copy_keys(src: redis.Redis, dst: redis.Redis, match: str | None = None, replace: bool = False,
              progress: Callable[[int], None] | None = None) -> Summary:
    """Copy src's keys (matching `match`) to dst. Clients must not decode responses."""
    t0 = time.monotonic()
    if not replace:
        count, examples = existing_keys(src, dst, match)
        if count:
            shown = ", ".join(k.decode("utf-8", "replace") for k in examples)
            raise TransferError(f"{count} of the keys already exist at the target ({shown}{', ...' if count > 5 else ''}); "
                                "nothing was copied. Use --replace to overwrite them.")
    out = Summary()
    for batch in _batches(src, match):
        pipe = src.pipeline(transaction=False)
        for key in batch:
            pipe.pttl(key)
            pipe.dump(key)
        replies = pipe.execute()
        wpipe = dst.pipeline(transaction=False)
        sent: list[bytes] = []
        for i, key in enumerate(batch):
            ttl, payload = replies[2 * i], replies[2 * i + 1]
            if payload is None or ttl == -2:
                out.skipped += 1
                continue
            args = ["RESTORE", key, max(ttl, 0), payload]
            if replace:
                args.append("REPLACE")
            wpipe.execute_command(*args)
            sent.append(key)
            out.bytes += len(payload)
        for key, res in zip(sent, wpipe.execute(raise_on_error=False)):
            if isinstance(res, Exception):
                raise TransferError(f"the target refused {key.decode('utf-8', 'replace')!r}: {res} "
                                    f"({out.keys} keys were copied before it)")
            out.keys += 1
        if progress is not None:
            progress(len(batch))
    out.seconds = time.monotonic() - t0
    return out


def client_for(url: str, db: int | None, timeout: float = 10.0) -> redis.Redis:
    """A client for a redis://, rediss:// or unix:// URL (its database, or `db`)."""
    kw = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if db is not None:
        kw["db"] = db
    return redis.Redis.from_url(url, **kw)


def with_db(c: redis.Redis, db: int | None) -> redis.Redis:
    """The same server as client c (bytes replies), database `db` (c's own when None)."""
    kw = dict(c.connection_pool.connection_kwargs)
    kw["decode_responses"] = False
    if db is not None:
        kw["db"] = db
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=c.connection_pool.connection_class, **kw))
