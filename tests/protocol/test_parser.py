"""RequestParser without sockets: splitting, inline quoting, limits, fast path == reference path.

The byte-level behaviour pinned here (error texts, when an error fires, NUL handling) was
checked against redis-server 7.0.15; tests/test_robustness.py repeats the interesting cases
over real sockets against both servers.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyredis.protocol.parser import Limits, RequestParser, sdssplitargs, string2ll


def enc(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def run(chunks, fast=True, limits=None):
    """Feed chunks; return (all argv lists, first error or None, parser)."""
    p = RequestParser(limits or Limits(), fast=fast)
    out = []
    for c in chunks:
        cmds, err = p.feed(c)
        out.extend(cmds)
        while p.stalled and not err:  # unauthenticated: one request per call
            cmds, err = p.feed(b"")
            out.extend(cmds)
        if err:
            return out, err, p
    return out, None, p


def parse(data: bytes, fast=True, limits=None):
    out, err, _ = run([data], fast, limits)
    return out, err


BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])

VALID = (
    enc(b"SET", b"key", b"value")
    + enc(b"GET", b"key")
    + b"*0\r\n"
    + b"*-1\r\n"
    + enc(b"SET", b"bin\r\n\x00\xff", b"")
    + b"PING\r\n"
    + b'SET "a b" \'c d\' "\\x41\\n"\n'
    + b"\r\n"
    + enc(b"ECHO", b"*1\r\n$4\r\nPING\r\n")
    + b"  ECHO   x  \r\n"
    + enc(b"X" * 70000)
    + enc(*[b"%d" % i for i in range(300)])
)
VALID_ARGV = [
    [b"SET", b"key", b"value"],
    [b"GET", b"key"],
    [b"SET", b"bin\r\n\x00\xff", b""],
    [b"PING"],
    [b"SET", b"a b", b"c d", b"A\n"],
    [b"ECHO", b"*1\r\n$4\r\nPING\r\n"],
    [b"ECHO", b"x"],
    [b"X" * 70000],
    [b"%d" % i for i in range(300)],
]


@BOTH
def test_whole_buffer(fast):
    assert parse(VALID, fast) == (VALID_ARGV, None)


@BOTH
def test_every_split_offset(fast):
    big = VALID.index(b"*1\r\n$70000")
    # every offset through the small requests, then a sample through the 70 KB one
    offsets = list(range(big + 40)) + list(range(big + 40, len(VALID) + 1, 997)) + [len(VALID) - 1, len(VALID)]
    for i in offsets:
        out, err, p = run([VALID[:i], VALID[i:]], fast)
        assert err is None and out == VALID_ARGV, i
        assert p.pending == 0


@BOTH
def test_huge_array_count_is_cheap(fast):
    # legal for Redis (it waits for the elements); must not make hiredis allocate the list
    import time

    for n in (b"2147483647", b"2000000000", b"99999999"):
        t = time.perf_counter()
        p = RequestParser(fast=fast)
        assert p.feed(b"*" + n + b"\r\n") == ([], None)
        assert p.feed(b"$4\r\nPING\r\n") == ([], None)
        del p
        assert time.perf_counter() - t < 0.05


@BOTH
def test_three_way_splits(fast):
    rng = random.Random(7)
    for _ in range(300):
        a, b = sorted(rng.sample(range(len(VALID) + 1), 2))
        out, err, _ = run([VALID[:a], VALID[a:b], VALID[b:]], fast)
        assert err is None and out == VALID_ARGV, (a, b)


@BOTH
def test_byte_by_byte(fast):
    data = VALID[:2000]  # the small requests, one byte per read
    want, _ = parse(data, fast=False)
    out, err, _ = run([data[i : i + 1] for i in range(len(data))], fast)
    assert err is None and out == want
    assert len(want) >= 7


@BOTH
def test_pending_counts_buffered_bytes(fast):
    p = RequestParser(fast=fast)
    assert p.feed(b"*2\r\n$3\r\nGET\r\n$1") == ([], None)
    assert p.pending > 0
    assert p.feed(b"\r\nk\r\n") == ([[b"GET", b"k"]], None)
    assert p.pending == 0


@BOTH
def test_read_ending_between_array_elements(fast):
    # hiredis holds a partial array with an empty buffer here: must not lose it
    p = RequestParser(fast=fast)
    assert p.feed(b"*2\r\n") == ([], None)
    assert p.feed(b"$4\r\nECHO\r\n$1\r\na\r\n") == ([[b"ECHO", b"a"]], None)
    assert p.feed(b"*2\r\n$4\r\nECHO\r\n") == ([], None)
    assert p.feed(b"$1\r\nb\r\n*1\r\n$4\r\nPING\r\n") == ([[b"ECHO", b"b"], [b"PING"]], None)


@BOTH
def test_complete_requests_then_a_partial_one(fast):
    reqs = [[b"SET", b"k\r\n$1\r\n", b"*2\r\n"], [b"x" * 1000] * 12, [b"GET", b"\xff" * 300]]
    data = b"".join(enc(*r) for r in reqs)
    tail = enc(b"ECHO", b"y" * 5000)
    for cut in (1, 3, 4, 7, 12, 100, len(tail) - 1):
        p = RequestParser(fast=fast)
        assert p.feed(data + tail[:cut]) == (reqs, None)
        assert p.pending <= cut  # headers already parsed are not pending
        assert p.feed(tail[cut:]) == ([[b"ECHO", b"y" * 5000]], None)
        assert p.pending == 0
    # a malformed tail after complete requests: the same error as the reference parser
    p = RequestParser(fast=fast)
    assert p.feed(data + b"*1\r\n+x\r") == (reqs, None)
    assert p.feed(b"\n") == ([], "Protocol error: expected '$', got '+'")


@BOTH
def test_big_pipeline(fast):
    rng = random.Random(1)
    cmds = []
    for i in range(5000):
        if i % 7 == 3:
            cmds.append((b"PING\r\n", [b"PING"]))
        else:
            argv = [b"SET", b"key:%d" % i, bytes(rng.randrange(256) for _ in range(rng.randrange(20)))]
            cmds.append((enc(*argv), argv))
    data = b"".join(c for c, _ in cmds)
    want = [a for _, a in cmds]
    assert parse(data, fast) == (want, None)
    pos, chunks = 0, []
    while pos < len(data):
        n = rng.choice([1, 5, 100, 1000, 16384, 65536])
        chunks.append(data[pos : pos + n])
        pos += n
    out, err, _ = run(chunks, fast)
    assert err is None and out == want


@BOTH
@pytest.mark.parametrize(
    "data",
    [b"*0\r\n", b"*-1\r\n", b"*-5\r\n", b"*0\r\n*-1\r\n"],
)
def test_empty_multibulk_is_skipped(fast, data):
    assert parse(data + b"PING\r\n", fast) == ([[b"PING"]], None)


# --- errors, with Redis's texts -------------------------------------------------------
ERRORS = [
    (b"*1099511627776\r\n", "Protocol error: invalid multibulk length"),
    (b"*2147483648\r\n", "Protocol error: invalid multibulk length"),
    (b"*01\r\n$4\r\nPING\r\n", "Protocol error: invalid multibulk length"),
    (b"*+1\r\n$4\r\nPING\r\n", "Protocol error: invalid multibulk length"),
    (b"*-0\r\n", "Protocol error: invalid multibulk length"),
    (b"* 1\r\n", "Protocol error: invalid multibulk length"),
    (b"*\r\n", "Protocol error: invalid multibulk length"),
    (b"*1a\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$1099511627776\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"),
    (b"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
    (b"*2\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n", "Protocol error: expected '$', got '*'"),
    (b'"abc\r\n', "Protocol error: unbalanced quotes in request"),
    (b"'abc\r\n", "Protocol error: unbalanced quotes in request"),
    (b'"a"b\r\n', "Protocol error: unbalanced quotes in request"),
    (b"'a'b\r\n", "Protocol error: unbalanced quotes in request"),
    (b"x" * 65537, "Protocol error: too big inline request"),
    (b"*" + b"1" * 65537, "Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 65537, "Protocol error: too big bulk count string"),
    # the line end is buffered, but 81910 bytes or more away: Redis's reads fail these anyway
    (b"E" * 81909 + b"\r\n", "Protocol error: too big inline request"),
    (b"*" + b"1" * 81909 + b"\r\n", "Protocol error: too big mbulk count string"),
    (b"*" + b"1" * 81908 + b"\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n$" + b"1" * 100000 + b"\r\n", "Protocol error: invalid bulk length"),
]


@BOTH
@pytest.mark.parametrize("data,error", ERRORS, ids=[repr(d[:24]) for d, _ in ERRORS])
def test_protocol_errors(fast, data, error):
    assert parse(data, fast) == ([], error)


@BOTH
def test_commands_before_an_error_are_returned(fast):
    assert parse(b"PING\r\n" + enc(b"GET", b"k") + b"*1\r\n+x\r\n", fast) == (
        [[b"PING"], [b"GET", b"k"]],
        "Protocol error: expected '$', got '+'",
    )


@BOTH
def test_64k_limits_are_strictly_greater(fast):
    # exactly 64 KB without the line end: still waiting
    assert parse(b"x" * 65536, fast) == ([], None)
    assert parse(b"*" + b"1" * 65535, fast) == ([], None)
    # an inline line longer than 64 KB is fine when its newline is in the buffer
    assert parse(b"E" * 81908 + b"\r\n", fast) == ([[b"E" * 81908]], None)
    long = b"ECHO " + b"y" * 70000
    assert parse(long + b"\r\n", fast) == ([[b"ECHO", b"y" * 70000]], None)


@BOTH
def test_header_needs_the_byte_after_cr(fast):
    p = RequestParser(fast=fast)
    assert p.feed(b"*1\r") == ([], None)
    assert p.feed(b"\n$4\r") == ([], None)
    assert p.feed(b"\nPING\r\n") == ([[b"PING"]], None)


@BOTH
def test_byte_after_cr_and_after_bulk_is_not_checked(fast):
    # Redis skips two bytes after the '\r' of a header and after a bulk, unchecked
    assert parse(b"*1\rX$4\r\nPINGxy*1\r\n$4\r\nPING\r\n", fast) == ([[b"PING"], [b"PING"]], None)


@BOTH
def test_nul_hides_the_line_end(fast):
    # strchr() semantics: the request never completes, until the 64 KB limit
    for data in (b"PI\x00NG\r\n", b"*1\x00\r\n$4\r\nPING\r\n", b"*1\r\n$4\x00\r\nPING\r\n", b"*1\r\n\x00$4\r\n"):
        p = RequestParser(fast=fast)
        assert p.feed(data) == ([], None)
        assert p.feed(b"PING\r\n") == ([], None)
        cmds, err = p.feed(b"\r\n" * 40000)
        assert cmds == [] and err is not None and err.startswith("Protocol error: too big")
    # a NUL inside a bulk is data
    assert parse(b"*1\r\n$4\r\nPI\x00G\r\n", fast) == ([[b"PI\x00G"]], None)


@BOTH
def test_unauthenticated_limits(fast):
    lim = Limits()
    lim.auth_required = True
    assert parse(enc(*[b"a"] * 10), fast, lim) == ([[b"a"] * 10], None)
    assert parse(enc(*[b"a"] * 11), fast, lim) == ([], "Protocol error: unauthenticated multibulk length")
    assert parse(enc(b"a" * 16384), fast, lim) == ([[b"a" * 16384]], None)
    assert parse(b"*1\r\n$16385\r\n", fast, lim) == ([], "Protocol error: unauthenticated bulk length")
    # the limits do not apply to inline requests
    assert parse(b"a " * 20 + b"\r\n", fast, lim) == ([[b"a"] * 20], None)
    lim.auth_required = False
    assert parse(enc(*[b"a"] * 11), fast, lim) == ([[b"a"] * 11], None)


@BOTH
def test_unauthenticated_one_request_at_a_time(fast):
    lim = Limits()
    lim.auth_required = True
    p = RequestParser(lim, fast=fast)
    data = enc(b"AUTH", b"pw") + enc(*[b"a"] * 20) + b"PING\r\n"
    assert p.feed(data) == ([[b"AUTH", b"pw"]], None)
    assert p.stalled
    lim.auth_required = False  # AUTH succeeded: the 20-argument request is fine now
    assert p.feed(b"") == ([[b"a"] * 20, [b"PING"]], None)
    assert not p.stalled and p.pending == 0
    # still unauthenticated: the next request hits the limit
    lim.auth_required = True
    p = RequestParser(lim, fast=fast)
    assert p.feed(data) == ([[b"AUTH", b"pw"]], None)
    assert p.feed(b"") == ([], "Protocol error: unauthenticated multibulk length")
    # a partial request after the last complete one: not stalled
    p = RequestParser(lim, fast=fast)
    assert p.feed(b"PING\r\n*1\r\n$4\r\nPI") == ([[b"PING"]], None)
    assert p.stalled
    assert p.feed(b"") == ([], None)
    assert not p.stalled


@BOTH
def test_proto_max_bulk_len(fast):
    lim = Limits(proto_max_bulk_len=1024 * 1024)
    assert parse(b"*1\r\n$1048576\r\n", fast, lim) == ([], None)
    assert parse(b"*1\r\n$1048577\r\n", fast, lim) == ([], "Protocol error: invalid bulk length")


# --- inline requests: sdssplitargs ---------------------------------------------------------
SPLIT = [
    (b"", []),
    (b"   \t ", []),
    (b"a b  c", [b"a", b"b", b"c"]),
    (b'"a b" c', [b"a b", b"c"]),
    (b'"\\x41\\x4a\\x4A"', [b"AJJ"]),
    (b'"\\x4"', [b"x4"]),  # not two hex digits: backslash escapes the 'x'
    (b'"\\xzz"', [b"xzz"]),
    (b'"\\n\\r\\t\\b\\a\\"\\\\\\q"', [b"\n\r\t\b\x07\"\\q"]),
    (b"'a b' c", [b"a b", b"c"]),
    (b"'it\\'s'", [b"it's"]),
    (b"'a\\nb'", [b"a\\nb"]),  # no escapes in single quotes but \'
    (b"a\"b\"", [b"ab"]),  # a quote inside a word opens a quoted part
    (b'""', [b""]),
    (b"''", [b""]),
    (b'"a"\tb', [b"a", b"b"]),
    (b'"a"\x0bb', [b"a", b"b"]),  # \v after a closing quote is a space (isspace)
    (b"a\x0bb", [b"a\x0bb"]),  # ... but does not end an unquoted word
    (b"\x0b\x0ca", [b"a"]),  # ... and is skipped between words
    (b'"abc', None),
    (b"'abc", None),
    (b'"a"b', None),
    (b"'a'b", None),
    (b'"a\\"', None),
]


@pytest.mark.parametrize("line,want", SPLIT, ids=[repr(x) for x, _ in SPLIT])
def test_split_args(line, want):
    assert sdssplitargs(line) == want


def test_inline_line_ends():
    assert parse(b"ECHO a\nECHO b\r\nECHO c\r\r\n") == ([[b"ECHO", b"a"], [b"ECHO", b"b"], [b"ECHO", b"c"]], None)
    # an empty line is skipped
    assert parse(b"\r\n\n  \r\nPING\n") == ([[b"PING"]], None)


def test_string2ll():
    assert string2ll(b"0") == 0
    assert string2ll(b"-1") == -1
    assert string2ll(b"9223372036854775807") == 2**63 - 1
    assert string2ll(b"-9223372036854775808") == -(2**63)
    for bad in (b"", b"-", b"01", b"-0", b"+1", b" 1", b"1 ", b"9223372036854775808", b"1.0", b"\xd9\xa1"):
        assert string2ll(bad) is None, bad


# --- the fast path and the reference parser agree ----------------------------------------
@pytest.mark.parametrize("data", [b"*01\r\n", b"*+1\r\n", b"*-0\r\n", b"* 1\r\n", b"*1 \r\n",
                                  b"*1\r\n$01\r\n", b"*1\r\n$+1\r\n", b"*1\r\n$ 1\r\n", b"*1\r\n$1 \r\n",
                                  b"*1\r\n$1\n\na\r\n", b"*1\rX"])
def test_hiredis_only_accepts_canonical_headers(data):
    # The fast path relies on this: hiredis's requests have their canonical size on the wire.
    import hiredis

    r = hiredis.Reader()
    with pytest.raises(hiredis.ProtocolError):
        r.feed(data + b"$1\r\na\r\n")
        r.gets()

argv_st = st.lists(st.binary(max_size=40), min_size=1, max_size=12)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted({c % (len(data) + 1) for c in cuts})
    out, prev = [], 0
    for c in cuts:
        out.append(data[prev:c])
        prev = c
    out.append(data[prev:])
    return [c for c in out if c]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(argv_st, min_size=1, max_size=30), st.lists(st.integers(min_value=0), max_size=8))
def test_random_requests_random_chunks(reqs, cuts):
    data = b"".join(enc(*a) for a in reqs)
    chunks = _chunks(data, cuts)
    for fast in (True, False):
        out, err, p = run(chunks, fast)
        assert err is None and out == reqs and p.pending == 0


# Byte soup built from protocol pieces, so that it often gets deep into the state machine.
piece_st = st.one_of(
    st.sampled_from([b"*", b"$", b"\r\n", b"\r", b"\n", b"+", b":", b"-", b"0", b"1", b"2", b"3", b"10", b"-1",
                     b"\x00", b'"', b"'", b"\\x41", b" ", b"PING", b"*1\r\n", b"$4\r\nPING\r\n", b"*2\r\n"]),
    st.binary(max_size=6),
)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(piece_st, argv_st.map(lambda a: enc(*a))), max_size=40),
       st.lists(st.integers(min_value=0), max_size=6), st.booleans(), st.booleans())
def test_fast_and_reference_agree_on_anything(pieces, cuts, auth, compiled):
    """Either fast reader (scan_multibulk, the compiled build's; hiredis, the interpreted one's),
    forced in either build, answers as the reference parser."""
    import pyredis.protocol.parser as parser_mod

    data = b"".join(pieces)
    chunks = _chunks(data, cuts)
    lim_a, lim_b = Limits(), Limits()
    lim_a.auth_required = lim_b.auth_required = auth
    saved = parser_mod._COMPILED
    parser_mod._COMPILED = compiled
    try:
        fast = run(chunks, True, lim_a)
    finally:
        parser_mod._COMPILED = saved
    ref = run([data], False, lim_b)
    assert fast[:2] == ref[:2]
    if fast[1] is None:
        assert fast[2].pending == ref[2].pending


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(argv_st, min_size=1, max_size=30), st.lists(piece_st, max_size=20),
       st.lists(st.integers(min_value=0), max_size=10))
def test_back_to_fast_after_a_straddling_request(reqs, junk, cuts):
    """Every read resumes the fast path after a straddling request (threshold lowered to 1)."""
    import pyredis.protocol.parser as parser_mod

    data = b"".join(enc(*a) for a in reqs) + b"".join(junk)
    chunks = _chunks(data, cuts)
    saved = parser_mod._RESUME_FAST
    parser_mod._RESUME_FAST = 1
    try:
        fast = run(chunks, True)
    finally:
        parser_mod._RESUME_FAST = saved
    ref = run([data], False)
    assert fast[:2] == ref[:2]
    if fast[1] is None:
        assert fast[2].pending == ref[2].pending
        assert fast[0][: len(reqs)] == reqs


def test_scan_multibulk_stops_before_what_is_not_canonical():
    from pyredis.protocol.parser import NO_LIMIT, scan_multibulk

    good = enc(b"SET", b"k", b"v")
    for bad in (b"*01\r\n$1\r\nx\r\n", b"*1\r\n$01\r\nx\r\n", b"*0\r\n", b"*1\r\n$-1\r\n", b"*1\r\n$1\r\n",
                b"+OK\r\n", b"PING\r\n", b"*1\r\n$5\r\nx\r\n", b"#TS:1\r\n" + good):
        assert scan_multibulk(good + good + bad, 0, NO_LIMIT, 512 * 1024 * 1024, False) == (
            [[b"SET", b"k", b"v"]] * 2, None, 2 * len(good))
    assert scan_multibulk(enc(b"GET", b"k" * 10), 0, NO_LIMIT, 9, False) == ([], None, 0)  # over proto-max-bulk-len
    # the two bytes after a bulk: unchecked for a client (as Redis), checked in an AOF
    assert scan_multibulk(b"*1\r\n$4\r\nPINGxy", 0, NO_LIMIT, 100, False) == ([[b"PING"]], None, 14)
    assert scan_multibulk(b"*1\r\n$4\r\nPINGxy", 0, NO_LIMIT, 100, True) == ([], [], 0)


@pytest.mark.parametrize("compiled", [True, False])
def test_a_read_inside_a_bulk_is_not_read_as_requests(compiled):
    """The first read ends just after a bulk's header (the reference parser has consumed it: its
    buffer is empty, the request is not finished); the next read is the payload, which happens to
    be a complete request. It is the SET's value, not a PING (with either fast reader)."""
    import pyredis.protocol.parser as parser_mod

    value = enc(b"PING")
    chunks = [b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % len(value), value, b"\r\n"]
    saved = parser_mod._COMPILED
    parser_mod._COMPILED = compiled
    try:
        out, err, p = run(chunks, True)
    finally:
        parser_mod._COMPILED = saved
    assert (out, err, p.pending) == ([[b"SET", b"k", value]], None, 0)
