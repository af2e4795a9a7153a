-- The library tables Redis bundles (cjson, cmsgpack, bit, struct), assembled from the Python
-- helpers in `py` (core/lua/libs.py). Returns the tables and cjson.null.
local py = ...
local _error, _type, _unpack, _next, _tostring, _format, _rawget, _pcall, _setmetatable, _floor =
      error, type, unpack, next, tostring, string.format, rawget, pcall, setmetatable, math.floor
local bit = {}
for name, f in _next, py.bit do bit[name] = f end

-- cjson
local null = newproxy(true)
getmetatable(null).__tostring = function() return 'userdata: (nil)' end
local cjson = {_NAME = 'cjson', _VERSION = '2.1.0', null = null}
cjson.encode = py.encode
cjson.decode = py.decode
local function cfg(default) return function(...) return default end end
cjson.encode_sparse_array = function() return false, 2, 10 end
cjson.encode_max_depth = cfg(1000)
cjson.decode_max_depth = cfg(1000)
cjson.encode_number_precision = cfg(14)
cjson.encode_keep_buffer = cfg(true)
cjson.encode_invalid_numbers = cfg(false)
cjson.decode_invalid_numbers = cfg(true)
cjson.new = function() return cjson end

local cmsgpack = {_NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0',
  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo', _DESCRIPTION = 'MessagePack C implementation for Lua'}
cmsgpack.pack = py.mp_pack
cmsgpack.unpack = py.mp_unpack
cmsgpack.unpack_one = py.mp_unpack_one
cmsgpack.unpack_limit = py.mp_unpack_limit

local struct = {}
struct.pack = py.st_pack
struct.unpack = py.st_unpack
struct.size = py.st_size

return {bit = bit, cjson = cjson, cmsgpack = cmsgpack, struct = struct}, null
