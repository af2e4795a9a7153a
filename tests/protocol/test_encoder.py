"""encode(): every reply type in RESP2 and RESP3, doubles as Redis 7.0 prints them (%.17g).

The unit table pins each reply type's bytes; the differential tests below send commands to
pyredis and redis-server on raw sockets and compare the exact reply bytes, so the table's
expectations are checked against Redis where a command can produce the type.
"""

from __future__ import annotations

import os
import socket
import struct

import hiredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyredis.protocol.encoder import encode, encode_into, format_double
from pyredis.protocol.replies import (
    NULL_ARRAY,
    OK,
    BigNumber,
    Boolean,
    Double,
    ErrorReply,
    MultiReply,
    Push,
    SetReply,
    Simple,
    Verbatim,
)
from resp import encode_command

CASES = [
    # value, RESP2, RESP3
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (b"x" * 2000, b"$2000\r\n" + b"x" * 2000 + b"\r\n", b"$2000\r\n" + b"x" * 2000 + b"\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (Simple(b"Background saving started"), b"+Background saving started\r\n", b"+Background saving started\r\n"),
    (0, b":0\r\n", b":0\r\n"),
    (-1, b":-1\r\n", b":-1\r\n"),
    (-2, b":-2\r\n", b":-2\r\n"),
    (10000, b":10000\r\n", b":10000\r\n"),
    (10001, b":10001\r\n", b":10001\r\n"),
    (2**63 - 1, b":9223372036854775807\r\n", b":9223372036854775807\r\n"),
    (-(2**63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ((b"a",), b"*1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n"),
    ([[b"a"], []], b"*2\r\n*1\r\n$1\r\na\r\n*0\r\n", b"*2\r\n*1\r\n$1\r\na\r\n*0\r\n"),
    (list(range(1100)), b"*1100\r\n" + b"".join(b":%d\r\n" % i for i in range(1100)), None),
    ({b"k": b"v", b"n": 1}, b"*4\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n", b"%2\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n"),
    ({}, b"*0\r\n", b"%0\r\n"),
    ({b"a"}, b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    (SetReply([b"x", b"y"]), b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n", b"~2\r\n$1\r\nx\r\n$1\r\ny\r\n"),
    (Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (Double(3.0), b"$1\r\n3\r\n", b",3\r\n"),
    (Double(0.1), b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
    (Double(float("inf")), b"$3\r\ninf\r\n", b",inf\r\n"),
    (Double(float("-inf")), b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (Double(-0.0), b"$2\r\n-0\r\n", b",-0\r\n"),
    (Double(1e300), b"$23\r\n1.0000000000000001e+300\r\n", b",1.0000000000000001e+300\r\n"),
    (2.5, b"$3\r\n2.5\r\n", b",2.5\r\n"),  # a plain float is a double
    (Boolean(1), b":1\r\n", b"#t\r\n"),
    (Boolean(0), b":0\r\n", b"#f\r\n"),
    (True, b":1\r\n", b":1\r\n"),  # a plain bool is an integer
    (ErrorReply(b"ERR boom"), b"-ERR boom\r\n", b"-ERR boom\r\n"),
    ([ErrorReply(b"WRONGTYPE x"), b"ok"], b"*2\r\n-WRONGTYPE x\r\n$2\r\nok\r\n", b"*2\r\n-WRONGTYPE x\r\n$2\r\nok\r\n"),
    (Verbatim(b"# Server\r\n"), b"$10\r\n# Server\r\n\r\n", b"=14\r\ntxt:# Server\r\n\r\n"),
    (BigNumber(b"1234567890123456789012"), b"$22\r\n1234567890123456789012\r\n", b"(1234567890123456789012\r\n"),
    (Push([b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
     b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    (MultiReply([[b"subscribe", b"a", 1], [b"subscribe", b"b", 2]]),
     b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n", None),
    ({b"m": {b"n": [Double(2.0), None]}}, b"*2\r\n$1\r\nm\r\n*2\r\n$1\r\nn\r\n*2\r\n$1\r\n2\r\n$-1\r\n",
     b"%1\r\n$1\r\nm\r\n%1\r\n$1\r\nn\r\n*2\r\n,2\r\n_\r\n"),
]


@pytest.mark.parametrize("value,resp2,resp3", CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_encode(value, resp2, resp3):
    assert encode(value, 2) == resp2
    if resp3 is not None:
        assert encode(value, 3) == resp3
    for resp, want in ((2, resp2), (3, resp3)):
        if want is not None:
            out: list[bytes] = []
            encode_into(value, resp, out)
            assert b"".join(out) == want


def test_unknown_type_is_an_error():
    with pytest.raises(TypeError):
        encode(object(), 2)


@given(st.floats(allow_nan=False))
def test_format_double_is_percent_17g(d):
    assert format_double(d) == (b"inf" if d == float("inf") else b"-inf" if d == float("-inf") else b"%.17g" % d)
    if d not in (float("inf"), float("-inf")):
        assert float(format_double(d)) == d  # 17 significant digits round-trip


def _reference_encoder():
    """encoder.py executed as its own module: the reference implementation, whichever form
    (compiled or interpreted) this process imported as pyredis.protocol.encoder."""
    import importlib.util

    import pyredis.protocol.encoder as enc

    path = os.path.join(os.path.dirname(enc.__file__), "encoder.py")
    spec = importlib.util.spec_from_file_location("pyredis.protocol._reference_encoder", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_REF = _reference_encoder()


@settings(max_examples=3000)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(0, (1 << 64) - 1).map(
    lambda b: struct.unpack("<d", struct.pack("<Q", b))[0]).filter(lambda d: d == d)))
def test_fpconv_dtoa_is_the_reference(d):
    """Redis 7.2's double formatting (Grisu2 in C's 64-bit arithmetic in the compiled build,
    encoder.pxd) gives the reference's digits for any double; and reads back as the double."""
    from pyredis.protocol.encoder import d2string_short, fpconv_dtoa

    assert fpconv_dtoa(d) == _REF.fpconv_dtoa(d)
    assert d2string_short(d) == _REF.d2string_short(d)
    if d not in (float("inf"), float("-inf")):
        assert float(fpconv_dtoa(d)) == d


# --- against redis-server: exact reply bytes -----------------------------------------------
class Raw:
    def __init__(self, port: int) -> None:
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)

    def send(self, *args, replies: int = 1) -> bytes:
        """Send one command; return the raw bytes of its next `replies` replies."""
        self.s.sendall(encode_command(args))
        return self.recv(replies)

    def recv(self, replies: int = 1) -> bytes:
        reader = hiredis.Reader()  # only to know where a reply ends
        out = b""
        while replies:
            d = self.s.recv(1 << 16)
            assert d, "connection closed"
            out += d
            reader.feed(d)
            while replies and reader.gets() is not False:
                replies -= 1
        return out

    def close(self) -> None:
        self.s.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def raw_pair(request, pyredis_srv, real_redis):
    pair = [Raw(pyredis_srv.port), Raw(real_redis.port)]
    for c in pair:
        c.send("FLUSHALL")
        if request.param == 3:
            c.send("HELLO", "3")
    yield pair
    for c in pair:
        c.send("FLUSHALL")
        c.close()


def same(pair, *args, replies: int = 1) -> bytes:
    a, b = (c.send(*args, replies=replies) for c in pair)
    assert a == b, f"{args}: pyredis={a!r} redis={b!r}"
    return a


SCORES = ["0.1", "1.5", "3", "-0", "1e300", "-1e-300", "0.3333333333333333", "9007199254740993",
          "123456789012345678", "2.5e-5", "inf", "-inf", "+inf", "1e16", "12345.678"]


@pytest.mark.parametrize("score", SCORES)
def test_double_replies_match_redis(raw_pair, score):
    same(raw_pair, "ZADD", "z", score, "m")
    same(raw_pair, "ZSCORE", "z", "m")
    same(raw_pair, "ZRANGE", "z", "0", "-1", "WITHSCORES")
    same(raw_pair, "ZMSCORE", "z", "m", "nosuch")


def test_reply_types_match_redis(raw_pair):
    same(raw_pair, "SET", "s", "v")  # simple
    same(raw_pair, "GET", "nosuch")  # null bulk
    same(raw_pair, "GET", "s")  # bulk
    same(raw_pair, "INCR", "n")  # integer
    same(raw_pair, "HSET", "h", "f", "v")
    same(raw_pair, "HGETALL", "h")  # map
    same(raw_pair, "HGETALL", "nosuch")  # empty map
    same(raw_pair, "SADD", "set", "a")
    same(raw_pair, "SMEMBERS", "set")  # set
    same(raw_pair, "SMEMBERS", "nosuch")  # empty set
    same(raw_pair, "RPUSH", "l", "a", "b")
    same(raw_pair, "LRANGE", "l", "0", "-1")  # array
    same(raw_pair, "BLPOP", "nosuch", "0.01")  # null array
    same(raw_pair, "ZADD", "z", "1", "a", "2.5", "b")
    same(raw_pair, "ZPOPMIN", "z")
    same(raw_pair, "ZRANGE", "z", "0", "-1", "WITHSCORES")
    same(raw_pair, "MULTI")
    same(raw_pair, "INCR", "s")
    same(raw_pair, "GET", "s")
    same(raw_pair, "EXEC")  # error inside an array
    same(raw_pair, "GET", "s", "extra")  # top-level error


def test_push_replies_match_redis(raw_pair):
    same(raw_pair, "SUBSCRIBE", "c1", "c2", replies=2)
    for c in raw_pair:
        p = Raw(c.s.getpeername()[1])
        assert p.send("PUBLISH", "c1", "hello") == b":1\r\n"
        p.close()
    a, b = (c.recv() for c in raw_pair)
    assert a == b
    same(raw_pair, "UNSUBSCRIBE", "c1", "c2", replies=2)  # (no-arg UNSUBSCRIBE order is a dict order)


@settings(max_examples=1500)
@given(st.lists(st.one_of(st.binary(max_size=300), st.binary(min_size=250, max_size=260), st.integers(-5, 20),
                          st.none()), max_size=200),
       st.sampled_from([list, tuple, set]))
def test_an_aggregate_of_strings_is_the_reference(items, kind):
    """The compiled build writes an aggregate of short strings in one pass (_fill_bulks): its
    result is the pieces joined, or None for any other element; and every aggregate encodes as
    the reference module (interpreted, which appends and joins) encodes it."""
    from pyredis.protocol import encoder

    v = kind(x for x in items if kind is not set or x is not None)
    fill = encoder._fill_bulks(v)
    if all(type(x) is bytes and len(x) <= 256 for x in v):
        assert fill == b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in v)
    else:
        assert fill is None
    for resp in (2, 3):
        assert encoder.encode(v, resp) == _REF.encode(v, resp)


@pytest.mark.parametrize("kind", [list, tuple, set])
def test_a_large_aggregate_is_the_reference(kind):
    """Over CHUNK elements the encoder joins chunk by chunk (_enc_chunked; the compiled build
    fills each chunk of short strings in one pass): the reference's bytes, whichever elements
    break the chunks' one-pass form."""
    from pyredis.protocol import encoder

    for items in ([b"m%d" % i for i in range(5000)],
                  [b"m%d" % i if i % 1500 else b"x" * (300 + i % 7) for i in range(5000)],
                  [b"m%d" % i if i % 2222 else i for i in range(5000)]):
        v = kind(items)
        for resp in (2, 3):
            assert encoder.encode(v, resp) == _REF.encode(v, resp)
