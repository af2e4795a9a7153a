"""DEBUG HTSTATS / HTSTATS-KEY / LISTPACK / QUICKLIST / STRUCTSIZE / CLIENT-EVICTION in every
mode against its server: the same texts, errors and table sizes. The chains of a hash table depend
on each server's random hash seed, so those lines are compared by shape (and checked for
consistency: slots, chains and the distribution add up)."""

from __future__ import annotations

import re

import pytest

from oracles import ALL_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)


def _shape(text: bytes) -> str:
    """The report with the seed-dependent figures (after 'number of elements') masked."""
    out = []
    masking = False
    for line in bytes(text).decode().split("\n"):
        if line.startswith("Hash table") or line.startswith("["):
            masking = False
        if masking and line.startswith("   "):
            continue  # the distribution's lines: as many as there are distinct chain lengths
        out.append(re.sub(r"\d+(\.\d+)?", "<n>", line) if masking else line)
        if line.startswith(" number of elements"):
            masking = True
    return "\n".join(out)


def _consistent(text: bytes) -> None:
    """slots + empty slots = table size; the chains hold every element."""
    for part in bytes(text).decode().split("Hash table")[1:]:
        if "No stats" in part or "different slots" not in part:  # (7.2+: the chains with `full` only)
            continue
        size = int(re.search(r"table size: (\d+)", part).group(1))
        n = int(re.search(r"number of elements: (\d+)", part).group(1))
        slots = int(re.search(r"different slots: (\d+)", part).group(1))
        dist = {int(a): int(b) for a, b in re.findall(r"^   (\d+): (\d+) ", part, re.M)}
        assert dist.get(0, 0) + slots == size
        assert sum(k * v for k, v in dist.items()) == n


def test_htstats(diff):
    diff.check("DEBUG", "HTSTATS", "0")
    diff.check("DEBUG", "POPULATE", "1000")
    diff.check("SET", "v", "x", "EX", "100")
    for db in ("0", "1"):
        ours, theirs = diff.both("DEBUG", "HTSTATS", db)
        assert _shape(ours) == _shape(theirs)
        _consistent(ours)
    for bad in ("99", "-1", "x"):
        diff.check("DEBUG", "HTSTATS", bad)
    diff.check("DEBUG", "HTSTATS")


@pytest.mark.parametrize("setup", [
    ("SADD", "k", "a", "b", "c"),
    ("SADD", "k", *[str(i) for i in range(600)]),
    ("SADD", "k", "1", "2"),
    ("HSET", "k", "f", "v"),
    ("HSET", "k", *[x for i in range(200) for x in (f"f{i}", "v")]),
    ("ZADD", "k", "1", "a"),
    ("ZADD", "k", *[x for i in range(200) for x in (str(i), f"m{i}")]),
    ("RPUSH", "k", "a", "b"),
    ("SET", "k", "v"),
])
def test_structure_reports_per_encoding(diff, setup):
    diff.check(*setup)
    for full in ((), ("full",)):  # (7.0: no argument after the key)
        ours, theirs = diff.both("DEBUG", "HTSTATS-KEY", "k", *full)
        assert type(ours) is type(theirs)
        if isinstance(theirs, bytes):
            assert _shape(ours) == _shape(theirs)
            _consistent(ours)
        else:
            assert ours == theirs
    diff.check("DEBUG", "LISTPACK", "k")
    diff.check("DEBUG", "QUICKLIST", "k")
    diff.check("DEBUG", "QUICKLIST", "k", "1")
    diff.check("DEBUG", "HTSTATS-KEY", "nokey")
    diff.check("DEBUG", "LISTPACK", "nokey")


def test_structsize_and_client_eviction(diff):
    diff.check("DEBUG", "STRUCTSIZE")
    diff.check("DEBUG", "CLIENT-EVICTION")
    with diff.config("maxmemory-clients", "10mb"):
        ours, theirs = diff.both("DEBUG", "CLIENT-EVICTION")
        shape = [re.sub(r"tot-mem: +\d+, clients: \d+", "", line) for line in bytes(ours).decode().split("\n")]
        assert shape == [re.sub(r"tot-mem: +\d+, clients: \d+", "", line) for line in bytes(theirs).decode().split("\n")]
        total = sum(int(x) for x in re.findall(r"clients: (\d+)", bytes(ours).decode()))
        assert total >= 1  # this connection at least


def _same_report(diff, *cmd):
    """The same report: exactly where it has no chains (7.2+ without `full`), else by shape."""
    ours, theirs = diff.both(*cmd)
    assert type(ours) is type(theirs), (cmd, ours, theirs)
    if isinstance(theirs, bytes) and b"different slots" in bytes(theirs):
        assert _shape(ours) == _shape(theirs), (cmd, ours, theirs)
        _consistent(ours)
    else:
        assert ours == theirs, (cmd, ours, theirs)


def test_htstats_by_mode(diff):
    """7.2 prints the chains only with `full` (and takes any arguments after it); 7.4 and Valkey
    8.0 print nothing for a database's table never made (made on demand, new after FLUSHALL
    ASYNC - and in 7.4 after any FLUSHALL/FLUSHDB a client may block for)."""
    c = lambda *cmd: _same_report(diff, *cmd)  # noqa: E731
    c("DEBUG", "HTSTATS", "0")
    with diff.config("hash-max-listpack-entries", "0"):
        diff.check("HSET", "h", "a", "1", "b", "2", "c", "3")
        diff.check("SET", "k", "v", "EX", "100")
        for args in ((), ("full",), ("FULL",), ("nofull", "x"), ("full", "x")):
            c("DEBUG", "HTSTATS", "0", *args)
            c("DEBUG", "HTSTATS-KEY", "h", *args)
            c("DEBUG", "HTSTATS-KEY", "k", *args)
            c("DEBUG", "HTSTATS-KEY", "nokey", *args)
        c("DEBUG", "HTSTATS", "-1", "full")
        diff.check("PERSIST", "k")
        c("DEBUG", "HTSTATS", "0")
        diff.check("DEL", "k")
        c("DEBUG", "HTSTATS", "0")
        for flush in (("FLUSHALL",), ("FLUSHALL", "SYNC"), ("FLUSHDB", "SYNC"), ("FLUSHALL", "ASYNC")):
            diff.check("SET", "k", "v")
            diff.check(*flush)
            c("DEBUG", "HTSTATS", "0")
        diff.check("SET", "k", "v")
        diff.check("MULTI")
        diff.check("FLUSHALL")
        diff.check("EXEC")
        c("DEBUG", "HTSTATS", "0")
        diff.check("SET", "k", "v", "EX", "100")
        diff.check("EVAL", "redis.call('flushdb')", "0")
        c("DEBUG", "HTSTATS", "0")
        diff.check("SELECT", "3")
        diff.check("SET", "x", "1", "EX", "100")
        diff.check("SWAPDB", "3", "4")
        c("DEBUG", "HTSTATS", "3")
        c("DEBUG", "HTSTATS", "4")
        diff.check("FLUSHALL")
    if diff.mode in ("7.0", "7.2"):
        diff.check("DEBUG", "HELP")
    else:  # (7.4's and Valkey's own subcommands and lines are not modelled: their HTSTATS lines are)
        ours, theirs = diff.both("DEBUG", "HELP")
        pick = lambda lines: [x for x in lines if b"HTSTATS" in x or b"this help" in x]  # noqa: E731
        assert pick(ours) == pick(theirs)
