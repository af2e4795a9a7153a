"""The libraries Redis bundles for scripts, written for pyredis (lupa's Lua 5.1 has none of
them): cjson, cmsgpack, bit, struct (lib_*.py), assembled into Lua tables by libs.lua.
Behaviour and error texts follow the libraries Redis 7.0 ships (lua-cjson 2.1, lua-cmsgpack
0.4, LuaBitOp 1.0, Roberto's struct).

API:
    make_libs(rt, on_bug) -> {b"cjson": table, ..., "_null": cjson.null, "_unproxy": box}
"""

from __future__ import annotations

from pathlib import Path

from .bridge import checked, lua_callable, raise_str
from .lib_bit import BIT
from .lib_cjson import make_decode, make_encode
from .lib_cmsgpack import make_mp_unpack, mp_pack
from .lib_struct import struct_pack, struct_size, struct_unpack

_LIBS_LUA = (Path(__file__).parent / "libs.lua").read_text()


def make_libs(rt, on_bug=None) -> dict:
    """Build the library tables in runtime rt; returns {name: table, '_null': cjson.null}.
    Every Python function is exposed through lua_callable (see there why)."""
    _decode = [None]
    _encode = [None]

    def decode(*args):
        return _decode[0](*args)

    def encode(*args):
        return _encode[0](*args)

    mp_unpack = make_mp_unpack(rt, "unpack", "all")
    mp_one = make_mp_unpack(rt, "unpack_one", "one")
    mp_limit = make_mp_unpack(rt, "unpack_limit", "limit")

    def multi(f):
        def g(*args):
            r = f(*args)
            if not r[0]:
                raise_str(r[1])
            return tuple(r[1][i] for i in range(1, r[2] + 1))
        return g

    def st_unpack(*args):
        r = struct_unpack(*args)
        if not r[0]:
            raise_str(r[1])
        return tuple(r[1])

    def lc(f):
        return lua_callable(f, on_bug)

    pyt = rt.table_from({
        b"bit": rt.table_from({k.encode(): lc(checked(v)) for k, v in BIT.items()}),
        b"decode": lc(decode),
        b"encode": lc(encode),
        b"mp_pack": lc(checked(mp_pack)),
        b"mp_unpack": lc(multi(mp_unpack)),
        b"mp_unpack_one": lc(multi(mp_one)),
        b"mp_unpack_limit": lc(multi(mp_limit)),
        b"st_pack": lc(checked(struct_pack)),
        b"st_unpack": lc(st_unpack),
        b"st_size": lc(checked(struct_size)),
    })
    tables, null = rt.execute(_LIBS_LUA, pyt)
    _decode[0] = checked(make_decode(rt, null))
    unproxy_box = [lambda t: t]
    _encode[0] = make_encode(rt.eval("function(n) return function(v) return v == n end end")(null), unproxy_box)
    out = {(k if isinstance(k, bytes) else str(k).encode()): v for k, v in tables.items()}
    out["_null"] = null
    out["_unproxy"] = unproxy_box
    return out
