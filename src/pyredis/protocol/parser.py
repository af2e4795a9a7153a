"""RequestParser: bytes from a client -> argv lists, with Redis 7's exact protocol errors.

API:
    p = RequestParser(limits)
    commands, error = p.feed(data)   # complete argv lists; error is a protocol error text or None
    p.pending                         # bytes buffered but not yet a full command (query buffer size)

Two paths, one behaviour:
  * The pure-Python parser below is the reference: a port of the rules of Redis's
    processInlineBuffer/processMultibulkBuffer (string2ll strictness, 64 KB header limits,
    `expected '$'`, unauthenticated limits, inline quoting via sdssplitargs).
  * The compiled build first reads the canonical requests at the start of a read with
    scan_multibulk (a byte loop typed by parser.pxd): canonical form is a subset of what the
    reference accepts, and whatever follows the last complete canonical request goes to the
    reference parser.
  * The fast path (interpreted: the only one) hands a read that holds only well-formed
    multibulk requests to hiredis' C reader. Its output is checked (every request a non-empty
    list of bytes, nothing left over); anything else - a reply type, an error - re-parses that
    same read with the reference parser, so hiredis can only ever make things faster, never
    different.
    "Nothing left over" needs two checks: has_data() sees unconsumed bytes (a partial bulk),
    but a read that ends between the elements of an array leaves hiredis holding a partial
    array with an empty buffer. So after draining, the sentinel `*0\r\n` is fed: a reader in
    its initial state returns exactly [] for it; a partial array swallows it as an element.
    When a read ends mid-request, the requests hiredis completed are kept (their canonical
    size says where the tail starts) and only the tail goes to the reference parser, which
    buffers it. The next read of 4 KB or more finishes that request with the reference parser
    and hands the rest of the read back to hiredis (streamed pipelines, mass insertion).

Neither fast reader runs while a request is in progress (a read that ended just after a bulk's
header leaves the reference parser's buffer empty and the request unfinished: the next read
starts with that bulk's payload, which may itself look like requests).

Redis searches header lines with strchr(), so a NUL byte before the '\n' of an inline request
or before the '\r' of a `*`/`$` header hides the line end: the request waits for more data
(and fails the 64 KB limit) exactly as in Redis.
"""

from __future__ import annotations

import re
import sys

import hiredis

_EMPTY_BYTEARRAY = sys.getsizeof(bytearray())

PROTO_INLINE_MAX_SIZE = 64 * 1024
# Redis applies the 64 KB limits after each read of the socket, and its reads are small: on a
# fresh connection the first read is 16 KB and the second fills the query buffer up to its
# allocation, 81910 bytes (measured on redis-server 7.0.15 with jemalloc). So an inline request
# or a `*` header whose line end lies 81910 bytes or more past its start fails there even when
# it arrives in one piece; we read bigger chunks, so that case is checked explicitly. Shorter
# lines over 64 KB pass when their end is buffered (as in Redis when the data arrives at once).
# Not applied to `$` headers, where Redis's reads fall differently (they pass up to ~160 KB).
_ALWAYS_TOO_BIG = 81910
# A read at least this big, arriving while a request straddles reads, goes back to the fast
# path once that request is complete (small reads stay with the reference parser).
_RESUME_FAST = 4096
INT_MAX = 2**31 - 1

# Things hiredis accepts that Redis rejects and that hiredis turns into indistinguishable
# bytes: simple, verbatim and attribute types, which can only start after a newline. (Counts
# with a sign, a space or a leading zero need no check: hiredis 3 rejects them, which sends
# the read to the reference parser; other RESP3 types come back as non-bytes and do too.)
# A literal-prefix pattern, which sre scans at memchr speed: this runs on every read.
_NOT_FOR_HIREDIS = re.compile(rb"\n[+=|]")
# Array counts of 6+ digits stay away from hiredis too: hiredis-py allocates the list when it
# reads the header, so `*2000000000` (legal for Redis, which just waits) costs seconds to free
# and `*4294967294` raises MemoryError. Such a request cannot be complete in one read anyway.
_BIG_COUNT = re.compile(rb"\*[0-9]{6}")


