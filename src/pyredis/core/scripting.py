"""The Lua engine of EVAL and FUNCTION: Lua 5.1 through lupa (`lupa.lua51`, the Lua version
Redis embeds; the installed lupa wheel provides it), a Redis-like sandbox, redis.call/pcall
run through core/dispatch (resolve() + call() with the calling client as context), the
conversions between Lua values and replies (RESP2 and redis.setresp(3)), and busy scripts.
The libraries Redis bundles (cjson, cmsgpack, bit, struct) are ours, in scripting_libs.py.

Two Lua states, as in Redis: one for EVAL scripts, one for function libraries.

Sandbox: scripts see a read-only proxy of the globals (new globals and writes to library
tables raise "Attempt to modify a readonly table", unknown globals raise "Script attempted
to access nonexistent global variable"); pairs/next/rawget/rawset/setmetatable see through
the proxies. Functions exposed to scripts are Python callables (for Lua they are C
functions: a call in tail position keeps the caller's frame, so error positions such as
"@user_script:1" are right); type()/tostring() report them as functions. Errors raised by
them are Python exceptions carried by Lua as userdata and unwrapped by pcall/xpcall and by
the reply code.

Busy scripts without threads. Every script runs as a Lua coroutine. A count hook (a C hook
installed with ctypes on the coroutine's lua_State, every HOOK_COUNT instructions) looks at
the time; once the script ran past `busy-reply-threshold` the hook yields the coroutine with
lua_yield (Lua 5.1 allows a C count hook to yield). The EVAL/FCALL handler then returns a
Blocked marker (core/blocking): the calling client waits like a blocked client, a BUSY gate
in dispatch.EXTRA_GATES answers everybody else (only allow_busy commands pass: SCRIPT KILL,
FUNCTION KILL/STATS, SHUTDOWN, MULTI...), and the event loop resumes the coroutine in slices
of SLICE_S seconds until it ends. Everything runs on the loop thread, so redis.call never
races with other commands and time stays frozen for the script.
pcall and xpcall of a Lua function, and the coroutines a script makes, run in coroutines of
their own, all resumed through one Lua resume() that tells Python the chain of running
threads (ScriptRun.chain, outermost first). The hook yields only when that yield can travel
up to the script's step(): no C call (L->nCcalls above L->baseCcalls; offsets verified at
start-up against lua_sethook's effect) on any thread of the chain; each resume() that sees
its coroutine come back suspended by the hook yields in turn, and resumes it again later.
Metamethods, table.sort comparators, string.gsub callbacks and generic-for iterator functions
are C calls: a busy loop inside them is not interrupted until it leaves them.
SCRIPT KILL sets a flag; the next hook switches the running thread to a line hook (Lua's own
debug hook dispatcher, preregistered with debug.sethook on every thread the script runs)
whose Lua function raises the kill error at every line, so pcall cannot swallow it, as in
Redis. Scripts run inside MULTI/EXEC (or with no event loop) are never deferred: they run to
completion.

Lua values and lupa (never crash). lupa binds each Lua value it hands to Python to the
lua_State it came through; for a call made inside a coroutine that state is freed with the
coroutine, and a Python wrapper that outlives it touches freed memory (lupa issue #84: the
segfault in FUNCTION FLUSH). Hence: every Python function Lua can call goes through
scripting_libs.lua_callable (errors leave as fresh exceptions that hold no argument), values
kept beyond a call are re-bound to the main state (LuaEngine.anchor: register_function's
callbacks), and replies are converted without recursion with Redis's Lua stack limit
(LuaEngine._convert: a self-referencing table gets Redis's nested reply ending in "reached
lua stack limit", not a Python RecursionError).
Known difference: coroutine.resume and the functions coroutine.wrap returns are Lua functions
(the hook's yields must pass through them), so a tail call to them (`return f()`) loses the
caller's position in their error messages, which Lua's C versions keep.

Effects: the writes of a script are propagated as the commands it ran, wrapped in
MULTI/EXEC when there are several (redis.set_repl(redis.REPL_NONE) suspends it).

API:
    eng = engine(state)                # the eval engine (state.lua)
    feng = function_engine(state)      # the functions engine
    eng.compile_script(body) -> (sha, entry)  /  eng.scripts[sha]
    eng.run(ctx, entry, keys, args, name=sha, ro=...) -> reply | Blocked
    current_run(state) -> ScriptRun | None   (the running script, for SCRIPT KILL / FUNCTION STATS)
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
import time
from typing import TYPE_CHECKING

import lupa.lua51 as lua51  # Lua 5.1, as embedded by Redis (lupa ships it as lupa.lua51)

from ..version import REDIS_VERSION, REDIS_VERSION_NUM as _VERSION_NUM
from ..errors import CommandError
from ..protocol.encoder import format_double
from ..protocol.replies import (
    NULL_ARRAY,
    BigNumber,
    Boolean,
    Deep,
    Double,
    ErrorReply,
    MapPairs,
    MultiReply,
    Push,
    SetReply,
    Simple,
    Verbatim,
    VerbatimFormatted,
)
from . import scripting_libs as libs
from .scripting_libs import LuaRaise, lua_callable, raise_str

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState

lua_type = lua51.lua_type

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
KILL_MSG = "ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT_MSG = "ERR FUNCTION LOAD timeout"
LOAD_TIMEOUT_S = 0.5
HOOK_COUNT = 100000
# Converting a script's reply: Lua's C stack limit as Redis meets it (see LuaEngine._convert).
_LUA_MAXCSTACK = 8000
_TOP_SLOTS = 2
_STACK_LIMIT = b"ERR reached lua stack limit"
_DEEP_SLOTS = 200  # past this, the reply is handed to the encoder as Deep (no recursion)
SLICE_S = 0.01

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


_running = _Running()


def called_from_script(c: Client) -> bool:
    """Redis's CLIENT_SCRIPT flag: is `c`'s current command a redis.call() of a running script?"""
    run = _running.run
    return run is not None and run.client is c


def _init_ctypes() -> None:
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
    libs.WHERE[0] = _where
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


def _where(level: int = 1) -> bytes:
    """luaL_where(L, level) for the running script's coroutine: b"user_script:1: " or b""."""
    run = _running.run
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


def _thread_addr(ptr: bytes) -> int:
    """The lua_State address in tostring(thread): b"thread: 0x55d0c0a0b2a8"."""
    return int(ptr[8:], 16)


def _count_hook(L, ar) -> None:  # noqa: N803  (called by Lua, on the loop thread)
    run = _running.run
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


