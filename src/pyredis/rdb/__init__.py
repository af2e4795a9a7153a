"""RDB: Redis's snapshot format, written and read at the version of the server's compat-version
mode (10 for Redis 7.0, 11 for 7.2 and Valkey 8.0, 12 for 7.4: base.rdb_versions). One format serves RDB files, the RDB preamble of AOF base files,
DUMP/RESTORE and FUNCTION DUMP/RESTORE payloads and DEBUG's serialized lengths.

Layering: this package depends on keyspace (the value types) and the leaves only, so commands
(DUMP, RESTORE, FUNCTION DUMP/RESTORE, DEBUG) and persistence (files) both use it without
importing each other.

Modules:
    base.py       constants, RdbError, CRC-64, lengths and strings (enc_len, enc_string, Reader)
    encodings.py  listpack, ziplist, intset, zipmap
    objects.py    one value <-> one RDB object; DUMP payloads
    stream.py     the stream type (listpacks, consumer groups)
    file.py       whole RDB files: write (streamed, atomic) and load into a state's databases

API (re-exported here):
    dump_payload(value, config) -> bytes / restore_payload(payload, config) -> value
    encode_object(value, config) -> (type, payload) / read_object(reader, type, config) -> value
    rdb_chunks(state, functions, aux_extra) / write_rdb_file(path, chunks, checksum, autosync) / save(state, path, functions)
    debug_delay(usec)        # rdb-key-save-delay / key-load-delay, per key
    load(path, state) / load_bytes(data, state, ...) -> RdbInfo
"""

from __future__ import annotations

from .base import (OP_FUNCTION2, OP_FUNCTION_PRE_GA, RdbError, Reader, crc64, enc_len, enc_string,
                   rdb_versions)
from .file import (AUTOSYNC_BYTES, RdbInfo, debug_delay, fsync_dir, load, load_bytes, rdb_bytes, rdb_chunks, save,
                   temp_path, write_rdb_file)
from .objects import dump_payload, encode_object, read_object, restore_payload

__all__ = [
    "AUTOSYNC_BYTES", "debug_delay", "OP_FUNCTION2", "OP_FUNCTION_PRE_GA", "RdbError", "RdbInfo", "Reader",
    "crc64", "dump_payload", "enc_len", "enc_string", "encode_object", "fsync_dir", "load", "load_bytes",
    "rdb_bytes", "rdb_chunks", "rdb_versions", "read_object", "restore_payload", "save", "temp_path", "write_rdb_file",
]