class Limits:
    """What the parser needs to know about the server's configuration and the client."""

    __slots__ = ("proto_max_bulk_len", "query_buffer_limit", "auth_required")

    def __init__(self, proto_max_bulk_len: int = 512 * 1024 * 1024, query_buffer_limit: int = 1024**3) -> None:
        self.proto_max_bulk_len = proto_max_bulk_len
        self.query_buffer_limit = query_buffer_limit
        # True while the client must still authenticate: Redis then caps requests at
        # 10 arguments and 16 KB bulks, so an anonymous peer cannot make it buffer much.
        self.auth_required = False


def string2ll(s: bytes) -> int | None:
    """Redis's string2ll: strict decimal, no '+', no leading zeros, no spaces, fits int64."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    if n == 1:
        c = s[0]
        return c - 48 if 48 <= c <= 57 else None
    i = 1 if s[0] == 45 else 0
    if i == n or not (49 <= s[i] <= 57):
        return None
    if not s[i:].isdigit():
        return None
    v = int(s)
    if v < -(2**63) or v > 2**63 - 1:
        return None
    return v


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"
_SPACE = b" \t\n\v\f\r"  # C's isspace(): skipped between words, allowed after a closing quote
_WORD_END = b" \t\n\r"  # what ends an unquoted word: not \v nor \f (they stay in the word)


def sdssplitargs(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs (sds.c): the one splitter of the inline protocol, redis.conf lines,
    the AOF manifest, script shebangs and FUNCTION library metadata, and pyredis-cli's prompt
    (redis-cli splits with the same function).

    Words are separated by blanks; a word may contain "double quoted" parts with the escapes
    \\xHH (two hex digits) \\n \\r \\t \\b \\a and \\<any> = <any>, and 'single quoted'
    parts where only \\' is an escape. A closing quote must be followed by a blank or the end.
    None for unbalanced quotes or a closing quote followed by something else. The line is a C
    string: it ends at its first NUL byte.
    """
    if 34 not in line and 39 not in line and 0 not in line and 11 not in line and 12 not in line:
        # no quote, NUL, \v or \f (bytes 34, 39, 0, 11, 12): words separated by runs of
        # " \t\n\r", which is what bytes.split() finds
        return line.split()
    return _split_quoted(line)


def _split_quoted(line: bytes) -> list[bytes] | None:
    """sdssplitargs's loop, byte by byte (any line; the one with quotes needs it)."""
    z = line.find(0)
    if z >= 0:
        line = line[:z]
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 92
                    and i + 3 < n
                    and line[i + 1] == 120
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    cur.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(line[i], line[i]))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _WORD_END:
                    i += 1
                    break
                if c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        args.append(bytes(cur))