# --- the Lua side ------------------------------------------------------------------------
_BOOT = r"""
local py, KIND = ...
local _rawget, _rawset, _setmetatable, _getmetatable, _type, _error, _select, _tostring, _next, _pcall, _unpack, _setfenv, _loadstring, _load, _ipairs =
      rawget, rawset, setmetatable, getmetatable, type, error, select, tostring, next, pcall, unpack, setfenv, loadstring, load, ipairs
local dbg = debug
local co_create, co_resume, co_status, co_running, co_yield = coroutine.create, coroutine.resume, coroutine.status, coroutine.running, coroutine.yield
local READONLY = "Attempt to modify a readonly table"
local BOOT_SRC = dbg.getinfo(1, 'S').source

local real_of = _setmetatable({}, {__mode = 'k'})
local function ro_newindex() _error(READONLY, 2) end
local function protect(real)
  local p = _setmetatable({}, {__index = real, __newindex = ro_newindex, __metatable = {}})
  real_of[p] = real
  return p
end
local function copy(t) local r = {} for k, v in _next, t do r[k] = v end return r end
local function nonexistent(t, k) _error("Script attempted to access nonexistent global variable '" .. _tostring(k) .. "'", 2) end

local function argerr(n, fname, msg) _error("bad argument #" .. n .. " to '" .. fname .. "' (" .. msg .. ")", 3) end
local function typename(v) if v == nil then return 'no value' end return _type(v) end

-- base library, proxy-aware where it matters
local S = {}
S.assert = assert; S.collectgarbage = collectgarbage; S.error = error; S.gcinfo = gcinfo
S.rawequal = rawequal; S.select = select; S.tonumber = tonumber; S.tostring = tostring; S.type = type
S.unpack = unpack; S.xpcall = xpcall; S._VERSION = _VERSION
S.getmetatable = getmetatable
S.next = function(t, k)
  local r = real_of[t]
  if r then return _next(r, k) end
  return _next(t, k)
end
local s_next = S.next
S.pairs = function(t)
  if _type(t) ~= 'table' then argerr(1, 'pairs', 'table expected, got ' .. typename(t)) end
  return s_next, t, nil
end
S.ipairs = function(t)
  if _type(t) ~= 'table' then argerr(1, 'ipairs', 'table expected, got ' .. typename(t)) end
  return _ipairs(real_of[t] or t)
end
S.rawget = function(t, k)
  if _type(t) ~= 'table' then argerr(1, 'rawget', 'table expected, got ' .. typename(t)) end
  return _rawget(real_of[t] or t, k)
end
S.rawset = py.rawset
S.setmetatable = py.setmetatable
local G  -- the protected globals every script sees
S.loadstring = function(s, name)
  local f, e = _loadstring(s, name)
  if f then _setfenv(f, G) end
  return f, e
end
S.load = function(fn, name)
  local f, e = _load(fn, name)
  if f then _setfenv(f, G) end
  return f, e
end
-- pcall turns error tables into their err string (Redis 7.0 luaRedisPcall)
local unwrap = py.unwrap
local function pcall_fix(ok, ...)
  if ok then return ok, ... end
  local e = unwrap((...))
  if _type(e) == 'table' then
    local s = e.err
    local ts = _type(s)
    if ts == 'string' or ts == 'number' then return false, s end
  end
  return false, e
end
local _xpcall = xpcall
local s_xpcall
S.xpcall = function(...)
  if _select('#', ...) < 2 then argerr(2, 'xpcall', 'value expected') end
  return s_xpcall(...)
end

-- coroutines: the script's main body is itself a coroutine, hide it
local current_co = nil
-- pcall of a Lua function runs in a coroutine of its own, so that the count hook can still
-- yield (busy scripts keep the server answering inside pcall): these are "internal"
local internal = _setmetatable({}, {__mode = 'k'})
local py_reg, py_push, py_pop, py_hook_yielding = py.reg_thread, py.push_thread, py.pop_thread, py.hook_yielding
local killer, s_pcall
-- Threads hooked during the current run (thread -> its address text): the kill hook and the
-- count hook are set on each; their entries in debug's hook table (keyed by address, never
-- collected) are dropped when the run ends.
local hooked = {}
local function hook_thread(c)
  dbg.sethook(c, killer, 'l')
  local ptr = _tostring(c)
  py_reg(ptr)  -- the count hook back on c (debug.sethook replaced it)
  hooked[c] = ptr
  return ptr
end
local function unhook_all()
  for c in _next, hooked do dbg.sethook(c) end
  hooked = {}
end
-- resume(c, ...): resume an internal or a script-made coroutine. Python keeps the chain of
-- resumed threads, so the count hook yields only when the yield can travel up to step()
-- (no C call in between on any of them); a resume that comes back from such a yield passes
-- it up, then resumes c again where the hook stopped it.
local function resumed(c, ptr, ok, ...)
  py_pop()
  local st = co_status(c)
  if st == 'suspended' and py_hook_yielding() then
    co_yield()
    py_push(ptr)
    return resumed(c, ptr, co_resume(c))
  end
  if st == 'dead' then dbg.sethook(c) hooked[c] = nil end
  return ok, ...
end
local function resume(c, ...)
  local ptr = hooked[c] or hook_thread(c)
  py_push(ptr)
  return resumed(c, ptr, co_resume(c, ...))
end
local function pcall_done(c, ok, ...)
  if ok then return true, ... end
  return pcall_fix(false, ...)
end
S.pcall = function(...)
  if _select('#', ...) == 0 then return false, 'attempt to call a boolean value' end  -- as luaRedisPcall
  return s_pcall(...)
end
s_pcall = function(f, ...)
  if current_co == nil or _type(f) ~= 'function' or dbg.getinfo(f, 'S').what == 'C' then
    return pcall_fix(_pcall(f, ...))
  end
  local c = co_create(function(...) return f(...) end)
  internal[c] = true
  return pcall_done(c, resume(c, ...))
end

-- xpcall of a Lua function runs in an internal coroutine too; the handler is called once the
-- coroutine has died rather than on top of the failing frame (scripts have no debug library,
-- so nothing can tell), with Lua's "error in error handling" when the handler fails.
local function xpcall_done(h, ok, ...)
  if ok then return true, ... end
  local hok, r = _pcall(h, unwrap((...)))
  if hok then return false, r end
  return false, 'error in error handling'
end
s_xpcall = function(f, h)
  if _type(h) ~= 'function' then return _xpcall(f, h) end
  if current_co == nil or _type(f) ~= 'function' or dbg.getinfo(f, 'S').what == 'C' then
    return _xpcall(f, function(e) return h(unwrap(e)) end)
  end
  local c = co_create(function() return f() end)
  internal[c] = true
  return xpcall_done(h, resume(c))
end

local co = copy(coroutine)
local function resume_fix(ok, ...)
  if ok then return ok, ... end
  return false, unwrap((...))
end
-- create and wrap check their argument in Python (a C function for Lua: the error has the
-- caller's position even after `return coroutine.create(x)`); resume and the function wrap
-- returns are Lua, so that the hook's yields travel through them. A tail call to those two
-- loses the caller's position in their errors, where Lua's C versions keep it.
local function is_lua_function(f) return _type(f) == 'function' and dbg.getinfo(f, 'S').what ~= 'C' end
-- coroutine.create for Python: lupa hands an unstarted thread to Python as its function, so
-- the thread starts at once and waits for its first resume, which brings f's arguments.
local function user_co_create(f)
  local c = co_create(function() return f(co_yield()) end)
  co_resume(c)
  return c
end
local function make_wrap(f)
  local c = co_create(f)
  return function(...)
    local r = {n = 0}
    local function keep(...) r.n = _select('#', ...); for i = 1, r.n do r[i] = (_select(i, ...)) end end
    keep(resume_fix(resume(c, ...)))
    if r[1] then return _unpack(r, 2, r.n) end
    local e = r[2]
    local te = _type(e)
    if te == 'string' or te == 'number' then _error(e, 2) end  -- as auxwrap: with the position
    _error(e, 0)
  end
end
co.create = py.co_create
co.wrap = py.co_wrap
co.resume = function(c, ...)
  if _type(c) ~= 'thread' then argerr(1, 'resume', 'coroutine expected') end
  return resume_fix(resume(c, ...))
end
co.running = function()
  local c = co_running()
  if c == current_co or internal[c] then return nil end
  return c
end
co.yield = function(...)
  local c = co_running()
  if c == current_co or internal[c] then _error("attempt to yield across metamethod/C-call boundary", 0) end
  return co_yield(...)
end
S.coroutine = protect(co)

local str = copy(string)
if not str.gfind then str.gfind = string.gmatch end
S.string = protect(str)
local mth = copy(math)
if not mth.mod then mth.mod = math.fmod end
mth.random = py.random
mth.randomseed = py.randomseed
S.math = protect(mth)
local tbl = copy(table)
S.table = protect(tbl)
for name, lib in _next, py.libs do S[name] = protect(lib) end

-- the redis table: Python callables (C functions for Lua: a call keeps the caller's frame)
local R = {}
for _, name in _ipairs({'call', 'pcall', 'error_reply', 'status_reply', 'sha1hex', 'log', 'setresp',
                        'set_repl', 'acl_check_cmd', 'replicate_commands', 'breakpoint', 'debug'}) do
  R[name] = py[name]
end
R.LOG_DEBUG = 0; R.LOG_VERBOSE = 1; R.LOG_NOTICE = 2; R.LOG_WARNING = 3
R.REPL_NONE = 0; R.REPL_AOF = 1; R.REPL_SLAVE = 2; R.REPL_REPLICA = 2; R.REPL_ALL = 3
R.REDIS_VERSION = py.version; R.REDIS_VERSION_NUM = py.version_num
S.redis = protect(R)

if KIND == 'eval' then
  S.__redis__err__handler = function(err)
    local i = dbg.getinfo(2, 'nSl')
    if i and i.what == 'C' then i = dbg.getinfo(3, 'nSl') end
    if _type(err) ~= 'table' then err = {err = 'ERR ' .. _tostring(err)} end
    if i then err['source'] = i.source; err['line'] = i.currentline end
    return err
  end
end

-- Python callables exposed as library functions look like C functions to scripts
local pyfuncs = _setmetatable({}, {__mode = 'k'})
local cjnull = py.libs.cjson.null
local function mark(t) for _, v in _next, t do if _type(v) == 'userdata' and v ~= cjnull then pyfuncs[v] = true end end end
for _, t in _next, {R, mth, S, co, py.libs.bit, py.libs.cjson, py.libs.cmsgpack, py.libs.struct} do mark(t) end
pyfuncs[py.register] = true
S.type = function(...)
  if _select('#', ...) == 0 then argerr(1, 'type', 'value expected') end
  local v = ...
  if pyfuncs[v] then return 'function' end
  return _type(v)
end
S.tostring = function(...)
  if _select('#', ...) == 0 then argerr(1, 'tostring', 'value expected') end
  local v = ...
  if pyfuncs[v] then return 'function: builtin: ' .. _tostring(v):sub(11) end
  return _tostring(v)
end

local G_mt = {__index = S, __newindex = ro_newindex, __metatable = {}}
G = _setmetatable({}, G_mt)
real_of[G] = S
S._G = G
_setmetatable(S, {__index = nonexistent})

-- load-time environment of function libraries
local LR = {log = R.log, LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
            REDIS_VERSION = R.REDIS_VERSION, REDIS_VERSION_NUM = R.REDIS_VERSION_NUM}
LR.register_function = py.register
_setmetatable(LR, {__index = nonexistent})
local LS = {redis = protect(LR)}
_setmetatable(LS, {__index = nonexistent})
R.register_function = nil

local function set_loading(on)
  if on then G_mt.__index = LS; real_of[G] = LS else G_mt.__index = S; real_of[G] = S end
end

local function where(c)
  local level = 0
  while true do
    local i = dbg.getinfo(c, level, 'Sl')
    if not i then return nil, nil end
    if i.what ~= 'C' and i.what ~= 'tail' and i.source ~= BOOT_SRC then return i.source, i.currentline end
    level = level + 1
  end
end

killer = function() _error(py.killmsg()) end

local function pack(...) return {n = _select('#', ...), ...} end

-- start(f, is_eval, keys, args): a coroutine running the script, its step function, its lua_State
local function start(f, keys, args, is_eval)
  local c
  if keys == nil then
    c = co_create(f)
  elseif is_eval then
    _rawset(S, 'KEYS', keys); _rawset(S, 'ARGV', args)
    c = co_create(f)
  else
    c = co_create(function() return f(keys, args) end)
  end
  unhook_all()
  dbg.sethook(c, killer, 'l')
  local function step()
    local prev = current_co
    current_co = c
    local ok, r = co_resume(c)
    current_co = prev
    if co_status(c) == 'suspended' then return 1 end
    if ok then dbg.sethook(c) unhook_all() return 0, r end
    local src, line = where(c)
    dbg.sethook(c)
    unhook_all()
    return 2, r, src, line
  end
  return step, _tostring(c)
end

local function compile(body, chunkname)
  local f, e = _loadstring(body, chunkname)
  if not f then return nil, e end
  _setfenv(f, G)
  return f
end

local function set_keys(keys, args) _rawset(S, 'KEYS', keys); _rawset(S, 'ARGV', args) end

-- classify a Lua table returned by a script (Redis's luaReplyToRedisReply)
local function classify(t)
  local v = _rawget(t, 'err')
  if _type(v) == 'string' then return 'err', v, _rawget(t, 'ignore_error_stats_update') end
  v = _rawget(t, 'ok')
  if _type(v) == 'string' then return 'ok', v end
  v = _rawget(t, 'double')
  if _type(v) == 'number' then return 'double', v end
  v = _rawget(t, 'big_number')
  if _type(v) == 'string' then return 'big_number', v end
  v = _rawget(t, 'map')
  if _type(v) == 'table' then return 'map', v end
  v = _rawget(t, 'set')
  if _type(v) == 'table' then return 'set', v end
  v = _rawget(t, 'verbatim_string')
  if _type(v) == 'table' then
    local fmt, s = _rawget(v, 'format'), _rawget(v, 'string')
    if _type(fmt) == 'string' and _type(s) == 'string' then return 'verbatim', s, fmt end
  end
  local n = 0
  while _rawget(t, n + 1) ~= nil do n = n + 1 end
  return 'array', n
end

local function pairs_of(t)
  local ks, vs, n = {}, {}, 0
  for k, v in _next, t do n = n + 1; ks[n] = k; vs[n] = v end
  return n, ks, vs
end

local function slice(t, i, j) return _unpack(t, i, j) end  -- raw reads, as luaReplyToRedisReply
local function is_proxy(t) return real_of[t] ~= nil end
local function get_real(t) return real_of[t] end
local function raw_set(t, k, v) return _rawset(t, k, v) end
local function set_mt(t, m) return _setmetatable(t, m) end
return {start = start, compile = compile, set_keys = set_keys, set_loading = set_loading,
        classify = classify, pairs_of = pairs_of, G = G, is_proxy = is_proxy, raw_set = raw_set,
        set_mt = set_mt, get_real = get_real, slice = slice, co_create = user_co_create,
        is_lua_function = is_lua_function, make_wrap = make_wrap}
"""


