"""core/lua: the Lua engine of EVAL and FUNCTION: Lua 5.1 through lupa (`lupa.lua51`, the Lua version
Redis embeds; the installed lupa wheel provides it), a Redis-like sandbox, redis.call/pcall
run through core/dispatch (resolve() + call() with the calling client as context), the
conversions between Lua values and replies (RESP2 and redis.setresp(3)), and busy scripts.
The libraries Redis bundles (cjson, cmsgpack, bit, struct) are ours, in lib_*.py.

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
in dispatch (state.busy_script) answers everybody else (only allow_busy commands pass: SCRIPT KILL,
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
bridge.lua_callable (errors leave as fresh exceptions that hold no argument), values
kept beyond a call are re-bound to the main state (LuaEngine.anchor: register_function's
callbacks), and replies are converted without recursion with Redis's Lua stack limit
(LuaEngine._convert: a self-referencing table gets Redis's nested reply ending in "reached
lua stack limit", not a Python RecursionError).
Known difference: coroutine.resume and the functions coroutine.wrap returns are Lua functions
(the hook's yields must pass through them), so a tail call to them (`return f()`) loses the
caller's position in their error messages, which Lua's C versions keep.

Effects: the writes of a script are propagated as the commands it ran, wrapped in
MULTI/EXEC when there are several (redis.set_repl(redis.REPL_NONE) suspends it).

The package:
    __init__.py   this overview; the public API re-exported
    engine.py     LuaEngine (runtime, sandbox, run / busy / finish, reply conversions), ScriptRun,
                  the per-server engines
    api.py        RedisLib: redis.call/pcall and the rest of the `redis` table, the coroutine plumbing
    hook.py       ctypes access to Lua's C API, the count hook, the running script
    bridge.py     Python functions as Lua functions (lua_callable), Lua errors, Lua's number texts
    boot.lua      the sandbox and the coroutine machinery, in Lua
    libs.py, libs.lua, lib_bit.py, lib_cjson.py, lib_cmsgpack.py, lib_struct.py   the bundled libraries

API:
    eng = engine(state) / function_engine(state)     the per-server engines
    eng.compile(body, chunkname); eng.run(ctx, fn, keys, args, name, is_eval, read_only) -> reply | Blocked
    current_run(state) -> ScriptRun | None           the running script (SCRIPT KILL / FUNCTION STATS)
    called_from_script(client)                       Redis's CLIENT_SCRIPT
    sha1hex(body), stats(state), FunctionInfo, FUNCTION_FLAGS, valid_name(name)
    parse_shebang(body) -> (flags, compat, offset); SCRIPT_FLAGS, flag_names(flags)   EVAL's shebang
"""

from .api import FLAG_ALLOW_OOM, FLAG_NO_WRITES, FUNCTION_FLAGS, SCRIPT_FLAGS, FunctionInfo, flag_names, parse_shebang, valid_name
from .engine import LuaEngine, ScriptRun, current_run, engine, function_engine, sha1hex, stats
from .hook import called_from_script

__all__ = ["FLAG_ALLOW_OOM", "FLAG_NO_WRITES", "FUNCTION_FLAGS", "SCRIPT_FLAGS", "FunctionInfo", "flag_names", "parse_shebang", "LuaEngine", "ScriptRun", "called_from_script", "current_run",
           "engine", "function_engine", "sha1hex", "stats", "valid_name"]