class RequestParser:
    __slots__ = ("limits", "_buf", "_pos", "_mb_left", "_bulk_len", "_argv", "_reader", "stalled")

    def __init__(self, limits: Limits | None = None, fast: bool = True) -> None:
        self.limits = limits or Limits()
        self._buf = bytearray()  # reference-parser buffer; empty while the fast path is usable
        self._pos = 0
        self._mb_left = 0  # bulks still expected by the multibulk request being parsed
        self._bulk_len = -1  # length of the bulk being waited for, -1 when reading its header
        self._argv: list[bytes] = []
        self._reader = hiredis.Reader() if fast else None  # None: reference parser only (tests)
        # While the client must authenticate, feed() hands out one request at a time and sets
        # `stalled` when more buffered bytes follow: the caller runs that request (maybe AUTH)
        # and calls feed(b"") again, so the unauthenticated limits apply request by request,
        # as in Redis (`AUTH pw` and a 20-argument MSET in one packet is fine).
        self.stalled = False

    @property
    def pending(self) -> int:
        return len(self._buf) - self._pos

    def head(self, n: int) -> bytes:
        """The first n unparsed bytes (the log line of a client over the query buffer limit)."""
        return bytes(self._buf[self._pos:self._pos + n])

    @property
    def spare(self) -> int:
        """Bytes the reference parser's buffer has allocated beyond what it holds (CLIENT LIST
        qbuf-free); 0 on the fast path, whose buffer is hiredis's own."""
        buf = self._buf
        return max(0, sys.getsizeof(buf) - _EMPTY_BYTEARRAY - 1 - len(buf)) if buf else 0

    def release(self) -> None:
        """The connection is gone: free what is buffered now (a bulk announced at 400 MB and
        cut off after 60 MB), not when a garbage collection happens to run."""
        self._buf = bytearray()
        self._pos = 0
        self._argv = []
        if self._reader is not None:
            self._reader = hiredis.Reader()

    def feed(self, data: bytes) -> tuple[list[list[bytes]], str | None]:
        lim = self.limits
        if (
            not self._buf
            and self._mb_left == 0  # not inside a request whose buffered part was consumed
            and data[:1] == b"*"
            and self._reader is not None
            and not lim.auth_required
            and len(data) <= lim.proto_max_bulk_len
        ):
            if _COMPILED and type(data) is bytes:
                out, _, consumed = scan_multibulk(data, 0, NO_LIMIT, lim.proto_max_bulk_len, False)
                if consumed == len(data):
                    return out, None
                if out:  # the rest (a request cut off, another form) to the reference parser
                    return self._rest_to_reference(out, data, consumed)
            if _NOT_FOR_HIREDIS.search(data) is None and _BIG_COUNT.search(data) is None:
                res = self._fast(data)
                if res is not None:
                    return res
        elif self._buf and len(data) >= _RESUME_FAST and self._reader is not None and not lim.auth_required:
            # A stream of requests that straddle reads (mass insertion): finish the straddling
            # request with the reference parser, then give the rest of the read to the fast path.
            self._buf += data
            out, error = self._slow(to_boundary=True)
            buf = self._buf
            if error is None and self._pos < len(buf) and self._mb_left == 0 and not self._argv:
                rest = bytes(buf[self._pos :])
                buf.clear()
                self._pos = 0
                more, error = self.feed(rest)
                out += more
            return out, error
        self._buf += data
        return self._slow()

    def _fast(self, data: bytes) -> tuple[list[list[bytes]], str | None] | None:
        reader = self._reader
        try:
            reader.feed(data)
            out = []
            while True:
                req = reader.gets()
                if req is False:
                    break
                if type(req) is not list or not req:
                    raise ValueError
                for a in req:
                    if type(a) is not bytes:
                        raise ValueError
                out.append(req)
            if reader.has_data():
                complete = False  # a partial bulk is still in hiredis's buffer
            else:
                reader.feed(b"*0\r\n")
                complete = reader.gets() == []  # else the read ended inside an array
            if complete:
                return out, None
        except (hiredis.ProtocolError, ValueError, MemoryError):
            self._reader = hiredis.Reader()
            return None
        # The read ends inside a request. hiredis only accepts canonical headers (it rejects
        # signs, leading zeros and spaces in counts, and wants CRLF line ends; the two bytes
        # after a bulk are skipped unchecked, as in Redis), so the complete requests occupy
        # exactly their canonical size: keep them, and hand the rest, which starts at a
        # request boundary, to the reference parser. (test_parser pins these hiredis rules.)
        self._reader = hiredis.Reader()
        if not out:
            return None
        consumed = _wire_size(out)
        if consumed >= len(data):
            return None
        return self._rest_to_reference(out, data, consumed)

    def _rest_to_reference(self, out: list[list[bytes]], data: bytes, consumed: int):
        """A fast reader read `out` from the first `consumed` bytes of `data`: the rest goes to
        the reference parser, whose requests (and error) follow."""
        self._buf += memoryview(data)[consumed:]
        more, error = self._slow()
        if more:
            out += more
        return out, error

    def _slow(self, to_boundary: bool = False) -> tuple[list[list[bytes]], str | None]:
        """The reference parser over the buffer; `to_boundary`: stop after the first request."""
        buf = self._buf
        out: list[list[bytes]] = []
        error = None
        one_at_a_time = self.limits.auth_required
        self.stalled = False
        try:
            while self._pos < len(buf):
                if self._mb_left == 0 and not self._argv and buf[self._pos] != 42:
                    ok = self._inline(out)
                else:
                    ok = self._multibulk(out)
                if not ok:
                    break
                if one_at_a_time and out:
                    self.stalled = self._pos < len(buf)
                    break
                if to_boundary and out:
                    break
        except _ProtocolError as e:
            error = "Protocol error: " + str(e)
        if self._pos >= len(buf):
            buf.clear()
            self._pos = 0
        elif self._pos > 65536:
            del buf[: self._pos]
            self._pos = 0
        return out, error

    def _inline(self, out: list[list[bytes]]) -> bool:
        buf, pos = self._buf, self._pos
        nl = buf.find(b"\n", pos)
        if nl >= 0 and buf.find(0, pos, nl) >= 0:
            nl = -1  # strchr() stops at the NUL
        if nl < 0 or nl - pos >= _ALWAYS_TOO_BIG:
            if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
                raise _ProtocolError("too big inline request")
            return False
        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
        args = sdssplitargs(bytes(buf[pos:end]))
        if args is None:
            raise _ProtocolError("unbalanced quotes in request")
        self._pos = nl + 1
        if args:
            out.append(args)
        return True

    def _multibulk(self, out: list[list[bytes]]) -> bool:
        buf = self._buf
        lim = self.limits
        if self._mb_left == 0:
            pos = self._pos
            cr = _find_cr(buf, pos)
            if cr < 0 or cr - pos >= _ALWAYS_TOO_BIG:
                if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
                    raise _ProtocolError("too big mbulk count string")
                return False
            if cr + 1 >= len(buf):  # need the byte after '\r' too
                return False
            ll = string2ll(bytes(buf[pos + 1 : cr]))
            if ll is None or ll > INT_MAX:
                raise _ProtocolError("invalid multibulk length")
            if ll > 10 and lim.auth_required:
                raise _ProtocolError("unauthenticated multibulk length")
            self._pos = cr + 2
            if ll <= 0:
                return True
            self._mb_left = ll
            self._argv = []
        while self._mb_left:
            pos = self._pos
            if self._bulk_len < 0:
                cr = _find_cr(buf, pos)
                if cr < 0:
                    if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
                        raise _ProtocolError("too big bulk count string")
                    return False
                if cr + 1 >= len(buf):
                    return False
                if buf[pos] != 36:
                    # addReplyErrorFormat turns CR/LF into spaces; other bytes go out raw
                    # (the connection encodes protocol errors as latin-1)
                    c = buf[pos]
                    raise _ProtocolError("expected '$', got '%s'" % (" " if c in (10, 13) else chr(c)))
                ll = string2ll(bytes(buf[pos + 1 : cr]))
                if ll is None or ll < 0 or ll > lim.proto_max_bulk_len:
                    raise _ProtocolError("invalid bulk length")
                if ll > 16384 and lim.auth_required:
                    raise _ProtocolError("unauthenticated bulk length")
                self._pos = pos = cr + 2
                self._bulk_len = ll
            ll = self._bulk_len
            if len(buf) - pos < ll + 2:
                return False
            self._argv.append(bytes(buf[pos : pos + ll]))
            self._pos = pos + ll + 2  # like Redis, the CRLF after a bulk is skipped unchecked
            self._bulk_len = -1
            self._mb_left -= 1
        out.append(self._argv)
        self._argv = []
        return True


