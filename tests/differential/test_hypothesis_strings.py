"""Random sequences of string commands against pyredis and redis-server, every reply compared.

Small alphabets (a few keys, values that are integers, floats, near-limits or junk) make the
commands collide: INCR on a float, APPEND to a counter, GETEX on a key SET moments ago...
TTLs are either long (never reached during an example) or absolute times in the past, so the
outcome does not depend on timing; TTL/PTTL replies are compared with a small tolerance.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyredis.core.spec import TABLE
import pytest

# 7.0 and 7.4 only, for the suite's time: each mode is a full run of the examples, while the
# example-based suites of these types run in every mode (these sequences also passed against 7.2
# and Valkey 8.0 when this was chosen: `--compat-modes` does not override a marker, edit it to rerun).
pytestmark = pytest.mark.modes("7.0", "7.4")

KEYS = ["a", "b", "c"]
VALUES = ["", "0", "1", "-1", "10", "42", "abc", "1.5", "-0.25", "1e3", " 1", "+5", "01",
          "9223372036854775807", "-9223372036854775808", "9223372036854775806", "inf", "0x10"]
INTS = ["0", "1", "-1", "2", "100", "-100", "9223372036854775807", "-9223372036854775808", "x", "1.5"]
FLOATS = ["0", "1", "-1", "0.1", "10.5", "-3.25", "1e3", "3.0e3", "1e-3", "1e400", "-1e400", "inf",
          "abc", "", "0x1p3", "5.", ".5"]

key = st.sampled_from(KEYS)
value = st.one_of(st.sampled_from(VALUES), st.text(alphabet="ab01-.", max_size=6))
int_arg = st.one_of(st.sampled_from(INTS), st.integers(-1000, 1000).map(str))
float_arg = st.one_of(st.sampled_from(FLOATS),
                      st.floats(-1e6, 1e6, allow_nan=False).map(repr),
                      st.decimals(-1000, 1000, places=3, allow_nan=False).map(str))
small_index = st.integers(-8, 8).map(str)
offset = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["-1", "x"]))


def _expire_opts():
    far = int(time.time()) + 100000
    return st.sampled_from([
        [], ["EX", "1000"], ["PX", "1000000"], ["EXAT", str(far)], ["PXAT", str(far * 1000)],
        ["EXAT", "1"], ["PXAT", "1"], ["EX", "0"], ["PX", "-5"], ["EX", "x"], ["KEEPTTL"],
    ])


set_opts = st.tuples(
    _expire_opts(),
    st.sampled_from([[], ["NX"], ["XX"], ["NX", "XX"]]),
    st.sampled_from([[], ["GET"]]),
).flatmap(lambda t: st.permutations([x for x in t if x]).map(lambda p: [tok for part in p for tok in part]))

getex_opts = st.sampled_from([
    [], ["PERSIST"], ["EX", "1000"], ["PX", "1000000"], ["EXAT", "1"], ["PXAT", "1"],
    ["EX", "0"], ["KEEPTTL"], ["PERSIST", "EX", "5"],
])

lcs_opts = st.sampled_from([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"],
                            ["LEN", "IDX"]])

commands = st.one_of(
    st.tuples(st.just("GET"), key),
    st.tuples(st.just("SET"), key, value).flatmap(lambda t: set_opts.map(lambda o: (*t, *o))),
    st.tuples(st.just("SETNX"), key, value),
    st.tuples(st.sampled_from(["SETEX", "PSETEX"]), key, st.sampled_from(["1000000", "0", "-1", "x"]), value),
    st.tuples(st.just("MGET"), key, key, key),
    st.tuples(st.just("MSET"), key, value, key, value),
    st.tuples(st.just("MSETNX"), key, value, key, value),
    st.tuples(st.just("GETSET"), key, value),
    st.tuples(st.just("GETDEL"), key),
    st.tuples(st.just("GETEX"), key).flatmap(lambda t: getex_opts.map(lambda o: (*t, *o))),
    st.tuples(st.just("APPEND"), key, value),
    st.tuples(st.just("STRLEN"), key),
    st.tuples(st.sampled_from(["INCR", "DECR"]), key),
    st.tuples(st.sampled_from(["INCRBY", "DECRBY"]), key, int_arg),
    st.tuples(st.just("INCRBYFLOAT"), key, float_arg),
    st.tuples(st.sampled_from(["GETRANGE", "SUBSTR"]), key, small_index, small_index),
    st.tuples(st.just("SETRANGE"), key, offset, value),
    st.tuples(st.just("LCS"), key, key).flatmap(lambda t: lcs_opts.map(lambda o: (*t, *o))),
    st.tuples(st.sampled_from(["TTL", "PTTL", "EXISTS", "TYPE"]), key),
    st.tuples(st.just("WRONGTYPE"), key),
)


def _compare(cmd, a, b) -> None:
    if cmd[0] in ("TTL", "PTTL") and type(a) is int and type(b) is int and a >= 0 and b >= 0:
        assert abs(a - b) <= (1 if cmd[0] == "TTL" else 100), f"{cmd!r}: pyredis={a!r} redis={b!r}"
        return
    assert a == b and type(a) is type(b), f"{cmd!r}: pyredis={a!r} redis={b!r}"


def _maker():
    for name, args in (("sadd", ("x",)), ("hset", ("f", "v")), ("rpush", ("x",)), ("zadd", ("1", "x"))):
        if name.encode() in TABLE:
            return (name.upper(), *args)
    return None


# PYREDIS_HYPOTHESIS_EXAMPLES raises the count for a longer local hunt.
@settings(max_examples=int(os.environ.get("PYREDIS_HYPOTHESIS_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.lists(commands, min_size=1, max_size=25))
def test_random_string_sequences(diff, seq):
    available = {k.decode() for k in TABLE}
    maker = _maker()
    for c in (diff.ours, diff.theirs):
        c.call("FLUSHALL")
    for cmd in seq:
        if cmd[0] == "WRONGTYPE":  # turn the key into a non-string (if pyredis has a collection)
            if maker is None:
                continue
            diff.both("DEL", cmd[1])
            cmd = (maker[0], cmd[1], *maker[1:])
        if cmd[0].lower() not in available:
            continue
        a, b = diff.both(*cmd)
        _compare(cmd, a, b)
