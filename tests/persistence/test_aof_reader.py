"""The AOF's fast readers against the strict one (persistence/aof.py).

iter_batches reads canonical commands fast (the parser's scan_multibulk, a byte loop for the compiled build;
hiredis plus a canonical check interpreted) and hands anything else to scan_commands. Whatever
the bytes, the commands, their end offsets and the error (its offset and kind) must be exactly
the strict reader's. Both fast readers are checked in both builds (the CI runs the suite
compiled and with PYREDIS_PURE=1)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pyredis.persistence import aof
from pyredis.persistence.aof import AofFormatError, encode_command, iter_batches, scan_commands
from pyredis.protocol.parser import NO_LIMIT, scan_multibulk


def _strict(data: bytes):
    out = []
    try:
        for argv, end in scan_commands(data):
            out.append((argv, end))
    except AofFormatError as e:
        return out, (e.offset, e.truncated)
    return out, None


def _fast(data: bytes, batch: int):
    out = []
    try:
        for cmds, ends in iter_batches(data, 0, batch):
            assert len(cmds) == len(ends)
            out += zip(cmds, ends)
    except AofFormatError as e:
        return out, (e.offset, e.truncated)
    return out, None


args = st.lists(st.binary(max_size=12) | st.sampled_from([b"SET", b"\r\n", b"$3", b"*1", b"#x\n"]),
                min_size=1, max_size=4)
pieces = st.one_of(
    args.map(encode_command),  # canonical
    st.sampled_from([b"#TS:1700000000\r\n", b"*01\r\n$1\r\nx\r\n", b"*1\r\n$01\r\nx\r\n", b"*+1\r\n$1\r\nx\r\n",
                     b"*1\r\n$1\r\nxyz\r\n", b"*1\r\n$1\r\nxAB", b"*0\r\n", b"*1\r\n", b"$1\r\nx\r\n", b"PING\r\n",
                     b"*1\r\n$-1\r\n", b"*1\r\n$4\r\nPING\n\n", b"#no newline"]),
    st.binary(max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=12), st.integers(0, 64), st.sampled_from([1, 2, 1024]))
def test_fast_readers_agree_with_the_strict_reader(parts, cut, batch):
    data = b"".join(parts)
    data = data[:len(data) - cut] if cut < len(data) else data
    want = _strict(data)
    assert _fast(data, batch) == want
    for compiled in (True, False):  # each fast reader, whichever this build would pick
        saved = aof._COMPILED
        aof._COMPILED = compiled
        try:
            assert _fast(data, batch) == want
        finally:
            aof._COMPILED = saved


def test_scan_multibulk_with_the_aof_rules_stops_before_what_it_cannot_vouch_for():
    good = encode_command([b"SET", b"k", b"v"])
    for bad in (b"*01\r\n$1\r\nx\r\n", b"*1\r\n$01\r\nx\r\n", b"*1\r\n$1\r\nxy\r\n", b"*1\r\n$1\r\n", b"+OK\r\n"):
        cmds, ends, pos = scan_multibulk(good + b"#TS:1\r\n" + good + bad + good, 0, 100, NO_LIMIT, True)
        assert cmds == [[b"SET", b"k", b"v"]] * 2
        assert pos == ends[-1] == 2 * len(good) + len(b"#TS:1\r\n")
    cmds, ends, pos = scan_multibulk(good * 5, len(good), 3, NO_LIMIT, True)  # the limit
    assert (len(cmds), pos) == (3, 4 * len(good))