def scan_multibulk(data: bytes, pos: int, limit: int, max_bulk: int, aof: bool):
    """Up to `limit` complete commands from `pos` in canonical multibulk form (`*<n>\\r\\n`, then
    n times `$<len>\\r\\n<bytes>` and two bytes; counts and lengths decimal without sign or
    leading zeros, n >= 1, len <= max_bulk). It stops before anything else - a command cut off by
    the end of the data, any other form - which the caller's reference reader then takes. Returns
    (commands, end offsets, offset reached).

    A client's requests (aof False): the two bytes after a bulk are skipped unchecked, as Redis
    and hiredis do; no end offsets (None). Every request accepted is one the reference parser
    reads the same way (canonical form is a subset of what Redis accepts).
    An AOF (aof True, persistence/aof.py): the CRLF after each bulk must be there (the strict
    reader reports a file where it is not), `#` annotation lines are skipped, and each command's
    end offset is listed.

    A byte loop for the compiled build, where parser.pxd types its locals (a char pointer, C
    integers); the interpreted build uses hiredis instead (RequestParser.feed, aof.iter_batches)."""
    buf = data
    n = len(data)
    out = []
    ends = [] if aof else None
    count_out = 0
    while pos < n and count_out < limit:
        c = buf[pos]
        if c == 35 and aof:  # '#': an annotation line (aof-timestamp-enabled)
            p = pos + 1
            while p < n and buf[p] != 10:
                p += 1
            if p >= n:
                break
            pos = p + 1
            continue
        if c != 42:  # '*'
            break
        count, p = _decimal(buf, pos + 1, n)
        if p < 0 or count == 0 or count > INT_MAX:
            break
        argv = []
        i = 0
        while i < count:
            if p >= n or buf[p] != 36:  # '$'
                break
            ln, q = _decimal(buf, p + 1, n)
            if q < 0 or ln > max_bulk:
                break
            if q + ln + 2 > n or (aof and (buf[q + ln] != 13 or buf[q + ln + 1] != 10)):
                break
            argv.append(buf[q:q + ln])  # compiled: bytes straight from the char pointer
            p = q + ln + 2
            i += 1
        if i < count:
            break
        out.append(argv)
        if aof:
            ends.append(p)
        pos = p
        count_out += 1
    return out, ends, pos


