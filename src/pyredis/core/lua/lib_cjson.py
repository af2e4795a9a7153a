"""cjson: lua-cjson 2.1 as Redis 7.0 bundles it: decode (a strict tokenizer with the
library's error texts and its 1000-level nesting limit) and encode (its number formatting,
sparse-array and nesting rules).

API: make_decode(rt, null), make_encode(is_null, unproxy_box).
"""

from __future__ import annotations

import math
import sys

from lupa.lua51 import lua_type

from .bridge import argerr, fmt14, raise_str, tname

# --- cjson.decode -------------------------------------------------------------------------------
class _JsonError(Exception):
    pass


_WS = b" \t\n\r"
_PUNCT_TOKENS = {0x7B: "T_OBJ_BEGIN", 0x7D: "T_OBJ_END", 0x5B: "T_ARR_BEGIN", 0x5D: "T_ARR_END",
                 0x3A: "T_COLON", 0x2C: "T_COMMA"}
_NUM_CHARS = frozenset(b"0123456789+-.eE")


class _JsonParser:
    def __init__(self, s: bytes, null, table_from) -> None:
        self.s = s
        self.i = 0
        self.null = null
        self.tf = table_from
        self.depth = 0

    def err(self, exp: str, found: str, idx: int):
        raise _JsonError("Expected %s but found %s at character %d" % (exp, found, idx + 1))

    def token(self):
        """(type, value, index)"""
        s = self.s
        n = len(s)
        i = self.i
        while i < n and s[i] in _WS:
            i += 1
        self.i = i
        if i >= n:
            return "T_END", None, i
        ch = s[i]
        tok = _PUNCT_TOKENS.get(ch)
        if tok is not None:
            self.i = i + 1
            return tok, None, i
        if ch == 0x22:
            return self.string(i)
        if ch == 0x2D or 0x30 <= ch <= 0x39:
            return self.number(i)
        if s.startswith(b"true", i):
            self.i = i + 4
            return "T_BOOLEAN", True, i
        if s.startswith(b"false", i):
            self.i = i + 5
            return "T_BOOLEAN", False, i
        if s.startswith(b"null", i):
            self.i = i + 4
            return "T_NULL", None, i
        return "T_ERROR", "invalid token", i

    def number(self, i):
        s = self.s
        j = i
        n = len(s)
        while j < n and s[j] in _NUM_CHARS:
            j += 1
        text = s[i:j]
        # decode_invalid_numbers is on by default: strtod decides (leading zeros, hex...)
        body = text[1:] if text[:1] == b"-" else text
        if body[:2] in (b"0x", b"0X"):
            k = i + len(text) - len(body) + 2
            while k < n and s[k:k + 1] in b"0123456789abcdefABCDEF.pP+-":
                k += 1
            try:
                v = float.fromhex(s[i:k].decode())
                self.i = k
                return "T_NUMBER", v, i
            except ValueError:
                pass
        try:
            v = float(text)
        except ValueError:
            # strtod takes the longest valid prefix
            k = len(text)
            v = None
            while k > 0:
                try:
                    v = float(text[:k])
                    break
                except ValueError:
                    k -= 1
            if v is None:
                return "T_ERROR", "invalid number", i
            j = i + k
        self.i = j
        return "T_NUMBER", v, i

    def string(self, i):
        s = self.s
        n = len(s)
        j = i + 1
        out = bytearray()
        while True:
            if j >= n:
                return "T_ERROR", "unexpected end of string", j
            ch = s[j]
            if ch == 0x22:
                break
            if ch == 0x5C:
                if j + 1 >= n:
                    return "T_ERROR", "unexpected end of string", j
                e = s[j + 1]
                if e == 0x75:
                    cp, k = self._unicode(j)
                    if cp is None:
                        return "T_ERROR", "invalid unicode escape code", j
                    out += chr(cp).encode("utf-8", "surrogatepass")
                    j = k
                    continue
                m = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\b", 0x66: b"\f", 0x6E: b"\n",
                     0x72: b"\r", 0x74: b"\t"}.get(e)
                if m is None:
                    return "T_ERROR", "invalid escape code", j
                out += m
                j += 2
                continue
            out.append(ch)
            j += 1
        self.i = j + 1
        return "T_STRING", bytes(out), i

    def _unicode(self, j):
        s = self.s

        def hex4(p):
            h = s[p:p + 4]
            if len(h) != 4:
                return None
            try:
                return int(h, 16)
            except ValueError:
                return None
        cp = hex4(j + 2)
        if cp is None:
            return None, j
        k = j + 6
        if 0xD800 <= cp <= 0xDBFF:
            if s[k:k + 2] != b"\\u":
                return None, j
            lo = hex4(k + 2)
            if lo is None or not 0xDC00 <= lo <= 0xDFFF:
                return None, j
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
            k += 6
        elif 0xDC00 <= cp <= 0xDFFF:
            return None, j
        return cp, k

    def value(self, tok):
        t, v, idx = tok
        if t == "T_OBJ_BEGIN":
            return self.obj(idx)
        if t == "T_ARR_BEGIN":
            return self.arr(idx)
        if t in ("T_STRING", "T_NUMBER", "T_BOOLEAN"):
            return v
        if t == "T_NULL":
            return self.null
        self.err("value", v if t == "T_ERROR" else t, idx)

    def _nest(self, idx):
        self.depth += 1
        if self.depth > 1000:
            raise _JsonError("Found too many nested data structures (%d) at character %d" % (self.depth, idx + 1))

    def obj(self, idx):
        self._nest(idx)
        t = self.tf()
        tok = self.token()
        if tok[0] == "T_OBJ_END":
            self.depth -= 1
            return t
        while True:
            if tok[0] != "T_STRING":
                self.err("object key string", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            key = tok[1]
            tok = self.token()
            if tok[0] != "T_COLON":
                self.err("colon", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            t[key] = self.value(self.token())
            tok = self.token()
            if tok[0] == "T_OBJ_END":
                self.depth -= 1
                return t
            if tok[0] != "T_COMMA":
                self.err("comma or object end", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            tok = self.token()

    def arr(self, idx):
        self._nest(idx)
        t = self.tf()
        tok = self.token()
        if tok[0] == "T_ARR_END":
            self.depth -= 1
            return t
        i = 1
        while True:
            t[i] = self.value(tok)
            i += 1
            tok = self.token()
            if tok[0] == "T_ARR_END":
                self.depth -= 1
                return t
            if tok[0] != "T_COMMA":
                self.err("comma or array end", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            tok = self.token()


def make_decode(rt, null):
    tf = rt.table

    def decode(*args):
        if len(args) != 1:
            return False, "bad argument #1 to 'decode' (expected 1 argument)"
        s = args[0]
        if isinstance(s, (int, float)) and not isinstance(s, bool):
            s = fmt14(float(s))
        if not isinstance(s, bytes):
            return argerr(1, "decode", "string expected, got " + tname(s))
        p = _JsonParser(s, null, tf)
        limit = sys.getrecursionlimit()
        if limit < 8000:
            sys.setrecursionlimit(8000)  # 1000 nesting levels, a few frames each
        try:
            v = p.value(p.token())
            tok = p.token()
            if tok[0] != "T_END":
                p.err("the end", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
        except _JsonError as e:
            return False, str(e)
        finally:
            if limit < 8000:
                sys.setrecursionlimit(limit)
        return True, v
    return decode


_JSON_ESC = {0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n",
             0x0D: b"\\r", 0x09: b"\\t", 0x7F: b"\\u007f"}
for _i in range(32):
    _JSON_ESC.setdefault(_i, b"\\u%04x" % _i)
_JSON_TRANS = [(_JSON_ESC.get(_i) or bytes([_i])) for _i in range(256)]


def _json_str(s: bytes, out: list) -> None:
    for ch in s:
        if ch < 0x20 or ch in (0x22, 0x5C, 0x2F, 0x7F):
            break
    else:
        out.append(b'"' + s + b'"')
        return
    out.append(b'"' + b"".join([_JSON_TRANS[c] for c in s]) + b'"')


def _json_num(x) -> bytes:
    if isinstance(x, float) and not math.isfinite(x):
        raise _JsonError("Cannot serialise number: must not be NaN or Inf")
    return b"%.14g" % x


def make_encode(is_null, unproxy_box):
    def enc(v, depth, out):
        if isinstance(v, bytes):
            _json_str(v, out)
        elif v is True:
            out.append(b"true")
        elif v is False:
            out.append(b"false")
        elif isinstance(v, (int, float)):
            out.append(_json_num(v))
        elif v is None:
            out.append(b"null")
        else:
            lt = lua_type(v)
            if lt == "userdata" and is_null(v):
                out.append(b"null")
                return
            if lt is None and callable(v):
                lt = "function"
            if lt != "table":
                raise _JsonError("Cannot serialise %s: type not supported" % (lt or "userdata"))
            v = unproxy_box[0](v)
            depth += 1
            if depth > 1000:
                raise _JsonError("Cannot serialise, excessive nesting (%d)" % depth)
            items = list(v.items())
            mx = 0
            is_array = True
            for k, _x in items:
                if isinstance(k, (int, float)) and not isinstance(k, bool) and k >= 1 and k == int(k):
                    if k > mx:
                        mx = int(k)
                else:
                    is_array = False
                    break
            if is_array and mx > 0:
                if mx > 10 and mx > len(items) * 2:
                    raise _JsonError("Cannot serialise table: excessively sparse array")
                d = dict(items)
                out.append(b"[")
                for i in range(1, mx + 1):
                    if i > 1:
                        out.append(b",")
                    enc(d.get(i), depth, out)
                out.append(b"]")
                return
            out.append(b"{")
            first = True
            for k, x in items:
                if not first:
                    out.append(b",")
                first = False
                if isinstance(k, bytes):
                    _json_str(k, out)
                elif isinstance(k, (int, float)) and not isinstance(k, bool):
                    out.append(b'"' + _json_num(k) + b'"')
                else:
                    raise _JsonError("Cannot serialise %s: table key must be a number or string" % tname(k))
                out.append(b":")
                enc(x, depth, out)
            out.append(b"}")

    def encode(*args):
        if len(args) != 1:
            raise_str("bad argument #1 to 'encode' (expected 1 argument)")
        out: list = []
        limit = sys.getrecursionlimit()
        if limit < 8000:
            sys.setrecursionlimit(8000)
        try:
            enc(args[0], 0, out)
        except _JsonError as e:
            raise_str(str(e))
        finally:
            if limit < 8000:
                sys.setrecursionlimit(limit)
        return b"".join(out)
    return encode
