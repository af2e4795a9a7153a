"""Registry test: every command pyredis declares (core/spec.py) must carry the metadata the
real redis-server 7.0.15 reports in COMMAND INFO: arity, flags, first/last/step key
positions, ACL categories, and subcommands. The reference is captured live from the
`real_redis` fixture, so declarations cannot drift from Redis.

A failure names the command: fix its @command declaration (in the module that owns it).
"""

from __future__ import annotations

import pytest

import pyredis.commands  # noqa: F401  (registers the command table)
from pyredis.core.spec import TABLE, all_specs
from resp import RawClient

SPECS = sorted(all_specs(), key=lambda s: s.fullname)


def _info_map(entries, out=None):
    out = {} if out is None else out
    for e in entries:
        if not e:
            continue
        name = e[0].decode()
        out[name] = e
        _info_map(e[9], out)
    return out


@pytest.fixture(scope="module")
def real_info(real_redis):
    c = RawClient("127.0.0.1", real_redis.port)
    try:
        return _info_map(c.call("COMMAND", "INFO"))
    finally:
        c.close()


@pytest.mark.parametrize("spec", SPECS, ids=[s.fullname for s in SPECS])
def test_declaration_matches_redis(spec, real_info):
    real = real_info.get(spec.fullname)
    assert real is not None, f"{spec.fullname!r} is not a command of redis-server 7.0.15"
    ours = {
        "arity": spec.arity,
        "flags": list(spec.flags),
        "keys": (spec.first_key, spec.last_key, spec.key_step),
        "acl": ["@" + c for c in spec.acl],
    }
    theirs = {
        "arity": real[1],
        "flags": [f.decode() for f in real[2]],
        "keys": (real[3], real[4], real[5]),
        "acl": [c.decode() for c in real[6]],
    }
    assert ours == theirs, f"{spec.fullname}: pyredis={ours} redis={theirs}"
    real_subs = {s[0].decode() for s in real[9]}
    our_subs = {s.fullname for s in spec.subcommands.values()}
    assert our_subs <= real_subs, f"{spec.fullname}: unknown subcommands {sorted(our_subs - real_subs)}"


@pytest.fixture
def raw(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    yield c
    c.close()


def test_command_count_and_list_follow_the_table(raw):
    assert raw.call("COMMAND", "COUNT") == len(TABLE)
    everything = raw.call("COMMAND")
    assert sorted(e[0].decode() for e in everything) == sorted(n.decode() for n in TABLE)
    assert raw.call("COMMAND", "INFO") == everything
    listed = {n.decode() for n in raw.call("COMMAND", "LIST")}
    assert listed == {s.fullname for s in all_specs()}


def test_command_info_of_server_commands_equals_redis(diff):
    # Full replies, key specs and tips included (they come from the captured reference).
    for name in ("config", "command", "info", "time", "lastsave", "slowlog", "latency", "memory",
                 "role", "replicaof", "slaveof", "shutdown", "debug"):
        diff.check("COMMAND", "INFO", name, unordered=True)
    diff.check("COMMAND", "INFO", "get", "set", "nosuchcommand")


def test_command_docs_equals_redis(diff):
    for name in ("get", "set", "config", "memory", "info", "command"):
        diff.check("COMMAND", "DOCS", name, unordered=True)
    diff.check("COMMAND", "DOCS", "nosuchcommand")
    diff.check("COMMAND", "DOCS", "config|get", unordered=True)


def test_command_docs_all_has_every_command(raw):
    docs = raw.call("COMMAND", "DOCS")
    names = {docs[i].decode() for i in range(0, len(docs), 2)}
    assert names == {s.fullname for s in TABLE.values()}


def _getkeys_argvs(spec) -> list[list[str]]:
    """A few argument vectors for COMMAND GETKEYS: plain names, and a numkeys-shaped one."""
    words = spec.fullname.split("|")
    n = abs(spec.arity) if spec.arity > 0 else max(abs(spec.arity), 2) + 3
    shapes = [["k1", "k2", "k3", "k4", "k5", "k6", "k7"], ["k1", "2", "k3", "k4", "k5", "k6", "k7"],
              ["2", "k2", "k3", "k4", "k5", "k6", "k7"]]
    out = []
    for shape in shapes:
        argv = words + shape[: n - len(words)]
        if spec.arity > 0 and len(argv) != spec.arity:
            continue
        out.append(argv)
    return out


KEYED = [s for s in SPECS if s.handler is not None and (s.getkeys is not None or s.first_key > 0)]


@pytest.mark.parametrize("spec", KEYED, ids=[s.fullname for s in KEYED])
def test_key_positions_match_redis(spec, pyredis_srv, real_redis):
    """COMMAND GETKEYS runs our declared key extraction; redis-server runs its own."""
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    try:
        for argv in _getkeys_argvs(spec):
            for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
                a, b = ours.call("COMMAND", sub, *argv), theirs.call("COMMAND", sub, *argv)
                assert a == b, f"COMMAND {sub} {' '.join(argv)}: pyredis={a!r} redis={b!r}"
    finally:
        ours.close()
        theirs.close()


def test_command_docs_and_info_of_every_complete_command_equal_redis(real_info, pyredis_srv, real_redis):
    """For every top-level command whose subcommands pyredis implements in full, COMMAND DOCS
    and the tips and key specs of COMMAND INFO answer exactly as redis-server."""
    names = [s.fullname for s in TABLE.values() if s.fullname in real_info
             and {x.fullname for x in s.subcommands.values()} == {x[0].decode() for x in real_info[s.fullname][9]}]
    assert len(names) > 50
    from resp import normalize

    for resp in (2, 3):
        ours, theirs = RawClient("127.0.0.1", pyredis_srv.port), RawClient("127.0.0.1", real_redis.port)
        try:
            if resp == 3:
                ours.call("HELLO", "3")
                theirs.call("HELLO", "3")
            a, b = ours.call("COMMAND", "DOCS", *names), theirs.call("COMMAND", "DOCS", *names)
            assert normalize(a) == normalize(b)
            # Tips and key specs (the declared metadata is test_declaration_matches_redis's job).
            a, b = ours.call("COMMAND", "INFO", *names), theirs.call("COMMAND", "INFO", *names)
            for x, y in zip(a, b):
                assert normalize(x[7:9]) == normalize(y[7:9]), x[0]
        finally:
            ours.close()
            theirs.close()