# --- rand48, as Redis's math.random ------------------------------------------------------
class Rand48:
    __slots__ = ("x",)
    MASK = (1 << 48) - 1

    def __init__(self) -> None:
        self.x = 0x1234ABCD330E

    def seed(self, s: int) -> None:
        self.x = (((s & 0xFFFFFFFF) << 16) | 0x330E) & self.MASK

    def next31(self) -> int:
        self.x = (0x5DEECE66D * self.x + 0xB) & self.MASK
        return self.x >> 17


_RAND = Rand48()  # process-wide, as Redis's C static state


# --- a running script ------------------------------------------------------------------------
class ScriptRun:
    __slots__ = (
        "engine", "client", "name", "is_eval", "read_only", "t0", "threshold", "killed", "dirty",
        "ptr", "step", "deferred", "slice_start", "may_defer", "hook_yielded", "resp", "loading",
        "saved", "marker", "argv", "capture", "kill_msg", "repl", "chain", "gate",
    )

    def __init__(self, engine: LuaEngine, client, name: bytes, is_eval: bool, read_only: bool) -> None:
        self.engine = engine
        self.client = client
        self.name = name
        self.is_eval = is_eval
        self.read_only = read_only
        self.t0 = time.monotonic()
        self.threshold = 5.0
        self.killed = False
        self.dirty = False
        self.ptr = 0
        self.step = None
        self.deferred = False
        self.slice_start = 0.0
        self.may_defer = False
        self.hook_yielded = False
        self.resp = 2
        self.loading = False
        self.saved = None
        self.marker = None
        self.argv = None
        self.capture = 0  # the Propagation capture holding the script's effects
        self.kill_msg = KILL_MSG
        self.repl = 3
        # the lua_States resumed, outermost first: the script's coroutine, then the pcall and
        # script-made coroutines it resumed (the running one last)
        self.chain: list[int] = []
        self.gate = None


