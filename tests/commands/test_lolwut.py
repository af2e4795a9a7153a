"""LOLWUT against redis-server 7.0.15.

LOLWUT 5 (Schotter) moves and rotates only the squares after its first two rows, with
rand(); LOLWUT 6 (the skyline) colours everything with rand(). Replies whose drawing
involves no rand() call (at most two rows of squares) must be byte-equal; the others are
compared by shape (lines, characters per line, text lines), since rand() cannot be
reproduced from outside redis-server.
"""

from __future__ import annotations

import itertools


def _body(reply: bytes) -> bytes:
    return reply[4:] if reply.startswith(b"txt:") else reply  # RESP3 verbatim


def test_lolwut_version_line_and_argument_errors(diff):
    for args in [(), ("10",), ("VERSION",), ("version", "7"), ("VERSION", "1"), ("VERSION", "-1"),
                 ("VERSION", "59"), ("VERSION", "7", "x"), ("VERSION", "7", "1", "2", "3"),
                 ("VERSION", "x"), ("VERSION", "5", "x"), ("VERSION", "5", "10", "x"),
                 ("VERSION", "5", "10", "2", "x"), ("VERSION", "6", "x"), ("VERSION", "6", "10", "x"),
                 ("VERSION", "99999999999999999999"), ("VERSION", " 5")]:
        diff.check("LOLWUT", *args)


def test_lolwut5_without_random_rows_is_byte_equal(diff):
    # squares-per-col <= 2: no rand() call; every size clamp (1..1000 columns, 1..200 squares).
    for cols, per_row, per_col in itertools.product((1, 2, 3, 5, 17, 66, 1000, 5000, -3),
                                                   (1, 3, 8, 13, 200, 500, 0), (1, 2, 0, -1)):
        diff.check("LOLWUT", "VERSION", "5", cols, per_row, per_col)
    # "%u.0.0" of the version cast to unsigned int: 2^32 + 5 is version 5.
    diff.check("LOLWUT", "VERSION", "4294967301", "10", "2", "1")


def test_lolwut_random_drawings_have_redis_shape(diff):
    for args in [("VERSION", "5"), ("VERSION", "5", "40", "6", "9"), ("VERSION", "6"),
                 ("VERSION", "6", "30", "12"), ("VERSION", "6", "1", "1"), ("VERSION", "6", "2000", "3")]:
        a, b = (_body(x) for x in diff.both("LOLWUT", *args))
        la, lb = a.split(b"\n"), b.split(b"\n")
        assert len(la) == len(lb), args
        if args[1] == "5":
            assert [len(x) for x in la] == [len(x) for x in lb], args  # 3-byte braille cells
        else:
            assert [x.count(b"\x1b[0m") for x in la] == [x.count(b"\x1b[0m") for x in lb], args
        assert la[-3:] == lb[-3:], args  # the text lines
