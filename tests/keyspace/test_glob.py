"""util.glob_match is Redis's stringmatchlen: checked against redis-server through KEYS and
SCAN MATCH, with tricky patterns and with hypothesis-generated ones."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyredis.util import compile_glob, glob_match
from resp import RawClient

KEYS = [b"", b"a", b"b", b"ab", b"ba", b"aab", b"abab", b"a*b", b"a?b", b"a[b", b"a]b", b"a\\b", b"\\",
        b"-", b"^", b"[", b"]", b"*", b"?", b"\x80", b"\xff", b"a\xff", b"A", b"Ab", b"~", b"hello",
        b"hallo", b"hxllo", b"heeeeello", b"hllo", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"]

PATTERNS = [
    b"", b"*", b"**", b"***", b"?", b"??", b"*?", b"?*", b"a*", b"*a", b"*b*", b"a*b", b"a**b", b"*a*b*",
    b"h?llo", b"h*llo", b"h[ae]llo", b"h[^e]llo", b"h[a-b]llo", b"h[b-a]llo", b"h[^a-e]llo",
    b"a\\*b", b"a\\?b", b"a\\[b", b"a\\]b", b"a\\\\b", b"\\", b"\\\\", b"a\\", b"\\a", b"\\*",
    b"[", b"[a", b"[ab", b"[^", b"[^a", b"a[", b"a[b", b"a[]b", b"a[]]b", b"a[[]b", b"[]]", b"[]",
    b"[\\]]", b"a[\\]]b", b"[\\", b"[a\\", b"[a-", b"[a-]", b"[-a]", b"[-]", b"[^-]", b"[--]",
    b"[a-\xff]", b"[\x80-\xff]", b"[~-\x80]", b"[\xff-a]", b"[\x80]", b"[^\x80]", b"\xff", b"a\xff",
    b"[A-a]", b"[a-A]", b"[^]", b"[^]]", b"[*]", b"[?]", b"*[", b"*[a", b"*[a-", b"*\\",
    b"a*a*a*a*a*a*a*a*b", b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c",
    b"[[]", b"[[a]", b"[a-b-c]", b"[a-bc-d]", b"[\\a-b]", b"[a\\-c]", b"[^^]", b"^", b"[\\^]",
]


def test_simple_cases():
    assert glob_match(b"h?llo", b"hello")
    assert not glob_match(b"h?llo", b"hllo")
    assert glob_match(b"h[^e]llo", b"hallo")
    assert not glob_match(b"*", b"")  # stringmatchlen: the empty string matches no pattern but ""
    assert glob_match(b"", b"")
    assert glob_match(b"abc*", b"abc")
    assert glob_match(b"HeLLo", b"hello", nocase=True)
    assert glob_match(b"h[A-Z]llo", b"hello", nocase=True)
    assert not glob_match(b"h[A-Z]llo", b"hello")
    assert glob_match(b"[a-\xff]", b"\xff") and not glob_match(b"[a-\xff]", b"b")  # signed char


def test_many_stars_need_no_recursion():
    key = b"a" * 3000
    assert glob_match(b"a*" * 1001, key)  # 1000 nested levels, then a trailing '*'
    assert not glob_match(b"a*" * 1002, key)  # Redis refuses to nest deeper than 1000
    assert glob_match(b"*a" * 1000, key) and not glob_match(b"*a" * 1001, key)
    assert not glob_match(b"*a" * 1000 + b"*b", b"a" * 100)  # would be exponential without skipping


@pytest.fixture
def both(pyredis_srv, real_redis):
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    for c in (ours, theirs):
        c.call("FLUSHALL")
        for k in KEYS:
            c.call("SET", k, "1")
    yield ours, theirs
    ours.close()
    theirs.close()


def _keys(c, pattern):
    return sorted(c.call("KEYS", pattern))


def _scan(c, pattern):
    cur, found = b"0", []
    while True:
        cur, batch = c.call("SCAN", cur, "MATCH", pattern, "COUNT", "7")
        found += batch
        if cur == b"0":
            return sorted(set(found))


def test_patterns_against_redis(both):
    ours, theirs = both
    for p in PATTERNS:
        assert _keys(ours, p) == _keys(theirs, p), p
        assert _scan(ours, p) == _scan(theirs, p), p
        expected = sorted(k for k in KEYS if glob_match(p, k) or (p == b"*"))
        assert expected == _keys(theirs, p), p


def test_deep_star_patterns_against_redis(both):
    ours, theirs = both
    for c in (ours, theirs):
        c.call("SET", b"a" * 1500, "1")
    for p in (b"a*" * 1000, b"a*" * 1001, b"a*" * 1002, b"a*" * 1001 + b"b", b"*a" * 600, b"*a" * 1000,
              b"*a" * 1001, b"*?" * 1200, b"?*" * 999 + b"b"):
        assert _keys(ours, p) == _keys(theirs, p), p[:20]


ALPHABET = b"ab*?[]^-\\\x80\xffA"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patterns=st.lists(st.binary(min_size=0, max_size=7).map(lambda b: bytes(ALPHABET[x % len(ALPHABET)] for x in b)),
                         min_size=1, max_size=5))
def test_random_patterns_against_redis(both, patterns):
    ours, theirs = both
    for p in patterns:
        assert _keys(ours, p) == _keys(theirs, p), p


def test_compile_glob_fast_paths_agree_with_matcher():
    from pyredis.util import _match

    for p in PATTERNS + [b"abc", b"abc*", b"ab*", b"hello"]:
        f = compile_glob(p)
        for k in KEYS + [b"abc", b"abcd", b"ab"]:
            assert f(k) == _match(p, k, False), (p, k)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.binary(max_size=8).map(lambda b: bytes(ALPHABET[x % len(ALPHABET)] for x in b)),
       patterns=st.lists(st.binary(max_size=8).map(lambda b: bytes(ALPHABET[x % len(ALPHABET)] for x in b)),
                         min_size=1, max_size=4))
def test_random_keys_and_patterns_against_redis(both, key, patterns):
    ours, theirs = both
    for c in (ours, theirs):
        c.call("SELECT", "9")
        c.call("FLUSHDB")
        c.call("SET", key, "1")
    try:
        for p in patterns:
            assert _keys(ours, p) == _keys(theirs, p), (p, key)
            assert glob_match(p, key) == bool(_keys(theirs, p)) or (p == b"*" and key == b""), (p, key)
    finally:
        for c in (ours, theirs):
            c.call("SELECT", "0")
