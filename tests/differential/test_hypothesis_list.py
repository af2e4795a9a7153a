"""Property-based differential test: random sequences of list commands (and a few generic
ones that interact with them) give identical replies on pyredis and redis-server 7.0."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

# 7.0 and 7.4 only, for the suite's time: each mode is a full run of the examples, while the
# example-based suites of these types run in every mode (these sequences also passed against 7.2
# and Valkey 8.0 when this was chosen: `--compat-modes` does not override a marker, edit it to rerun).
pytestmark = pytest.mark.modes("7.0", "7.4")

KEYS = st.sampled_from(["a", "b", "c", "s"])
VALS = st.sampled_from(["x", "y", "z", "", "1", "-1", "x" * 70])
IDX = st.one_of(st.integers(-7, 7), st.sampled_from([100, -100, 9223372036854775807])).map(str)
SIDE = st.sampled_from(["LEFT", "RIGHT", "left", "Right", "MIDDLE"])
COUNT = st.one_of(st.integers(-1, 6), st.just(9223372036854775807)).map(str)


def _lpos():
    opt = st.one_of(
        st.tuples(st.just("RANK"), st.integers(-3, 3).map(str)),
        st.tuples(st.just("COUNT"), st.integers(-1, 3).map(str)),
        st.tuples(st.just("MAXLEN"), st.integers(-1, 5).map(str)),
    )
    return st.tuples(st.just("LPOS"), KEYS, VALS, st.lists(opt, max_size=3)).map(
        lambda t: [t[0], t[1], t[2], *[x for pair in t[3] for x in pair]])


def _mpop(blocking: bool):
    def build(t):
        keys, side, count = t
        cmd = ["BLMPOP", "0.001"] if blocking else ["LMPOP"]
        cmd += [str(len(keys)), *keys, side]
        if count is not None:
            cmd += ["COUNT", count]
        return cmd
    return st.tuples(st.lists(KEYS, min_size=1, max_size=3), SIDE, st.none() | COUNT).map(build)


COMMANDS = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), KEYS, st.lists(VALS, min_size=1, max_size=4)).map(
        lambda t: [t[0], t[1], *t[2]]),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), KEYS, st.none() | COUNT).map(
        lambda t: [t[0], t[1]] + ([] if t[2] is None else [t[2]])),
    st.tuples(st.just("LLEN"), KEYS).map(list),
    st.tuples(st.just("LRANGE"), KEYS, IDX, IDX).map(list),
    st.tuples(st.just("LINDEX"), KEYS, IDX).map(list),
    st.tuples(st.just("LSET"), KEYS, IDX, VALS).map(list),
    st.tuples(st.just("LINSERT"), KEYS, st.sampled_from(["BEFORE", "AFTER", "after"]), VALS, VALS).map(list),
    st.tuples(st.just("LREM"), KEYS, st.integers(-3, 3).map(str), VALS).map(list),
    st.tuples(st.just("LTRIM"), KEYS, IDX, IDX).map(list),
    _lpos(),
    st.tuples(st.just("LMOVE"), KEYS, KEYS, SIDE, SIDE).map(list),
    st.tuples(st.just("RPOPLPUSH"), KEYS, KEYS).map(list),
    _mpop(False),
    _mpop(True),
    st.tuples(st.sampled_from(["BLPOP", "BRPOP"]), st.lists(KEYS, min_size=1, max_size=3)).map(
        lambda t: [t[0], *t[1], "0.001"]),
    st.tuples(st.just("BLMOVE"), KEYS, KEYS, SIDE, SIDE).map(lambda t: [*t, "0.001"]),
    st.tuples(st.just("SET"), KEYS, VALS).map(list),
    st.tuples(st.just("DEL"), KEYS).map(list),
    st.tuples(st.just("TYPE"), KEYS).map(list),
    st.tuples(st.just("EXISTS"), KEYS).map(list),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(COMMANDS, min_size=1, max_size=25))
def test_list_command_sequences(diff, cmds):
    diff.check("FLUSHALL")
    for cmd in cmds:
        diff.check(*cmd)
    for k in ("a", "b", "c", "s"):
        diff.check("TYPE", k)
        if diff.check("TYPE", k) == b"list":
            diff.check("LRANGE", k, "0", "-1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(COMMANDS, min_size=1, max_size=10), st.booleans())
def test_list_sequences_inside_multi(diff, cmds, discard):
    diff.check("FLUSHALL")
    diff.check("MULTI")
    for cmd in cmds:
        diff.check(*cmd)
    diff.check("DISCARD" if discard else "EXEC")
    for k in ("a", "b", "c"):
        diff.check("LRANGE", k, "0", "-1")