def _decimal(buf, p: int, n: int):
    """The header number at p in canonical form - 1 to 18 digits, no leading zero - and the
    CRLF after it: (its value, the offset after the CRLF), or (0, -1)."""
    start = p
    v = 0
    while p < n and p - start < 19:
        c = buf[p]
        if c < 48 or c > 57:
            break
        v = v * 10 + (c - 48)
        p += 1
    d = p - start
    if d == 0 or d > 18 or (d > 1 and buf[start] == 48) or p + 1 >= n or buf[p] != 13 or buf[p + 1] != 10:
        return 0, -1
    return v, p + 2


# No limit on the number of commands / the size of a bulk (scan_multibulk's limit, max_bulk).
NO_LIMIT = 1 << 62

# The compiled build parses canonical requests with scan_multibulk; interpreted, hiredis's C
# reader is faster.
_COMPILED = not __file__.endswith(".py")


def _wire_size(reqs: list[list[bytes]]) -> int:
    """Bytes of `reqs` in canonical multibulk form: *N CRLF ($L CRLF data CRLF)*."""
    n = 0
    for req in reqs:
        n += 3 + len(str(len(req)))
        for a in req:
            la = len(a)
            n += 5 + la + len(str(la))
    return n


def _find_cr(buf: bytearray, pos: int) -> int:
    """strchr(buf + pos, '\\r'): -1 when a NUL comes first."""
    cr = buf.find(b"\r", pos)
    if cr > pos and buf.find(0, pos, cr) >= 0:
        return -1
    return cr


class _ProtocolError(Exception):
    pass