def _sanitize(b: bytes) -> bytes:
    if b"\r" in b or b"\n" in b:
        return b.replace(b"\r", b" ").replace(b"\n", b" ")
    return b


def lua_tostring(v) -> bytes:
    if v is None:
        return b"nil"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, bytes):
        return v
    if isinstance(v, (int, float)):
        return libs.fmt14(v)
    return repr(v).encode()


def push_error_text(err: bytes) -> bytes:
    """luaPushErrorBuff: '-CODE msg' or 'msg' -> 'CODE msg' (ERR when no code)."""
    if err[:1] == b"-":
        sp = err.find(b" ")
        if sp < 0:
            code, msg = b"ERR", err[1:]
        else:
            code, msg = err[1:sp], err[sp + 1:]
    else:
        code, msg = b"ERR", err
    return code + b" " + msg.strip(b"\r\n")


class LuaEngine:
    """One Lua state (eval scripts, or function libraries) of one server."""

    def __init__(self, state: ServerState, kind: str) -> None:
        _init_ctypes()
        self.state = state
        self.kind = kind
        self.rt = rt = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True,
                                        register_eval=False, register_builtins=False)
        self.table_from = rt.table_from
        self.scripts: dict[bytes, object] = {}  # sha -> compiled function (eval)
        self.run_ctx: ScriptRun | None = None
        self.loading_lib = None  # Library being loaded (functions)
        lib_tables = libs.make_libs(rt, self._log_bug)
        self.null = lib_tables.pop("_null")
        unproxy_box = lib_tables.pop("_unproxy")
        # Every Python function Lua can call goes through lua_callable (scripting_libs: why).
        callables = {
            b"call": self._call, b"pcall": self._pcall, b"unwrap": self._unwrap,
            b"error_reply": self._error_reply, b"status_reply": self._status_reply,
            b"rawset": self._rawset, b"setmetatable": self._setmetatable,
            b"reg_thread": self._reg_thread, b"push_thread": self._push_thread,
            b"pop_thread": self._pop_thread, b"hook_yielding": self._hook_yielding,
            b"replicate_commands": lambda *a: True, b"breakpoint": lambda *a: False, b"debug": lambda *a: None,
            b"sha1hex": self._sha1hex, b"log": self._log, b"setresp": self._setresp,
            b"set_repl": self._set_repl, b"acl_check_cmd": self._acl_check_cmd,
            b"random": self._random, b"randomseed": self._randomseed,
            b"register": self._register, b"killmsg": self._killmsg,
            b"co_create": self._co_create, b"co_wrap": self._co_wrap,
        }
        pyt = rt.table_from({
            **{k: lua_callable(f, self._log_bug) for k, f in callables.items()},
            b"version": REDIS_VERSION.encode(), b"version_num": _VERSION_NUM,
            b"libs": rt.table_from(lib_tables),
        })
        # anchor(v): the same Lua value, held by a wrapper bound to the main lua_State (which
        # lives as long as the runtime) instead of the coroutine it was received in.
        self.anchor = rt.eval("function(v) return v end")
        boot = rt.execute(_BOOT, pyt, kind.encode())
        self.lua_start, self.lua_compile, self.lua_set_keys = boot[b"start"], boot[b"compile"], boot[b"set_keys"]
        self.lua_set_loading, self.lua_classify, self.lua_pairs = boot[b"set_loading"], boot[b"classify"], boot[b"pairs_of"]
        self.G, self.lua_is_proxy, self.lua_rawset = boot[b"G"], boot[b"is_proxy"], boot[b"raw_set"]
        self.lua_setmetatable, self.lua_real_of, self.lua_slice = boot[b"set_mt"], boot[b"get_real"], boot[b"slice"]
        self.lua_co_create, self.lua_is_lua_function = boot[b"co_create"], boot[b"is_lua_function"]
        self.lua_make_wrap = boot[b"make_wrap"]
        unproxy_box[0] = rt.eval("function(isp, rs) return function(t) return isp(t) and rs(t) or t end end")(
            self.lua_is_proxy, self.lua_real_of)
        # The address of Lua's own hook dispatcher (ldblib's hookf), read once.
        step, ptr = self.lua_start(rt.eval("function() end"))
        p = int(ptr.split(b":")[1], 16)
        self.hookf = _gethook(p)
        global _can_yield
        if not _can_yield:
            _sethook(p, _hook_ptr, _LUA_MASKCOUNT, HOOK_COUNT)
            _can_yield = _verify_layout(p)
            _sethook(p, None, 0, 0)

    def _log_bug(self, e: Exception) -> None:
        srv = self.state.server
        if srv is not None:
            import traceback

            srv.log("warning", "Internal error in a Lua library call: %s" % "".join(traceback.format_exception(e)))

    # --- compile ---------------------------------------------------------------------
    def flush(self) -> None:
        """SCRIPT FLUSH: forget the cached scripts (globals are read-only, nothing else to reset)."""
        self.scripts.clear()
        self.rt.execute("collectgarbage()")

    def compile(self, body: bytes, chunkname: bytes):
        r = self.lua_compile(body, chunkname)
        if isinstance(r, tuple):
            return None, r[1]
        return r, None

    # --- running -----------------------------------------------------------------------
    def run(self, c: Client, fn, keys: list[bytes], args: list[bytes], name: bytes, is_eval: bool,
            read_only: bool, may_defer: bool = True):
        """Run a compiled script / function for client c. Returns the reply, a Blocked marker
        (busy script continuing in the background), or raises CommandError."""
        state = self.state
        run = ScriptRun(self, c, name, is_eval, read_only)
        run.threshold = max(0, state.config["busy-reply-threshold"]) / 1000.0
        run.may_defer = (may_defer and not c.in_exec and state.scheduler is not None and not state.time_frozen)
        run.argv = c.argv
        tf = self.table_from
        if is_eval:
            step, ptr = self.lua_start(fn, tf(keys), tf(args), True)
        else:
            step, ptr = self.lua_start(fn, tf(keys), tf(args))
        run.step = step
        run.ptr = _thread_addr(ptr)
        run.chain = [run.ptr]
        _sethook(run.ptr, _hook_ptr, _LUA_MASKCOUNT, HOOK_COUNT)
        # client and server state for the duration of the script
        run.saved = (c.resp, c.db, state.time_frozen)
        c.resp = 2
        state.now_ms  # noqa: B018  (fix the script's time)
        state.time_frozen += 1
        prop = state.propagation
        run.capture = prop.capture() if prop.active else 0  # the effects leave as one MULTI/EXEC
        self.run_ctx = run
        return self._step(run)

    def _step(self, run: ScriptRun):
        prev = _running.run
        _running.run = run
        try:
            res = run.step()
        except Exception as e:  # pragma: no cover - a lupa failure outside the script's pcall
            self._restore(run)
            raise CommandError("ERR Error running script: %s" % e) from None
        finally:
            _running.run = prev
        code = res[0] if isinstance(res, tuple) else res
        if code == 1:
            if run.hook_yielded:
                run.hook_yielded = False
                if not run.deferred:
                    return self._go_busy(run)
                self._schedule(run)
                return None
        return self._finish(run, res)

    def _go_busy(self, run: ScriptRun):
        from .blocking import Blocked

        run.deferred = True
        state = self.state
        srv = state.server
        if srv is not None:
            srv.log("warning", "Slow script detected: still in execution after %d milliseconds. "
                    "You can try killing the script using the %s command. Script name is: %s." % (
                        int((time.monotonic() - run.t0) * 1000),
                        "SCRIPT KILL" if run.is_eval else "FUNCTION KILL", run.name.decode("utf-8", "replace")))
        from . import dispatch

        run.gate = _make_gate(state, BUSY_EVAL if run.is_eval else BUSY_FUNCTION)
        dispatch.EXTRA_GATES.append(run.gate)
        run.marker = Blocked([], 0, _never, None)
        self._schedule(run)
        return run.marker

    def _schedule(self, run: ScriptRun) -> None:
        self.state.scheduler.call_soon(self._continue, run)

    def _continue(self, run: ScriptRun) -> None:
        run.slice_start = time.monotonic()
        c = run.client
        # the client's per-command state while the script continues
        c.resp = run.resp
        try:
            reply = self._step(run)
        except Exception as e:
            if not isinstance(e, CommandError):  # pragma: no cover - never leave the server BUSY
                e = CommandError("ERR Error running script: %s" % e)
                if self.run_ctx is run:
                    self._restore(run)
            reply = ErrorReply(e.text)
            self.state.stats.count_error(e.text)
        if run.deferred and self.run_ctx is run:
            return  # still running (rescheduled)
        # finished: release the busy state and answer the caller
        from . import dispatch
        from .blocking import manager

        try:
            dispatch.EXTRA_GATES.remove(run.gate)
        except ValueError:
            pass
        run.marker.timeout_reply = reply
        m = manager(self.state)
        m.unblock_client(c.id)
        if m.ready:
            m.handle_ready()

    def _restore(self, run: ScriptRun) -> None:
        c = run.client
        state = self.state
        resp, db, frozen = run.saved
        c.resp = resp
        c.db = db
        c.argv = run.argv
        state.time_frozen = frozen
        if run.capture:
            prop = state.propagation
            prop.emit_all(prop.release(run.capture))
            run.capture = 0
        if self.run_ctx is run:
            self.run_ctx = None

    def _finish(self, run: ScriptRun, res):
        self._restore(run)
        if res == 1 or (isinstance(res, tuple) and res[0] == 1):
            # the script itself yielded at top level (cannot happen: coroutine.yield is guarded)
            return None
        code = res[0]
        if code == 0:
            value = res[1] if len(res) > 1 else None
            return self.to_reply(value, run.resp)
        err = res[1] if len(res) > 1 else None
        src = res[2] if len(res) > 2 else None
        line = res[3] if len(res) > 3 else None
        text = self.error_text(err, run.name, src, line)
        if isinstance(err, LuaRaise) and err.counted:
            return ErrorReply(text)  # the failed command was counted already (ignore_error_stats_update)
        raise CommandError(text)

    def error_text(self, err, name: bytes, src, line) -> bytes:
        if isinstance(err, LuaRaise):
            msg = err.value if err.is_table else b"ERR " + err.value
        elif lua_type(err) == "table":
            m = err[b"err"]
            if isinstance(m, (bytes, int, float)):
                msg = lua_tostring(m)
            else:
                msg = b"ERR unknown error"
        else:
            msg = b"ERR " + lua_tostring(err)
        if src is not None and line is not None:
            msg = msg + b" script: " + name + b", on " + src + b":" + b"%d" % line + b"."
        return _sanitize(msg)

    # --- Lua value -> reply -----------------------------------------------------------
    def to_reply(self, v, resp: int):
        """A script's return value as a reply (Redis's luaReplyToRedisReply); `resp` is the
        script's redis.setresp() protocol (it decides how booleans convert)."""
        t = type(v)
        if t is bytes or t is int:
            return v
        if t is float:
            return libs.c_llong(v)
        if t is bool or v is None:
            return self._scalar(v, resp)
        if lua_type(v) != "table":
            return None
        cl = self.lua_classify(v)
        if cl[0] == b"err":  # at top level: the command's error
            if len(cl) > 2 and cl[2]:
                return ErrorReply(_sanitize(cl[1]))  # ignore_error_stats_update
            raise CommandError(_sanitize(cl[1]))
        return self._convert(v, cl, resp)

    def _scalar(self, v, resp: int):
        t = type(v)
        if t is bytes or t is int:
            return v
        if t is float:
            return libs.c_llong(v)
        if t is bool:
            if resp == 2:
                return 1 if v else None
            return Boolean(1 if v else 0)
        return None  # nil, functions, userdata, threads

    def _convert(self, v, cl, resp: int):
        """Convert a table without recursion. Redis recurses in C and checks before each value
        that 4 more slots fit on the Lua stack (LUAI_MAXCSTACK): past that the value becomes
        the error "reached lua stack limit". The same limit is kept here by counting the
        slots Redis's walk would use: 2 at the top, +1 per array level, +3 for map values
        and set members, +4 for map keys."""
        stats = self.state.stats
        holder: list = []
        work = [(v, _TOP_SLOTS, holder, cl)]
        deepest = 0
        while work:
            x, slots, target, cl = work.pop()
            if slots + 4 > _LUA_MAXCSTACK:
                stats.count_error(_STACK_LIMIT)
                target.append(ErrorReply(_STACK_LIMIT))
                continue
            if cl is None:
                t = type(x)
                if t is bytes or t is int or t is float or t is bool or x is None or lua_type(x) != "table":
                    target.append(self._scalar(x, resp))
                    continue
                cl = self.lua_classify(x)
            if slots > deepest:
                deepest = slots
            kind = cl[0]
            if kind == b"array":
                out: list = []
                target.append(out)
                items = self._items(x, cl[1])
                for item in reversed(items):
                    work.append((item, slots + 1, out, None))
            elif kind == b"err":
                text = _sanitize(cl[1])
                if not (len(cl) > 2 and cl[2]):
                    stats.count_error(text)
                target.append(ErrorReply(text))
            elif kind == b"ok":
                target.append(Simple(_sanitize(cl[1])))
            elif kind == b"double":
                target.append(Double(cl[1]))
            elif kind == b"big_number":
                target.append(BigNumber(_sanitize(cl[1])))
            elif kind == b"verbatim":
                fmt = (cl[2][:3]).ljust(3, b" ")
                target.append(Verbatim(cl[1]) if fmt == b"txt" else VerbatimFormatted(fmt + b":" + cl[1]))
            elif kind in (b"map", b"set"):
                n, ks, vs = self.lua_pairs(cl[1])
                keys = self._items(ks, n)
                if kind == b"map":
                    pairs = MapPairs()
                    target.append(pairs)
                    values = self._items(vs, n)
                    for i in range(n - 1, -1, -1):
                        work.append((values[i], slots + 3, pairs, None))
                        work.append((keys[i], slots + 4, pairs, None))
                else:
                    members = SetReply()
                    target.append(members)
                    for k in reversed(keys):
                        work.append((k, slots + 3, members, None))
            else:
                target.append(None)
        reply = holder[0]
        return Deep(reply) if deepest > _DEEP_SLOTS else reply

    def _items(self, t, n: int) -> list:
        """t[1..n] in one Lua call per 4000 values (not one per element)."""
        out: list = []
        for i in range(1, n + 1, 4000):
            j = min(n, i + 3999)
            r = self.lua_slice(t, i, j)
            if i == j:
                out.append(r)
            else:
                out.extend(r)
        return out

    # --- reply -> Lua value ------------------------------------------------------------
    def to_lua(self, r, resp: int):
        t = type(r)
        if t is bytes:
            return r
        if t is int:
            return r
        if r is None or r is NULL_ARRAY:
            return False if resp == 2 else None
        if t is list or t is tuple or t is MultiReply or t is Push:
            tl = self.to_lua
            return self.table_from([tl(x, resp) for x in r])
        if t is Simple:
            return self.table_from({b"ok": bytes(r)})
        if t is ErrorReply:
            return self.table_from({b"err": push_error_text(b"-" + bytes(r))})
        if t is Double:
            if resp == 2:
                return format_double(r)
            return self.table_from({b"double": float(r)})
        if t is dict:
            tl = self.to_lua
            if resp == 2:
                flat = []
                for k, x in r.items():
                    flat.append(tl(k, resp))
                    flat.append(tl(x, resp))
                return self.table_from(flat)
            m = self.rt.table()
            for k, x in r.items():
                m[tl(k, resp)] = tl(x, resp)
            return self.table_from({b"map": m})
        if t is set or t is frozenset or t is SetReply:
            tl = self.to_lua
            if resp == 2:
                return self.table_from([tl(x, resp) for x in r])
            m = self.rt.table()
            for x in r:
                m[tl(x, resp)] = True
            return self.table_from({b"set": m})
        if t is Boolean or t is bool:
            if resp == 2:
                return 1 if r else 0
            return bool(r)
        if t is BigNumber:
            if resp == 2:
                return bytes(r)
            return self.table_from({b"big_number": bytes(r)})
        if t is Verbatim:
            if resp == 2:
                return bytes(r)
            return self.table_from({b"verbatim_string": self.table_from({b"format": b"txt", b"string": bytes(r)})})
        if t is float:
            return self.to_lua(Double(r), resp)
        if isinstance(r, bytes):
            return bytes(r)
        if isinstance(r, (list, tuple)):
            return self.to_lua(list(r), resp)
        return False if resp == 2 else None

    # --- redis.* callbacks -------------------------------------------------------------------
    def _err(self, text: str | bytes) -> bytes:
        if isinstance(text, str):
            text = text.encode()
        return push_error_text(text)

    def _raise(self, text: str | bytes) -> LuaRaise:
        return LuaRaise(self._err(text), True)

    def _call(self, *argv):
        ok, v = self._do_call(argv, True)
        if ok:
            return v
        if type(v) is tuple:
            raise LuaRaise(v[0], True, True)
        raise LuaRaise(v, True)

    def _pcall(self, *argv):
        ok, v = self._do_call(argv, False)
        if ok:
            return v
        if type(v) is tuple:
            return self.table_from({b"err": v[0], b"ignore_error_stats_update": True})
        return self.table_from({b"err": v})

    def _unwrap(self, e):
        if isinstance(e, LuaRaise):
            if e.is_table:
                if e.counted:
                    return self.table_from({b"err": e.value, b"ignore_error_stats_update": True})
                return self.table_from({b"err": e.value})
            return e.value
        return e

    def _reg_thread(self, ptr: bytes):
        """Put the count hook on a coroutine (debug.sethook(c, killer, 'l') replaced it)."""
        _sethook(_thread_addr(ptr), _hook_ptr, _LUA_MASKCOUNT, HOOK_COUNT)

    def _push_thread(self, ptr: bytes):
        run = _running.run
        if run is not None:
            run.chain.append(_thread_addr(ptr))

    def _pop_thread(self):
        run = _running.run
        if run is not None and len(run.chain) > 1:
            run.chain.pop()

    def _hook_yielding(self):
        """Is the coroutine that just came back suspended by the count hook (not by the script)?"""
        run = _running.run
        return run is not None and run.hook_yielded

    def _co_create(self, *args):
        f = args[0] if args else None
        if not self.lua_is_lua_function(f):
            raise_str("bad argument #1 to 'create' (Lua function expected)")
        return self.lua_co_create(f)

    def _co_wrap(self, *args):
        f = args[0] if args else None
        if not self.lua_is_lua_function(f):
            raise_str("bad argument #1 to 'wrap' (Lua function expected)")
        return self.lua_make_wrap(f)

    def _rawset(self, *args):
        t = args[0] if args else None
        if lua_type(t) != "table":
            raise_str(_argmsg(1, "rawset", "table expected, got " + _lua_typename_nv(args, 0)))
        if len(args) < 2:
            raise_str(_argmsg(2, "rawset", "value expected"))
        if len(args) < 3:
            raise_str(_argmsg(3, "rawset", "value expected"))
        if self.lua_is_proxy(t):
            raise LuaRaise(b"Attempt to modify a readonly table")
        if args[1] is None:
            raise_str("table index is nil")
        return self.lua_rawset(t, args[1], args[2])

    def _setmetatable(self, *args):
        t = args[0] if args else None
        if lua_type(t) != "table":
            raise_str(_argmsg(1, "setmetatable", "table expected, got " + _lua_typename_nv(args, 0)))
        m = args[1] if len(args) > 1 else None
        if len(args) < 2 or (m is not None and lua_type(m) != "table"):
            raise_str(_argmsg(2, "setmetatable", "nil or table expected"))
        if self.lua_is_proxy(t):
            raise LuaRaise(b"Attempt to modify a readonly table")
        return self.lua_setmetatable(t, m)

    def _error_reply(self, *args):
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self.table_from({b"err": self._err("wrong number or type of arguments")})
        e = args[0]
        if e[:1] != b"-":
            e = b"-" + e
        return self.table_from({b"err": push_error_text(e)})

    def _status_reply(self, *args):
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self.table_from({b"err": self._err("wrong number or type of arguments")})
        return self.table_from({b"ok": args[0]})

    def _do_call(self, argv, raise_error: bool):
        run = _running.run
        if run is None or run.engine is not self or run.loading:
            return False, self._err("-ERR redis.call can only be called inside a script invocation")
        if not argv:
            return False, self._err("Please specify at least one argument for this redis lib call")
        args = []
        for a in argv:
            ta = type(a)
            if ta is bytes:
                args.append(a)
            elif ta is int or ta is float:  # lupa gives integral numbers as int: format the double
                args.append(b"%.17g" % a)
            else:
                return False, self._err("Lua redis lib command arguments must be strings or integers")
        spec = _resolve(args)
        if type(spec) is CommandError:
            if spec.text.startswith(b"ERR wrong number"):
                return False, self._err("Wrong number of args calling Redis command from script")
            return False, self._err("Unknown Redis command called from script")
        if spec.noscript:
            return False, self._err("This Redis command is not allowed from script")
        if run.read_only and (spec.write or spec.may_replicate or spec.name_bytes in _MAY_REPLICATE):
            return False, self._err("Write commands are not allowed from read-only scripts.")
        if spec.write:
            run.dirty = True
        c = run.client
        state = self.state
        if spec.name_bytes == b"xread" or spec.name_bytes == b"xreadgroup":
            for x in args[1:]:
                if x.lower() == b"block":
                    return False, self._err("%s command is not allowed with BLOCK option from scripts"
                                            % spec.name.upper())
                if x.lower() == b"streams":
                    break
        c.resp = run.resp
        if run.repl:
            reply = _dcall(c, spec, args)
        else:  # redis.set_repl(redis.REPL_NONE): the command's effects are not propagated
            prop = state.propagation
            prop.muted += 1
            try:
                reply = _dcall(c, spec, args)
            finally:
                prop.muted -= 1
        if not state.time_frozen:  # pragma: no cover - restored by the outer run
            state.time_frozen = 1
        t = type(reply)
        if t is ErrorReply:
            return False, (push_error_text(b"-" + bytes(reply)),)  # tuple: counted already
        try:
            return True, self.to_lua(reply, run.resp)
        except Exception:  # pragma: no cover
            return True, False

    def _sha1hex(self, *args):
        if len(args) != 1:
            raise self._raise("wrong number of arguments")
        s = args[0]
        if isinstance(s, bytes):
            data = s
        elif isinstance(s, (int, float)) and not isinstance(s, bool):
            data = libs.fmt14(s)
        else:
            data = b""
        return hashlib.sha1(data).hexdigest().encode()

    def _log(self, *args):
        if len(args) < 2:
            raise self._raise("redis.log() requires two arguments or more.")
        level = args[0]
        if type(level) not in (int, float) or isinstance(level, bool):
            if isinstance(level, bytes):
                try:
                    level = int(float(level))
                except ValueError:
                    raise self._raise("First argument must be a number (log level).")
            else:
                raise self._raise("First argument must be a number (log level).")
        level = int(level)
        if level < 0 or level > 3:
            raise self._raise("Invalid debug level.")
        parts = []
        for a in args[1:]:
            if isinstance(a, bytes):
                parts.append(a)
            elif isinstance(a, (int, float)) and not isinstance(a, bool):
                parts.append(lua_tostring(a))
        srv = self.state.server
        if srv is not None:
            srv.log(("debug", "verbose", "notice", "warning")[level], b" ".join(parts).decode("utf-8", "replace"))
        return None

    def _setresp(self, *args):
        if len(args) != 1:
            raise self._raise("redis.setresp() requires one argument.")
        v = _lua_number(args[0])
        n = int(v) if v is not None else 0
        if n != 2 and n != 3:
            raise self._raise("RESP version must be 2 or 3.")
        run = _running.run
        if run is not None:
            run.resp = n
            run.client.resp = n
        return None

    def _set_repl(self, *args):
        if len(args) != 1:
            raise self._raise("redis.set_repl() requires two arguments.")
        v = _lua_number(args[0])
        n = int(v) if v is not None else 0
        if n & ~3:
            raise self._raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        run = _running.run
        if run is not None:
            run.repl = n
        return None

    def _acl_check_cmd(self, *args):
        if not args:
            raise self._raise("Please specify at least one argument for this redis lib call")
        argv = [a if isinstance(a, bytes) else lua_tostring(a) for a in args]
        spec = _resolve(argv)
        if type(spec) is CommandError:
            raise self._raise("Invalid command passed to redis.acl_check_cmd()")
        return True

    def _random(self, *args):
        r = (_RAND.next31() % 2147483647) / 2147483647.0
        n = len(args)
        if n == 0:
            return r
        if n == 1:
            u = _lua_number(args[0])
            if u is None:
                raise_str(_argmsg(1, "random", "number expected, got " + _lua_typename(args[0])))
            u = int(u)
            if u < 1:
                raise_str(_argmsg(1, "random", "interval is empty"))
            return float(int(r * u) + 1)
        if n == 2:
            lo = _lua_number(args[0])
            if lo is None:
                raise_str(_argmsg(1, "random", "number expected, got " + _lua_typename(args[0])))
            hi = _lua_number(args[1])
            if hi is None:
                raise_str(_argmsg(2, "random", "number expected, got " + _lua_typename(args[1])))
            lo, hi = int(lo), int(hi)
            if lo > hi:
                raise_str(_argmsg(2, "random", "interval is empty"))
            return float(int(r * (hi - lo + 1)) + lo)
        raise_str("wrong number of arguments")

    def _randomseed(self, *args):
        v = _lua_number(args[0]) if args else None
        if v is None:
            raise_str(_argmsg(1, "randomseed", "number expected, got "
                                  + (_lua_typename(args[0]) if args else "no value")))
        _RAND.seed(int(v))
        return None

    def _killmsg(self):
        run = _running.run
        msg = run.kill_msg if run is not None else KILL_MSG
        return self.table_from({b"err": msg.encode()})

    def _register(self, *args):
        lib = self.loading_lib
        if lib is None:
            raise self._raise("redis.register_function can only be called on FUNCTION LOAD command")
        n = len(args)
        if n < 1 or n > 2:
            raise self._raise("wrong number of arguments to redis.register_function")
        desc = None
        flags: list[str] = []
        if n == 1:
            t = args[0]
            if lua_type(t) != "table":
                raise self._raise("calling redis.register_function with a single argument is only "
                                        "applicable to Lua table (representing named arguments).")
            name = None
            cb = None
            cnt, ks, vs = self.lua_pairs(t)
            for i in range(1, cnt + 1):
                k, v = ks[i], vs[i]
                if not isinstance(k, (bytes, int, float)) or isinstance(k, bool):
                    raise self._raise("named argument key given to redis.register_function is not a string")
                key = lua_tostring(k).lower()
                if key == b"function_name":
                    if not isinstance(v, (bytes, int, float)) or isinstance(v, bool):
                        raise self._raise("function_name argument given to redis.register_function must be a string")
                    name = lua_tostring(v)
                elif key == b"description":
                    if not isinstance(v, (bytes, int, float)) or isinstance(v, bool):
                        raise self._raise("description argument given to redis.register_function must be a string")
                    desc = lua_tostring(v)
                elif key == b"callback":
                    if lua_type(v) != "function":
                        raise self._raise("callback argument given to redis.register_function must be a function")
                    cb = v
                elif key == b"flags":
                    if lua_type(v) != "table":
                        raise self._raise("flags argument to redis.register_function must be a table "
                                                "representing function flags")
                    fc, fks, fvs = self.lua_pairs(v)
                    for j in range(1, fc + 1):
                        fv = fvs[j]
                        if not isinstance(fv, bytes) or fv.decode("latin-1") not in FUNCTION_FLAGS:
                            raise self._raise("unknown flag given")
                        flags.append(fv.decode("latin-1"))
                else:
                    raise self._raise("unknown argument given to redis.register_function")
            if name is None:
                raise self._raise("redis.register_function must get a function name argument")
            if cb is None:
                raise self._raise("redis.register_function must get a callback argument")
        else:
            name, cb = args
            if not isinstance(name, (bytes, int, float)) or isinstance(name, bool):
                raise self._raise("first argument to redis.register_function must be a string")
            name = lua_tostring(name)
            if lua_type(cb) != "function":
                raise self._raise("second argument to redis.register_function must be a function")
        if not valid_name(name):
            raise self._raise("Library names can only contain letters, numbers, or underscores(_) and "
                                    "must be at least one character long")
        if name in lib.functions:
            raise self._raise("Function already exists in the library")
        # cb came in through this call: bound to the loading coroutine, which Lua frees soon.
        lib.functions[name] = FunctionInfo(name, self.anchor(cb), desc, [f for f in FUNCTION_FLAGS if f in flags])
        return None

    def load_library(self, lib, code: bytes) -> None:
        """Run a library's code with the load-time API; raises CommandError."""
        fn, err = self.compile(code, b"@user_function")
        if fn is None:
            raise CommandError(b"ERR Error compiling function: " + _sanitize(err))
        run = ScriptRun(self, None, lib.name, False, False)
        run.loading = True
        run.kill_msg = LOAD_TIMEOUT_MSG
        step, ptr = self.lua_start(fn)
        run.step = step
        run.ptr = _thread_addr(ptr)
        run.chain = [run.ptr]
        _sethook(run.ptr, _hook_ptr, _LUA_MASKCOUNT, HOOK_COUNT)
        self.loading_lib = lib
        self.lua_set_loading(True)
        prev = _running.run
        _running.run = run
        try:
            res = step()
        finally:
            _running.run = prev
            self.loading_lib = None
            self.lua_set_loading(False)
        code_ = res[0] if isinstance(res, tuple) else res
        if code_ == 2:
            err = res[1]
            if isinstance(err, LuaRaise):
                msg = err.value if err.is_table else b"ERR " + err.value
            elif lua_type(err) == "table":
                m = err[b"err"]
                msg = lua_tostring(m) if isinstance(m, (bytes, int, float)) else b"ERR unknown error"
            else:
                msg = b"ERR " + lua_tostring(err)
            raise CommandError(_sanitize(b"ERR Error registering functions: " + msg))


