"""A minimal raw RESP2/RESP3 client for tests: exact replies with their RESP types.

Replies are decoded to Python values that keep the RESP3 type visible:
    bulk/simple -> bytes (simple strings as Status), integer -> int, null -> None,
    array -> list, map -> Map (a dict subclass), set -> RSet (a frozenset subclass when
    hashable, list otherwise), double -> Double, boolean -> bool, big number -> Big,
    verbatim -> Verbatim, push -> Push, error -> Err (never raised).
"""

from __future__ import annotations

import socket


class Status(bytes):
    def __repr__(self) -> str:
        return f"Status({bytes(self)!r})"


class Err(bytes):
    def __repr__(self) -> str:
        return f"Err({bytes(self)!r})"


class Double(float):
    def __repr__(self) -> str:
        return f"Double({float(self)!r})"


class Big(int):
    pass


class Verbatim(bytes):
    pass


class Map(dict):
    pass


class RSet(list):
    """A RESP3 set, kept in server order; compare with sorted_() when order is arbitrary."""


class Push(list):
    pass


class NullArray:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, NullArray)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "NullArray"


def encode_command(args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int | float):
            a = repr(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


class RawClient:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args):
        self.send(encode_command(args))
        return self.read()

    def _fill(self) -> None:
        d = self.sock.recv(1 << 16)
        if not d:
            raise ConnectionError("connection closed")
        self.buf += d

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2 :]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2 :]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest)
        if t == b"-":
            return Err(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return NullArray() if n < 0 else [self.read() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            m = Map()
            for _ in range(n):
                k = self.read()
                m[_hashable(k)] = self.read()
            return m
        if t == b"~":
            return RSet(self.read() for _ in range(int(rest)))
        if t == b">":
            return Push(self.read() for _ in range(int(rest)))
        if t == b"_":
            return None
        if t == b",":
            return Double(float(rest))
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return Big(int(rest))
        if t == b"=":
            return Verbatim(self._exact(int(rest)))
        if t == b"|":
            n = int(rest)
            for _ in range(2 * n):
                self.read()
            return self.read()
        raise ValueError(f"bad reply line {line!r}")

    def read_raw_available(self, timeout: float = 0.5) -> bytes:
        """Whatever bytes arrive within `timeout` (for protocol-error tests)."""
        self.sock.settimeout(timeout)
        out = self.buf
        self.buf = b""
        try:
            while True:
                d = self.sock.recv(1 << 16)
                if not d:
                    break
                out += d
        except (TimeoutError, socket.timeout):
            pass
        except ConnectionResetError:
            pass
        return out


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return v


def normalize(v):
    """Order-insensitive form of a reply (for sets, KEYS, SMEMBERS, HGETALL in RESP2...)."""
    if isinstance(v, RSet | list):
        items = [normalize(x) for x in v]
        return ("unordered", tuple(sorted(items, key=repr)))
    if isinstance(v, Map):
        return ("map", tuple(sorted(((repr(k), normalize(x)) for k, x in v.items()))))
    return v
