"""A hypothesis state machine sending the same random sequences of hash and hash-field
expiration commands to pyredis and redis-server 7.4.1, every reply compared.

Three keys, a few fields (one longer than hash-max-listpack-value, lowered to 8 with
hash-max-listpack-entries lowered to 4, so sequences cross listpack -> listpackex ->
hashtable often), and deadlines of four kinds:

* far absolute ones (HPEXPIREAT/HEXPIREAT around 2100), some equal, so the listpackex order
  with its ties is compared exactly;
* relative ones (HEXPIRE/HPEXPIRE), each 10 s away from any other: the two servers compute
  them a few ms apart, so HPEXPIRETIME and friends are compared within 2 s for them, while
  every order stays the same on both;
* 0 and absolute times in the past: the field is deleted at once;
* 1 ms (HPEXPIRE 1), followed by a 5 ms sleep: the field is expired, and stays until a
  command meets it - active expiry is off, except in the rule that switches it on and waits
  until both servers have reclaimed every due field.

The hidden state is compared too: after every step, each key's type, OBJECT ENCODING, HLEN
(expired fields included), DEBUG DIGEST-VALUE (which fields have a deadline, expired ones
included), HGETALL (in order while a listpack(ex)) and HPEXPIRETIME of every field - commands
that change nothing, so a command's own lazy expiry still shows in its reply.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from resp import RawClient, normalize

KEYS = ["k1", "k2", "k3"]
FIELDS = ["a", "b", "c", "d", "e", "12", "f" * 10]
VALUES = ["1", "-7", "x", "", "2.5", "v" * 10]
FAR = 4_102_444_800_000
LIMITS = {"hash-max-listpack-entries": "4", "hash-max-listpack-value": "8"}
SMALL = (b"listpack", b"listpackex")

key = st.sampled_from(KEYS)
field = st.sampled_from(FIELDS)
fields = st.lists(field, min_size=1, max_size=4)
value = st.sampled_from(VALUES)
cond = st.sampled_from([[], ["NX"], ["XX"], ["GT"], ["LT"]])
absolute_ms = st.sampled_from([FAR, FAR, FAR + 1, FAR + 1000, FAR - 5000, FAR + 10_000_000, 1, 0])


class HashFieldExpiry(RuleBasedStateMachine):
    ours_port = theirs_port = 0

    def __init__(self) -> None:
        super().__init__()
        self.ours = RawClient("127.0.0.1", self.ours_port)
        self.theirs = RawClient("127.0.0.1", self.theirs_port)
        self.step = 0
        self.relative: set[tuple[str, str]] = set()  # (key, field) with a relative deadline

    @initialize()
    def setup(self) -> None:
        for c in (self.ours, self.theirs):
            c.call("FLUSHALL")
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
            for name, v in LIMITS.items():
                c.call("CONFIG", "SET", name, v)

    def teardown(self) -> None:
        try:
            for k in KEYS:
                self._final(k)
        finally:
            for c in (self.ours, self.theirs):
                c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
                c.call("CONFIG", "SET", "hash-max-listpack-entries", "128")
                c.call("CONFIG", "SET", "hash-max-listpack-value", "64")
                c.close()

    # --- comparing ------------------------------------------------------------------------
    def both(self, *args):
        args = [str(a) for a in args]
        return self.ours.call(*args), self.theirs.call(*args)

    def check(self, *args):
        a, b = self.both(*args)
        assert a == b and type(a) is type(b), (args, a, b)
        return a

    def check_unordered(self, *args):
        a, b = self.both(*args)
        assert type(a) is type(b) and normalize(a) == normalize(b), (args, a, b)

    def check_listing(self, *args):
        """HGETALL/HKEYS/HVALS: Redis's order while the hash is a listpack(ex)."""
        if self.theirs.call("OBJECT", "ENCODING", args[1]) in SMALL:
            self.check(*args)
        else:
            self.check_unordered(*args)

    def check_times(self, name, k, fs):
        """HTTL & co: exact for absolute deadlines, within 2 s (2 in seconds) for relative ones."""
        a, b = self.both(name, k, "FIELDS", len(fs), *fs)
        if not isinstance(b, list):
            assert a == b, (name, k, fs, a, b)
            return
        assert isinstance(a, list) and len(a) == len(b), (name, k, fs, a, b)
        for f, x, y in zip(fs, a, b):
            if (k, f) in self.relative and min(x, y) >= 0 and name in ("HPTTL", "HPEXPIRETIME"):
                assert abs(x - y) <= 2000, (name, k, f, x, y)
            elif (k, f) in self.relative and min(x, y) >= 0:
                assert abs(x - y) <= 2, (name, k, f, x, y)
            elif name in ("HTTL", "HPTTL") and min(x, y) >= 0:
                assert abs(x - y) <= (2000 if name == "HPTTL" else 2), (name, k, f, x, y)
            else:
                assert x == y, (name, k, f, a, b)

    def _final(self, k) -> None:
        self.check("TYPE", k)
        self.check("OBJECT", "ENCODING", k)
        self.check("HLEN", k)
        self.check("DEBUG", "DIGEST-VALUE", k)
        if self.theirs.call("TYPE", k) == b"hash":
            self.check_listing("HGETALL", k)
            self.check_times("HPEXPIRETIME", k, FIELDS)

    # --- the rules ------------------------------------------------------------------------
    @rule(k=key, pairs=st.lists(st.tuples(field, value), min_size=1, max_size=3), cmd=st.sampled_from(["HSET", "HMSET"]))
    def hset(self, k, pairs, cmd):
        self.check(cmd, k, *[x for p in pairs for x in p])
        self.relative -= {(k, f) for f, _ in pairs}

    @rule(k=key, f=field, v=value)
    def hsetnx(self, k, f, v):
        self.check("HSETNX", k, f, v)

    @rule(k=key, fs=fields)
    def hdel(self, k, fs):
        self.check("HDEL", k, *fs)

    @rule(k=key, f=field, n=st.sampled_from(["1", "-3", "x"]))
    def hincrby(self, k, f, n):
        self.check("HINCRBY", k, f, n)

    @rule(k=key, f=field, n=st.sampled_from(["1.5", "-2", "x"]))
    def hincrbyfloat(self, k, f, n):
        self.check("HINCRBYFLOAT", k, f, n)

    @rule(k=key, f=field, cmd=st.sampled_from(["HGET", "HEXISTS", "HSTRLEN"]))
    def read_one(self, k, f, cmd):
        self.check(cmd, k, f)

    @rule(k=key, fs=fields)
    def hmget(self, k, fs):
        self.check("HMGET", k, *fs)

    @rule(k=key, cmd=st.sampled_from(["HGETALL", "HKEYS", "HVALS"]))
    def listing(self, k, cmd):
        self.check_listing(cmd, k)

    @rule(k=key, cmd=st.sampled_from(["HLEN", "TYPE", "EXISTS"]))
    def scalar(self, k, cmd):
        self.check(cmd, k)

    @rule(k=key)
    def hidden_state(self, k):
        self.check("OBJECT", "ENCODING", k)
        self.check("DEBUG", "DIGEST-VALUE", k)

    @rule(k=key, count=st.sampled_from([None, "0", "1", "3", "10", "-2"]), withvalues=st.booleans())
    def hrandfield(self, k, count, withvalues):
        args = ["HRANDFIELD", k] + ([] if count is None else [count] + (["WITHVALUES"] if withvalues else []))
        a, b = self.both(*args)
        if count is not None and count in ("10",) and isinstance(b, list):
            assert normalize(a) == normalize(b), (args, a, b)  # the whole hash
        else:
            assert type(a) is type(b) and (not isinstance(b, list) or len(a) == len(b)), (args, a, b)

    @rule(k=key, match=st.sampled_from([[], ["MATCH", "*"], ["MATCH", "[a-c]"]]))
    def hscan(self, k, match):
        if self.theirs.call("OBJECT", "ENCODING", k) in SMALL or self.theirs.call("TYPE", k) != b"hash":
            self.check("HSCAN", k, "0", *match)
            return
        seen = []
        for c in (self.ours, self.theirs):
            cursor, items = b"0", []
            for _ in range(100):
                cursor, batch = c.call("HSCAN", k, cursor, *match)
                items += list(zip(batch[::2], batch[1::2]))
                if cursor == b"0":
                    break
            seen.append(sorted(items))
        assert seen[0] == seen[1], (k, match, seen)

    @rule(k=key, when=absolute_ms, c=cond, fs=fields, seconds=st.booleans())
    def expire_at(self, k, when, c, fs, seconds):
        if seconds:
            reply = self.check("HEXPIREAT", k, when // 1000, *c, "FIELDS", len(fs), *fs)
        else:
            reply = self.check("HPEXPIREAT", k, when, *c, "FIELDS", len(fs), *fs)
        self._forget(k, fs, reply)

    @rule(k=key, c=cond, fs=fields, seconds=st.booleans())
    def expire_relative(self, k, c, fs, seconds):
        """A relative deadline at least 10 s away from every other one."""
        self.step += 1
        ms = 1_000_000 + 10_000 * self.step
        if seconds:
            reply = self.check("HEXPIRE", k, ms // 1000, *c, "FIELDS", len(fs), *fs)
        else:
            reply = self.check("HPEXPIRE", k, ms, *c, "FIELDS", len(fs), *fs)
        if isinstance(reply, list):
            self.relative |= {(k, f) for f, r in zip(fs, reply) if r == 1}

    @rule(k=key, fs=fields, seconds=st.booleans())
    def expire_zero(self, k, fs, seconds):
        self.check("HEXPIRE" if seconds else "HPEXPIRE", k, "0", "FIELDS", len(fs), *fs)

    @rule(k=key, fs=fields, c=cond)
    def expire_soon(self, k, fs, c):
        """1 ms: past its deadline before the next command."""
        reply = self.check("HPEXPIRE", k, "1", *c, "FIELDS", len(fs), *fs)
        time.sleep(0.005)
        self._forget(k, fs, reply)

    @rule(k=key, fs=fields)
    def hpersist(self, k, fs):
        self.check("HPERSIST", k, "FIELDS", len(fs), *fs)

    @rule(k=key, fs=fields, name=st.sampled_from(["HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME"]))
    def ttls(self, k, fs, name):
        self.check_times(name, k, fs)

    @rule(src=key, dst=key, cmd=st.sampled_from(["RENAME", "COPY"]))
    def move_key(self, src, dst, cmd):
        self.check(cmd, src, dst)
        if cmd == "RENAME" and src != dst and self.theirs.call("EXISTS", dst):
            self.relative = {(dst if k == src else k, f) for k, f in self.relative if k != dst}
        elif cmd == "COPY":
            pass  # COPY without REPLACE does not overwrite: relative marks of dst stay right

    @rule(k=key, cmd=st.sampled_from([("SET", "str"), ("DEL",)]))
    def overwrite(self, k, cmd):
        self.check(cmd[0], k, *cmd[1:])
        self.relative = {(x, f) for x, f in self.relative if x != k}

    @rule()
    def active_expiry(self):
        """Active expiry on until both servers hold no field past its deadline, then off."""
        for c in (self.ours, self.theirs):
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        try:
            for c in (self.ours, self.theirs):
                deadline = time.time() + 5
                while time.time() < deadline and any(self._has_expired(c, k) for k in KEYS):
                    time.sleep(0.02)
        finally:
            for c in (self.ours, self.theirs):
                c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        for k in KEYS:
            self.check("HLEN", k)
            self.check("DEBUG", "DIGEST-VALUE", k)

    @staticmethod
    def _has_expired(c, k) -> bool:
        if c.call("TYPE", k) != b"hash":
            return False
        return c.call("HLEN", k) != len(c.call("HKEYS", k))

    def _forget(self, k, fs, reply):
        """Fields given another deadline (or deleted) no longer have a relative one."""
        if isinstance(reply, list):
            self.relative -= {(k, f) for f, r in zip(fs, reply) if r in (1, 2)}

    @invariant()
    def same_state(self):
        """After every step, everything observable without changing it: the keys, and for
        each its type, encoding, length (expired fields included), digest (deadlines
        included), fields and values (in order while a listpack(ex)), deadlines."""
        a, b = self.both("KEYS", "*")
        assert sorted(a) == sorted(b), (a, b)
        for k in KEYS:
            self._final(k)


@pytest.mark.modes("7.4")
def test_hash_field_expiry_state_machine(pyredis_srv, real_redis):
    class Machine(HashFieldExpiry):
        ours_port = pyredis_srv.port
        theirs_port = real_redis.port

    examples = int(os.environ.get("PYREDIS_HYPOTHESIS_EXAMPLES", "300")) // 2
    run_state_machine_as_test(Machine, settings=settings(
        max_examples=examples, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
