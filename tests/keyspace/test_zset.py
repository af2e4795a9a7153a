"""The ZSet structure on its own: the ordered index stays consistent with the dict under
random operations (checked against a naive model), range bounds, lex ranges, number parsing
with C's strtod rules, encodings and copies."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from pyredis.keyspace.types import copy_value, encoding, type_name
from pyredis.keyspace.zset import (
    ZSet,
    fresh_encoding,
    make_zset,
    parse_lex_range,
    parse_range_float,
    parse_score,
    parse_score_range,
    strtod_c,
)

CFG = {"zset-max-listpack-entries": 128, "zset-max-listpack-value": 64}

members = st.sampled_from([b"a", b"b", b"c", b"ab", b"", b"z", b"\x00", b"\xff"])
scores = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, 2.5]),
                   st.floats(-100, 100, allow_nan=False))


def _model_order(model: dict) -> list:
    return sorted((s, m) for m, s in model.items())


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["add", "rem", "upd"]), members, scores), max_size=40))
def test_index_matches_model(ops):
    z = ZSet(lp=False)
    model: dict[bytes, float] = {}
    for op, m, s in ops:
        if op == "add" and m not in model:
            z.insert(m, s)
            model[m] = s
        elif op == "rem":
            assert z.remove(m) == (m in model)
            model.pop(m, None)
        elif op == "upd" and m in model:
            z.set_score(m, model[m], s)
            model[m] = s
    assert list(z.sl) == _model_order(model)
    assert z.scores == model
    for i, (s, m) in enumerate(_model_order(model)):
        assert z.rank(m) == i
    assert z.rank(b"nope") is None


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(members, scores), max_size=12), lo=scores, hi=scores, minex=st.booleans(),
       maxex=st.booleans())
def test_score_bounds_match_filter(pairs, lo, hi, minex, maxex):
    z = make_zset(pairs, {**CFG, "zset-max-listpack-entries": 0})
    a, b = z.score_bounds(lo, minex, hi, maxex)
    got = list(z.sl)[a:b]
    want = [(s, m) for s, m in z.sl
            if (s > lo if minex else s >= lo) and (s < hi if maxex else s <= hi)]
    assert got == want


@settings(max_examples=300, deadline=None)
@given(ms=st.lists(members, max_size=8, unique=True),
       lo=st.sampled_from([b"-", b"+", b"[a", b"(a", b"[ab", b"(b", b"[", b"("]),
       hi=st.sampled_from([b"-", b"+", b"[a", b"(a", b"[ab", b"(b", b"[z", b"(\xff"]))
def test_lex_bounds_uniform_scores(ms, lo, hi):
    z = make_zset([(m, 3.0) for m in ms], CFG)
    r = parse_lex_range(lo, hi)
    a, b = z.lex_bounds(r)
    got = [m for _, m in list(z.sl)[a:b]]
    want = [m for _, m in z.sl if r.gte_min(m) and r.lte_max(m)]
    if r.empty():
        want = []
    assert got == want
    assert z.lex_bounds(r, reverse=True) == (a, b)


def test_lex_bounds_mixed_scores_walk_like_a_listpack():
    """Redis's zzlFirstInLexRange / zzlLastInLexRange: check both ends, walk from one end to
    the first member in range, stop at the first one out of range (so forward and reverse
    can differ)."""
    z = make_zset([(b"d", 1), (b"a", 2), (b"c", 3), (b"b", 4)], CFG)
    assert z.lex_bounds(parse_lex_range(b"[b", b"[c")) == (0, 0)  # first member "d" > c
    assert z.lex_bounds(parse_lex_range(b"[a", b"[d")) == (0, 4)
    assert z.lex_bounds(parse_lex_range(b"-", b"[c"), reverse=True) == (0, 0)
    assert z.lex_bounds(parse_lex_range(b"[b", b"[d")) == (0, 4)
    assert z.lex_bounds(parse_lex_range(b"[b", b"[d"), reverse=True) == (2, 4)
    assert parse_lex_range(b"x", b"+") is None
    assert parse_lex_range(b"-", b"+x") is None
    assert parse_lex_range(b"", b"+") is None


def test_parse_score_is_string2d():
    assert parse_score(b"1.5") == 1.5
    assert parse_score(b"-inf") == -math.inf and parse_score(b"+Infinity") == math.inf
    assert parse_score(b"0x10") == 16.0
    assert parse_score(b"1e-310") == 1e-310  # subnormal but not zero: accepted
    for bad in (b"", b" 1", b"1 ", b"nan", b"1e400", b"-1e400", b"1e-400", b"abc", b"1\x00", b"infinit", b"1_0",
                b"0x", b"."):
        assert parse_score(bad) is None, bad


def test_range_floats_are_plain_strtod():
    assert parse_range_float(b"") == 0.0
    assert parse_range_float(b" 2") == 2.0
    assert parse_range_float(b"1e400") == math.inf
    assert parse_range_float(b"3\x00junk") == 3.0
    assert parse_range_float(b" ") is None
    assert parse_range_float(b"nan") is None
    assert parse_range_float(b"1 ") is None
    assert parse_score_range(b"(1", b"(") == (1.0, True, 0.0, True)
    assert parse_score_range(b"((1", b"2") is None


def test_sort_strtod_erange():
    assert strtod_c(b"1e400") == math.inf
    assert strtod_c(b"1e400", True) is None
    assert strtod_c(b"1e-310", True) is None
    assert strtod_c(b"2.2250738585072014e-308", True) == 2.2250738585072014e-308
    assert strtod_c(b"", True) == 0.0


def test_encodings_and_listpack_zero():
    z = ZSet(lp=True)
    z.add_checked(b"a", -0.0, CFG)
    assert math.copysign(1.0, z.scores[b"a"]) > 0  # a listpack stores -0 as the integer 0
    s = ZSet(lp=False)
    s.insert(b"a", -0.0)
    assert math.copysign(1.0, s.scores[b"a"]) < 0
    assert type_name(z) == b"zset"
    assert encoding(z, None) == b"listpack" and encoding(s, None) == b"skiplist"
    z.add_checked(b"x" * 65, 1.0, CFG)
    assert not z.lp
    z.remove(b"x" * 65)
    assert not z.lp  # one-way
    big = make_zset([(b"m%d" % i, float(i)) for i in range(129)], CFG)
    assert not big.lp
    small = make_zset([(b"m%d" % i, float(i)) for i in range(128)], CFG)
    assert small.lp
    small.lp = False
    fresh_encoding(small, CFG)
    assert small.lp


def test_copy_is_independent():
    z = make_zset([(b"a", 1.0), (b"b", 2.0)], CFG)
    c = copy_value(z)
    assert type(c) is ZSet and c.lp == z.lp and list(c.sl) == list(z.sl)
    c.insert(b"c", 3.0)
    c.set_score(b"a", 1.0, 5.0)
    assert list(z.sl) == [(1.0, b"a"), (2.0, b"b")]
    assert z.scores == {b"a": 1.0, b"b": 2.0}
