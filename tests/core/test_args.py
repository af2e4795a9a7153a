"""core/args.py, the argument toolkit: each parser raises the text of the Redis function it
mirrors (object.c), ranges normalise as LRANGE does, typed lookups raise WRONGTYPE. The command
tests check the same texts against redis-server through the commands that use them."""

from __future__ import annotations

import pytest

from pyredis.core.args import (
    LONG_MAX,
    Options,
    check_type,
    clamp_ends,
    clamp_index,
    clamp_range,
    to_float,
    to_int,
    to_int32,
    to_long_double,
    to_positive_int,
    to_range_int,
)
from pyredis.errors import NOT_FLOAT, NOT_INTEGER, POSITIVE, SYNTAX, WRONGTYPE, CommandError


def err(fn, *args) -> bytes:
    with pytest.raises(CommandError) as e:
        fn(*args)
    return e.value.text


def test_to_int():
    assert to_int(b"-9223372036854775808") == -(2**63)
    assert err(to_int, b"9223372036854775808") == NOT_INTEGER.encode()
    for bad in (b"", b" 1", b"1 ", b"+1", b"01", b"-0", b"1.0", b"1_0"):
        assert err(to_int, bad) == NOT_INTEGER.encode(), bad
    assert err(to_int, b"x", "ERR mine") == b"ERR mine"


def test_to_range_int_texts():
    # getRangeLongFromObjectOrReply without a message: two texts
    assert err(to_range_int, b"x", -LONG_MAX, LONG_MAX) == NOT_INTEGER.encode()
    assert err(to_range_int, b"-9223372036854775808", -LONG_MAX, LONG_MAX) == (
        b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    # ... with one: the same text for both failures
    assert err(to_range_int, b"x", 1, LONG_MAX, "ERR numkeys") == b"ERR numkeys"
    assert err(to_range_int, b"0", 1, LONG_MAX, "ERR numkeys") == b"ERR numkeys"
    assert to_range_int(b"1", 1, 1) == 1


def test_to_int32_and_positive():
    assert to_int32(b"2147483647") == 2**31 - 1
    assert err(to_int32, b"2147483648") == (
        b"ERR value is out of range, value must between -2147483648 and 2147483647")
    assert err(to_int32, b"2147483648", "ERR invalid first DB index") == b"ERR invalid first DB index"
    assert to_positive_int(b"0") == 0
    assert err(to_positive_int, b"-1") == err(to_positive_int, b"x") == POSITIVE.encode()


def test_floats():
    assert to_float(b"1e3") == 1000.0
    assert to_float(b"-inf") == float("-inf")
    for bad in (b"nan", b" 1", b"1x", b""):
        assert err(to_float, bad) == NOT_FLOAT.encode(), bad
    assert to_long_double(b"0.1") == to_long_double(b"1e-1")
    assert to_long_double(b"inf") == "inf"
    assert err(to_long_double, b"nan") == NOT_FLOAT.encode()


@pytest.mark.parametrize("start,end,n,want", [
    (0, -1, 5, (0, 4)), (-2, -1, 5, (3, 4)), (-10, 2, 5, (0, 2)), (1, 100, 5, (1, 4)),
    (3, 1, 5, None), (5, 9, 5, None), (0, -6, 5, None), (0, 0, 0, None),
])
def test_clamp_range(start, end, n, want):
    assert clamp_range(start, end, n) == want


def test_clamp_ends():
    assert clamp_ends(-3, -1, 5) == (2, 4)
    assert clamp_ends(-10, -7, 5) == (0, 0)
    assert clamp_ends(2, 100, 5) == (2, 4)
    assert clamp_ends(3, 1, 5) == (3, 1)  # empty


def test_clamp_index():
    assert [clamp_index(i, 3) for i in (-4, -3, -1, 0, 2, 3)] == [None, 0, 2, 0, 2, None]


def test_check_type():
    assert check_type(None, bytes) is None
    assert check_type(b"v", bytes) == b"v"
    assert err(check_type, [], bytes) == WRONGTYPE.encode()


def test_options_cursor():
    o = Options((b"count", b"10", b"nx", b"limit"))
    seen = []
    while o:
        tok = o.next_upper()
        if tok == b"COUNT" and o.has_more():
            seen.append(o.int_value())
        elif tok == b"LIMIT" and o.has_more():
            seen.append(o.value())
        else:
            seen.append(tok)
    assert seen == [10, b"NX", b"LIMIT"]
    o = Options((b"a",), 1)
    assert not o and err(o.value) == SYNTAX.encode()
