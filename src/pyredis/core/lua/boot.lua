-- The sandbox every script and function library runs in, and the coroutine machinery of
-- busy scripts: see core/lua/__init__.py. Executed once per engine with (py, KIND):
-- py holds the Python side (api.RedisLib's callables, the libraries), KIND is 'eval'
-- or 'function', LATER is true in the 7.2+ modes (their sandbox differs: below), OS in 7.4 and
-- Valkey 8 (an `os` table with clock only). Returns the
-- table of helpers the engine calls.
local py, KIND, LATER, OS = ...
local _rawget, _rawset, _setmetatable, _getmetatable, _type, _error, _select, _tostring, _next, _pcall, _unpack, _setfenv, _loadstring, _load, _ipairs =
      rawget, rawset, setmetatable, getmetatable, type, error, select, tostring, next, pcall, unpack, setfenv, loadstring, load, ipairs
local dbg = debug
-- string functions called as functions, never as methods: a 7.2 script may clear the strings'
-- __index for good (7.2.6 hands out their real metatable)
local s_sub, s_byte, s_find, s_match = string.sub, string.byte, string.find, string.match
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
if py.deprecated_api then  -- lua-enable-deprecated-api yes (the reference redis-server's hidden directive)
  S.getfenv = getfenv; S.setfenv = setfenv; S.newproxy = newproxy
end
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
-- Redis's Lua cannot load precompiled chunks: their first byte is a syntax error there.
local function chunkid(source)  -- luaO_chunkid (LUA_IDSIZE 60) of a chunk name
  local c = s_sub(source, 1, 1)
  if c == '=' or c == '@' then return s_sub(source, 2, 60) end
  local text = s_match(source, '^[^%z]*')
  local len = #text
  if len > 43 then len = 43 end
  local nl = s_find(text, '\n', 1, true)
  if nl and nl - 1 < len then len = nl - 1 end
  if len < #text then return '[string "' .. s_sub(text, 1, len) .. '..."]' end
  return '[string "' .. text .. '"]'
end
local function sandbox_loadstring(s, name)
  if _type(s) == 'string' and s_byte(s, 1) == 27 then
    return nil, chunkid(_type(name) == 'string' and name or s) .. ":1: unexpected symbol near 'char(27)'"
  end
  local f, e = _loadstring(s, name)
  if f then _setfenv(f, G) end
  return f, e
end
S.loadstring = py.loadstring  -- checks its argument in Python (a C function for Lua)
local function sandbox_load(fn, name)
  local f, e = _load(fn, name)
  if f then _setfenv(f, G) end
  return f, e
end
S.load = py.load  -- checks its argument in Python (a C function for Lua), then sandbox_load
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
-- Strings' metatable is Redis's readonly one: its __index is the scripts' `string`, and
-- getmetatable('') hands out a read-only view of it.
local string_mt = _getmetatable('')
string_mt.__index = S.string
local string_mt_view = protect(string_mt)
local metatable_of  -- below, once the Python functions are known
S.getmetatable = py.getmetatable  -- checks its argument in Python (a C function for Lua), then metatable_of
if LATER then  -- 7.2's globals keep these three of the base library
  S.getfenv = getfenv; S.setfenv = setfenv; S.newproxy = newproxy
end
local mth = copy(math)
if not mth.mod then mth.mod = math.fmod end
mth.random = py.random
mth.randomseed = py.randomseed
S.math = protect(mth)
local tbl = copy(table)
S.table = protect(tbl)
if OS then S.os = protect({clock = os.clock}) end
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
if py.valkey_version then  -- Valkey: its own version, and `server` naming the same table
  R.SERVER_NAME = 'valkey'; R.VALKEY_VERSION = py.valkey_version; R.VALKEY_VERSION_NUM = py.valkey_version_num
end
S.redis = protect(R)
if py.valkey_version then S.server = S.redis end

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
local pyfunc_addr = _setmetatable({}, {__mode = 'k'})
-- getmetatable as scripts see it: the engine's own userdata (Python functions, cjson.null)
-- have none, as C functions and lightuserdata in Redis.
metatable_of = function(v)
  if _type(v) == 'userdata' then return nil end
  local mt = _getmetatable(v)
  if mt == string_mt and not LATER then return string_mt_view end  -- 7.2.6 hands out the real one
  return mt
end
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
  if pyfuncs[v] then  -- an address as Lua prints a C function's: that of a table kept for it
    local t = pyfunc_addr[v]
    if not t then t = {} pyfunc_addr[v] = t end
    return 'function: ' .. s_sub(_tostring(t), 8)  -- (not a method: 7.2 scripts may clear string's __index)
  end
  return _tostring(v)
end

local G_mt = {__index = S, __newindex = ro_newindex, __metatable = protect({__index = nonexistent})}
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
if py.valkey_version then LS.server = LS.redis end
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
-- SCRIPT FLUSH gives Redis a new Lua state: in 7.2, where scripts may change the strings'
-- real metatable, it is put back as the new state would have it
local function reset_strings()
  for k in _next, string_mt do string_mt[k] = nil end
  string_mt.__index = S.string
end
return {reset_strings = reset_strings, start = start, compile = compile, set_keys = set_keys, set_loading = set_loading,
        classify = classify, pairs_of = pairs_of, G = G, is_proxy = is_proxy, raw_set = raw_set,
        set_mt = set_mt, get_real = get_real, slice = slice, co_create = user_co_create,
        metatable_of = metatable_of, sandbox_load = sandbox_load, sandbox_loadstring = sandbox_loadstring,
        is_lua_function = is_lua_function, make_wrap = make_wrap}
