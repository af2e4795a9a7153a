"""Loader: the dataset at startup. With appendonly yes the AOF (its manifest, then the base - an
RDB preamble or commands - and every incr file, replayed through core/dispatch as a client
would send them; a legacy single-file AOF is upgraded to the multi-part layout); otherwise the
RDB file. Function libraries found in RDB data are loaded through core/functions.py.

A file that ends mid-command is truncated to its last complete command when it is the last
file and aof-load-truncated is yes; anything else that is wrong stops the start with a
PersistenceError saying what and where (nothing is silently thrown away).

API:
    loader = Loader(state, log, aof_writer)
    loader.load_on_startup()           # PersistenceError / RdbError (a ValueError) / OSError
    loader.keys_loaded, loader.keys_expired    # of the last RDB data loaded (INFO persistence)
"""

from __future__ import annotations

import os
import time
from typing import Callable

from .. import rdb
from ..core.client import Client
from ..core.dispatch import replay
from ..core.functions import create_library, registry
from ..core.state import ServerState
from ..errors import CommandError, PersistenceError
from ..keyspace.expiry import no_lazy_expiry
from ..protocol.replies import ErrorReply
from . import paths
from .aof import AofFormatError, Manifest, ManifestError, iter_commands
from .aof_writer import AofWriter


class Loader:
    def __init__(self, state: ServerState, log: Callable[[str, str], None], aof: AofWriter) -> None:
        self.state = state
        self.cfg = state.config
        self.log = log
        self.aof = aof
        self.keys_loaded = 0
        self.keys_expired = 0
        self.aux: dict[bytes, bytes] = {}  # aux fields of the RDB loaded at startup (replication info)

    def load_on_startup(self) -> None:
        state = self.state
        state.loading = True
        t0 = time.time()
        try:
            # While replaying, lookups never expire keys (a SET ... PXAT in the past followed by
            # APPEND must replay as it ran); expired keys go once loading ends.
            with no_lazy_expiry(state.dbs):
                source = self._load()
        finally:
            state.loading = False
        if source:
            self.log("notice", f"DB loaded from {source}: {time.time() - t0:.3f} seconds")
        state.dirty = 0

    def _load(self) -> str:
        cfg = self.cfg
        if cfg["appendonly"]:
            loaded = self._load_aof()
            self.aof.set_on(True)
            if not loaded:
                self.aof.create()
                return ""
            self.aof.open_incr_for_append()
            return "append only file"
        path = paths.rdb_path(cfg)
        if os.path.exists(path):
            self._loaded_rdb(rdb.load(path, self.state))
            return "disk"
        return ""

    def _loaded_rdb(self, info: rdb.RdbInfo) -> None:
        self.aux = info.aux
        self.keys_loaded = info.keys
        self.keys_expired = info.expired_skipped
        if info.functions:
            fns = registry(self.state)
            for code in info.functions:
                try:
                    create_library(self.state, code, True, fns)
                except CommandError as e:
                    raise PersistenceError(f"Failed loading a function library from the RDB: {e.text.decode(errors='replace')}") from None

    def _load_aof(self) -> bool:
        """Load the AOF set; False when none exists. Raises PersistenceError on a bad AOF."""
        cfg = self.cfg
        manifest_path = paths.manifest_path(cfg)
        if not os.path.exists(manifest_path):
            legacy = paths.legacy_aof_path(cfg)
            if os.path.exists(legacy):
                self._replay_file(legacy, last=True)
                self.log("notice", f"Loaded the legacy single-file AOF {legacy}; it is upgraded to the multi-part layout")
                self.aof.create()
                os.rename(legacy, legacy + ".upgraded")
                return True
            aof_dir = paths.aof_dir(cfg)
            if os.path.isdir(aof_dir) and any(n.endswith((".aof", ".rdb")) for n in os.listdir(aof_dir)):
                raise PersistenceError(
                    f"Found AOF files in {aof_dir} but no manifest {os.path.basename(manifest_path)}: "
                    "refusing to start with an empty dataset (restore the manifest or remove the folder)"
                )
            return False
        try:
            m = Manifest.load(manifest_path)
        except (ManifestError, OSError) as e:
            raise PersistenceError(str(e)) from None
        files = ([m.base] if m.base else []) + m.incrs
        for info in files:
            if not os.path.exists(paths.aof_file(cfg, info)):
                raise PersistenceError(f"The AOF file {info.name} doesn't exist")
        for db in self.state.dbs:
            db.flush()
        for i, info in enumerate(files):
            self._replay_file(paths.aof_file(cfg, info), last=i == len(files) - 1)
        self.aof.adopt(m)
        return True

    def _replay_file(self, path: str, last: bool) -> None:
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.basename(path)
        start = 0
        if data[:5] == b"REDIS":
            try:
                info = rdb.load_bytes(data, self.state, source=name, empty_first=False, skip_expired=False)
            except rdb.RdbError as e:
                raise PersistenceError(f"Bad file format reading the append only file {name}: {e}") from None
            self._loaded_rdb(info)
            start = info.end
        client = Client(self.state)
        client.authenticated = True
        good = start
        try:
            for argv, end in iter_commands(data, start):
                reply = replay(client, argv)
                if type(reply) is ErrorReply and reply.startswith(b"ERR unknown command"):
                    raise PersistenceError(
                        f"Unknown command '{argv[0].decode(errors='replace')}' reading the append only file {name}"
                    )
                if end >= 0:
                    good = end
        except AofFormatError as e:
            good = e.offset  # the strict reader stopped at the start of the bad command
            if e.truncated and last and self.cfg["aof-load-truncated"]:
                self.log("warning", f"!!! Warning: short read while loading the AOF file {name}!!!")
                self.log("warning", f"!!! Truncating the AOF {name} at offset {good} !!!")
                os.truncate(path, good)
                self.log("warning", "AOF loaded anyway because aof-load-truncated is enabled")
            elif e.truncated:
                raise PersistenceError(
                    f"Unexpected end of file reading the append only file {name} at offset {e.offset}. "
                    f"You can: 1) Make a backup of your AOF file, then use ./pyredis-check-aof --fix <filename>. "
                    f"2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                ) from None
            else:
                raise PersistenceError(
                    f"Bad file format reading the append only file {name} at offset {e.offset}: make a backup of your AOF file, "
                    f"then use ./pyredis-check-aof --fix <filename.manifest>"
                ) from None
        if client.multi is not None:
            # A MULTI without EXEC at the end: Redis discards the partial transaction
            # (with aof-load-truncated) after a warning.
            self.log("warning", f"Revert incomplete MULTI/EXEC transaction in AOF file {name}")