FUNCTION_FLAGS = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]


class FunctionInfo:
    __slots__ = ("name", "fn", "desc", "flags")

    def __init__(self, name: bytes, fn, desc: bytes | None, flags: list[str]) -> None:
        self.name = name
        self.fn = fn
        self.desc = desc
        self.flags = flags


def valid_name(name: bytes) -> bool:
    if not name:
        return False
    for ch in name:
        if not (48 <= ch <= 57 or 65 <= ch <= 90 or 97 <= ch <= 122 or ch == 95):
            return False
    return True


def _argmsg(n: int, fname: str, msg: str) -> str:
    return "bad argument #%d to '%s' (%s)" % (n, fname, msg)


def _lua_number(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, bytes):
        return libs.lua_str2number(v)
    return None


def _lua_typename_nv(args, i: int) -> str:
    return _lua_typename(args[i]) if i < len(args) else "no value"


def _lua_typename(v) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return lua_type(v) or "userdata"


def _resolve(argv):
    global _resolve, _dcall
    from .dispatch import call, resolve

    _resolve, _dcall = resolve, call
    return resolve(argv)


def _dcall(c, spec, argv):
    global _resolve, _dcall
    from .dispatch import call, resolve

    _resolve, _dcall = resolve, call
    return call(c, spec, argv)


