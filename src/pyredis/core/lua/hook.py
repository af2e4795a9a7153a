"""The count hook and the Lua C API that lupa does not expose (through ctypes on lupa's own
Lua 5.1): lua_sethook / lua_yield / lua_getstack / lua_getinfo, the hook that answers for busy
scripts (yield to the event loop, raise the kill error), and which script is running.

API:
    init()                          once per process (idempotent)
    install_count_hook(ptr) / sethook(ptr, fn, mask, count) / gethook(ptr)
    verify_yield(ptr)               start-up check of the lua_State layout (enables yields)
    thread_addr(b"thread: 0x...")   -> the lua_State address
    RUNNING.run                     the ScriptRun executing Lua on this thread (or None)
    called_from_script(client)      Redis's CLIENT_SCRIPT: is the client's command a redis.call()?
    where(level)                    luaL_where of the running thread: b"user_script:1: "
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import TYPE_CHECKING

import lupa.lua51 as lua51

from . import bridge

if TYPE_CHECKING:
    from ..client import Client

HOOK_COUNT = 100000  # instructions between two looks at the clock
SLICE_S = 0.01  # a busy script runs in slices of this many seconds between event-loop turns
LOAD_TIMEOUT_S = 0.5  # FUNCTION LOAD's time limit for a library's top-level code

# --- ctypes access to the Lua C API of lupa's Lua 5.1 -----------------------------------
_LUA_MASKLINE = 4
_LUA_MASKCOUNT = 8
_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_lib = None
_sethook = None
_gethook = None
_yield = None
_hook_ptr = None  # our C hook (ctypes callback), as an address
_hook_cb = None
_can_yield = False  # lua_State layout verified: hook-driven yields enabled
_OFF_NCCALLS = 96
_OFF_BASECCALLS = 98
_OFF_HOOKMASK = 100
_OFF_BASEHOOKCOUNT = 104
# ScriptRun currently executing Lua, per thread (the hook looks it up here; embedded servers
# each run their own loop thread, and lupa may run Lua of different runtimes concurrently).
class _Running(threading.local):
    run = None


RUNNING = _Running()


def called_from_script(c: Client) -> bool:
    """Redis's CLIENT_SCRIPT flag: is `c`'s current command a redis.call() of a running script?"""
    run = RUNNING.run
    return run is not None and run.client is c


def init() -> None:
    global _lib, _sethook, _gethook, _yield, _hook_ptr, _hook_cb
    if _lib is not None:
        return
    lib = ctypes.CDLL(lua51.__file__)
    _sethook = lib.lua_sethook
    _sethook.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    _sethook.restype = ctypes.c_int
    _gethook = lib.lua_gethook
    _gethook.argtypes = [ctypes.c_void_p]
    _gethook.restype = ctypes.c_void_p
    _yield = lib.lua_yield
    _yield.argtypes = [ctypes.c_void_p, ctypes.c_int]
    _yield.restype = ctypes.c_int
    global _getstack, _getinfo
    _getstack = lib.lua_getstack
    _getstack.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    _getstack.restype = ctypes.c_int
    _getinfo = lib.lua_getinfo
    _getinfo.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    _getinfo.restype = ctypes.c_int
    bridge.WHERE[0] = where
    _hook_cb = _HOOK(_count_hook)
    _hook_ptr = ctypes.cast(_hook_cb, ctypes.c_void_p).value
    _lib = lib


class _LuaDebug(ctypes.Structure):
    _fields_ = [("event", ctypes.c_int), ("name", ctypes.c_char_p), ("namewhat", ctypes.c_char_p),
                ("what", ctypes.c_char_p), ("source", ctypes.c_char_p), ("currentline", ctypes.c_int),
                ("nups", ctypes.c_int), ("linedefined", ctypes.c_int), ("lastlinedefined", ctypes.c_int),
                ("short_src", ctypes.c_char * 60), ("i_ci", ctypes.c_int)]


_getstack = None
_getinfo = None


def where(level: int = 1) -> bytes:
    """luaL_where(L, level) for the running script's coroutine: b"user_script:1: " or b""."""
    run = RUNNING.run
    if run is None or not run.chain:
        return b""
    ar = _LuaDebug()
    L = run.chain[-1]  # noqa: N806
    if _getstack(L, level, ctypes.byref(ar)) and _getinfo(L, b"Sl", ctypes.byref(ar)):
        if ar.currentline > 0:
            return ar.short_src + b":%d: " % ar.currentline
    return b""


def _verify_layout(ptr: int) -> bool:
    """After lua_sethook(ptr, hook, MASKCOUNT, HOOK_COUNT): the struct fields must show it."""
    try:
        mask = ctypes.c_ubyte.from_address(ptr + _OFF_HOOKMASK).value
        count = ctypes.c_int.from_address(ptr + _OFF_BASEHOOKCOUNT).value
        return mask == _LUA_MASKCOUNT and count == HOOK_COUNT
    except Exception:  # pragma: no cover
        return False


def install_count_hook(ptr: int) -> None:
    """Our count hook on a lua_State, every HOOK_COUNT instructions."""
    _sethook(ptr, _hook_ptr, _LUA_MASKCOUNT, HOOK_COUNT)


def gethook(ptr: int) -> int:
    """The C hook installed on a lua_State (after debug.sethook: Lua's own dispatcher, hookf)."""
    return _gethook(ptr)


def verify_yield(ptr: int) -> None:
    """Once per process: check the lua_State offsets the hook reads (nCcalls, baseCcalls)
    against lua_sethook's effect; only then may the hook yield (busy scripts)."""
    global _can_yield
    if not _can_yield:
        _sethook(ptr, _hook_ptr, _LUA_MASKCOUNT, HOOK_COUNT)
        _can_yield = _verify_layout(ptr)
        _sethook(ptr, None, 0, 0)


def thread_addr(ptr: bytes) -> int:
    """The lua_State address in tostring(thread): b"thread: 0x55d0c0a0b2a8"."""
    return int(ptr[8:], 16)


def _count_hook(L, ar) -> None:  # noqa: N803  (called by Lua, on the loop thread)
    run = RUNNING.run
    if run is None:
        return
    chain = run.chain
    if not chain or L != chain[-1]:
        return  # not a thread of the running script
    if run.killed:
        # Lua's own hook dispatcher + the preregistered killer: raises at every line of this
        # thread, as Redis switches the lua_State its hook fired in to a line hook.
        _sethook(L, run.engine.hookf, _LUA_MASKLINE, 0)
        return
    if not _can_yield:
        return
    now = time.monotonic()
    if run.deferred:
        if now - run.slice_start < SLICE_S:
            return
    elif run.loading:
        if now - run.t0 > LOAD_TIMEOUT_S:
            run.killed = True
            _sethook(L, run.engine.hookf, _LUA_MASKLINE, 0)
        return
    elif not run.may_defer or now - run.t0 < run.threshold:
        return
    # A yield must travel from L up to step(): every thread of the chain must be in Lua code
    # with no C call (metamethod, table.sort comparator, ...) between it and its base.
    for T in chain:  # noqa: N806
        if ctypes.c_ushort.from_address(T + _OFF_NCCALLS).value > ctypes.c_ushort.from_address(T + _OFF_BASECCALLS).value:
            return
    run.hook_yielded = True
    _yield(L, 0)