def _never(ctx, key):
    return None


# Commands Redis flags CMD_MAY_REPLICATE (hidden by COMMAND INFO, so the table may not say it):
# read-only scripts refuse them as writes.
_MAY_REPLICATE = frozenset([b"publish", b"spublish", b"pfcount"])


def _make_gate(state, text: str):
    """The BUSY gate of one server (dispatch.EXTRA_GATES is shared by every server of the process)."""
    def busy_gate(c, spec, argv):
        if spec.allow_busy or c.server is not state:
            return None
        return text
    return busy_gate


# --- per-server engines -------------------------------------------------------------------
# Lua runtimes are never garbage collected: a runtime freed by Python's cycle collector
# before the Lua objects (functions, tables) still referring to it crashes in lupa
# (luaL_unref on a closed lua_State). One runtime per server and kind, reused across
# SCRIPT FLUSH / FUNCTION FLUSH, so this is bounded.
_KEEP: list = []


def _keep_forever(e: LuaEngine) -> None:
    """Pin an engine's runtime past interpreter finalization: CPython's final collections
    would otherwise free a LuaRuntime before LuaObjects that still refer to it, and lupa
    crashes (segfault at exit). One extra reference makes it immortal; the OS reclaims it."""
    _KEEP.append(e)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(e.rt))
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(e))


def engine(state: ServerState) -> LuaEngine:
    e = getattr(state, "lua", None)
    if e is None:
        e = state.lua = LuaEngine(state, "eval")
        _keep_forever(e)
    return e


def function_engine(state: ServerState) -> LuaEngine:
    e = getattr(state, "lua_functions", None)
    if e is None:
        e = state.lua_functions = LuaEngine(state, "function")
        _keep_forever(e)
    return e


def current_run(state: ServerState) -> ScriptRun | None:
    for attr in ("lua", "lua_functions"):
        e = getattr(state, attr, None)
        if e is not None and e.run_ctx is not None:
            return e.run_ctx
    return None


def sha1hex(body: bytes) -> bytes:
    return hashlib.sha1(body).hexdigest().encode()


def stats(state: ServerState) -> dict:
    """Numbers for INFO memory / MEMORY STATS: cached EVAL scripts, functions, libraries."""
    e = getattr(state, "lua", None)
    libs_ = getattr(state, "lua_function_libs", None)
    return {
        "number_of_cached_scripts": len(e.scripts) if e is not None else 0,
        "number_of_functions": len(libs_.functions) if libs_ is not None else 0,
        "number_of_libraries": len(libs_.libraries) if libs_ is not None else 0,
    }
