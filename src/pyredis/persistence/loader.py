"""Loader: the dataset at startup. With appendonly yes the AOF (its manifest, then the base - an
RDB preamble or commands - and every incr file, replayed through core/dispatch as a client
would send them; a legacy single-file AOF is upgraded to the multi-part layout); otherwise the
RDB file. Function libraries found in RDB data are loaded through core/functions.py.

As Redis's aof.c, with its log lines: the manifest is read at start-up even with the AOF off
(a rewrite continues its sequence numbers); a file that ends mid-command (or inside a MULTI)
is truncated to its last complete command when aof-load-truncated is yes and fails the start
when it is not the last file; a file the manifest lists but that cannot be read, an unknown
command or a damaged one stop the start (LoadFailed, already logged: nothing is silently
thrown away).

API:
    loader = Loader(state, log, aof_writer)
    loader.load_on_startup()           # LoadFailed / PersistenceError / RdbError (a ValueError) / OSError
    loader.load_aof() -> bool          # DEBUG LOADAOF: the AOF of the manifest (False: none)
    loader.keys_loaded, loader.keys_expired    # of the last RDB data loaded (INFO persistence)
"""

from __future__ import annotations

import os
import time
from typing import Callable

from .. import rdb
from ..core.client import Client
from ..core.dispatch import load_command, load_sets
from ..core.functions import create_library, registry
from ..core.state import ServerState
from ..errors import CommandError, PersistenceError
from ..keyspace.expiry import no_lazy_expiry
from ..protocol.replies import ErrorReply
from . import paths
from .aof import AofFormatError, AofInfo, Manifest, ManifestError, ManifestWriteError, iter_batches
from .aof_writer import AofWriter


class LoadFailed(PersistenceError):
    """Loading failed and what Redis logs about it was logged: the server exits(1)."""


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
        """main(): aofLoadManifestFromDisk, loadDataFromDisk, aofOpenIfNeededOnServerStart,
        aofDelHistoryFiles."""
        state = self.state
        self._load_manifest()
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
        if self.cfg["appendonly"]:
            self.aof.set_on(True)
            try:
                self.aof.open_on_start()
            except ManifestWriteError as e:  # persistAofManifest failed: exit(1)
                raise self._fail(str(e)) from None
        self.aof.delete_history()
        state.dirty = 0

    def _load_manifest(self) -> None:
        try:
            self.aof.load_manifest()
        except ManifestError as e:
            for line in e.log_lines():
                self.log("warning", line)
            raise LoadFailed(e.msg) from None
        except OSError as e:
            msg = (f"Fatal error: can't open the AOF manifest file {paths.manifest_path(self.cfg)} for reading: "
                   f"{e.strerror}")
            self.log("warning", msg)
            raise LoadFailed(msg) from None

    def _load(self) -> str:
        cfg = self.cfg
        if cfg["appendonly"]:
            return "append only file" if self.load_aof() else ""
        path = paths.rdb_path(cfg)
        if os.path.exists(path):
            self._loaded_rdb(rdb.load(path, self.state))
            return "disk"
        return ""

    def _loaded_rdb(self, info: rdb.RdbInfo, replace: bool = False) -> None:
        self.aux = info.aux
        self.keys_loaded = info.keys
        self.keys_expired = info.expired_skipped
        if info.functions:
            fns = registry(self.state)
            for code in info.functions:
                try:
                    create_library(self.state, code, replace, fns)
                except CommandError as e:
                    raise PersistenceError(f"Failed loading a function library from the RDB: {e.text.decode(errors='replace')}") from None

    def load_aof(self, allow_empty: bool = False) -> bool:
        """loadAppendOnlyFiles: the base then every incr file of the manifest. False when
        there is no AOF (or, unless allow_empty, an empty one); LoadFailed (logged) when it
        cannot be loaded."""
        cfg = self.cfg
        m = self.aof.manifest
        legacy = paths.legacy_aof_path(cfg)
        aof_dir = paths.aof_dir(cfg)
        if os.path.isfile(legacy) and (
                not os.path.isdir(aof_dir) or (m.base is None and not m.incrs)
                or (m.base is not None and not m.incrs and m.base.name == cfg["appendfilename"]
                    and not os.path.exists(paths.aof_file(cfg, m.base)))):
            self._upgrade(m, legacy)
        if m.base is None and not m.incrs:
            if not os.path.exists(paths.manifest_path(cfg)) and os.path.isdir(aof_dir) and any(
                    n.endswith((".aof", ".rdb")) for n in os.listdir(aof_dir)):
                # (Redis would start empty and write over them: pyredis refuses to lose them)
                raise self._fail(f"Found AOF files in {aof_dir} but no manifest "
                                 f"{os.path.basename(paths.manifest_path(cfg))}: refusing to start with an "
                                 "empty dataset (restore the manifest or remove the folder)")
            return False
        files = ([m.base] if m.base else []) + m.incrs
        total = 0
        for info in files:
            try:
                total += os.stat(paths.aof_file(cfg, info)).st_size
            except OSError as e:
                msg = f"Unable to obtain the AOF file {info.name} length. stat: {e.strerror}"
                self.log("warning", msg)
                raise LoadFailed(msg) from None
        if total == 0:
            return allow_empty
        for db in self.state.dbs:
            db.flush()
        for i, info in enumerate(files):
            t0 = time.time()
            self._replay_file(info.name, last=i == len(files) - 1)
            kind = "base" if info is m.base else "incr"
            self.log("notice", f"DB loaded from {kind} file {info.name}: {time.time() - t0:.3f} seconds")
        self.aof.adopt()
        return True

    def _upgrade(self, m: Manifest, legacy: str) -> None:
        """aofUpgradePrepare: a Redis < 7 AOF (one file in dir) becomes the base of a manifest
        in the AOF folder, moved there as it is."""
        cfg = self.cfg
        name = cfg["appendfilename"]
        os.makedirs(paths.aof_dir(cfg), exist_ok=True)
        m.base = AofInfo(name, 1, "b")
        m.curr_base_seq = 1
        m.write(paths.manifest_path(cfg))
        m.dirty = False
        os.rename(legacy, paths.aof_file(cfg, m.base))
        self.log("notice", f"Successfully migrated an old-style AOF file ({name}) into the AOF directory "
                           f"({cfg['appenddirname']}).")

    def _fail(self, msg: str) -> LoadFailed:
        self.log("warning", msg)
        return LoadFailed(msg)

    def _replay_file(self, name: str, last: bool) -> None:
        """loadSingleAppendOnlyFile, with its log lines."""
        path = os.path.join(paths.aof_dir(self.cfg), name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError as e:
            self.log("warning", f"The append log file {name} doesn't exist: {e.strerror}")
            return
        except IsADirectoryError as e:  # fopen() succeeds on a folder, its first read fails
            raise self._fail(f"Unrecoverable error reading the append only file {name}: {e.strerror}") from None
        except OSError as e:
            raise self._fail(f"Fatal error: can't open the append log file {name} for reading: {e.strerror}") from None
        if not data:
            return
        start = 0
        if data[:5] == b"REDIS":
            old_style = name == self.cfg["appendfilename"]
            self.log("notice", "Reading RDB preamble from AOF file..." if old_style
                     else "Reading RDB base file on AOF loading...")
            try:
                info = rdb.load_bytes(data, self.state, source=name, empty_first=False, skip_expired=False)
            except rdb.RdbError as e:
                self.log("warning", f"{e}")
                raise self._fail(f"Error reading the RDB preamble of the AOF file {name}, AOF loading aborted"
                                 if old_style else f"Error reading the RDB base file {name}, AOF loading aborted") from None
            self._loaded_rdb(info)
            start = info.end
            if old_style:
                self.log("notice", "Reading the remaining AOF tail...")
        client = Client(self.state)
        client.authenticated = True
        good = start
        before_multi = start
        delay = self.cfg["key-load-delay"]
        truncated_at = None
        try:
            for cmds, ends in iter_batches(data, start):
                i, n = 0, len(cmds)
                one_by_one = 0  # commands before this index are loaded one by one
                while i < n:
                    argv = cmds[i]
                    # a run of SETs, eight at least: this one and the eighth look like SETs
                    # (key-load-delay sleeps after each command)
                    if (i >= one_by_one and len(argv) == 3 and len(argv[0]) == 3 and i + 8 <= n
                            and len(cmds[i + 7]) == 3 and not delay):
                        j, loaded = load_sets(client, cmds, i)
                        if loaded:
                            good = ends[j - 1]
                            i = j
                            continue
                        one_by_one = j
                    if len(argv[0]) == 5 and argv[0].lower() == b"multi":
                        before_multi = good
                    reply = load_command(client, argv)
                    if type(reply) is ErrorReply and reply.startswith(b"ERR unknown command"):
                        raise self._fail(f"Unknown command '{argv[0].decode(errors='replace')}' reading the append "
                                         f"only file {name}")
                    good = ends[i]
                    i += 1
                    if delay:
                        rdb.debug_delay(delay)
        except AofFormatError as e:
            if not e.truncated:
                self.log("warning", f"{e} {name}: the command at offset {e.offset} is damaged")
                raise self._fail(f"Bad file format reading the append only file {name}: make a backup of your AOF "
                                 f"file, then use ./pyredis-check-aof --fix <filename.manifest>") from None
            truncated_at = e.offset  # the strict reader stopped at the start of the bad command
        if truncated_at is None and client.multi is not None:
            # EOF inside MULTI: the queued commands never ran; the tail is cut off as a short read
            self.log("warning", f"Revert incomplete MULTI/EXEC transaction in AOF file {name}")
            truncated_at = before_multi
        if truncated_at is None:
            return
        if self.cfg["aof-load-truncated"]:
            self.log("warning", f"!!! Warning: short read while loading the AOF file {name}!!!")
            self.log("warning", f"!!! Truncating the AOF {name} at offset {truncated_at} !!!")
            try:
                os.truncate(path, truncated_at)
            except OSError as e:
                self.log("warning", f"Error truncating the AOF file {name}: {e.strerror}")
            else:
                self.log("warning", f"AOF {name} loaded anyway because aof-load-truncated is enabled")
                if not last:
                    raise self._fail("Fatal error: the truncated file is not the last file")
                return
        raise self._fail(
            f"Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF "
            f"file, then use ./pyredis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the "
            f"'aof-load-truncated' configuration option to yes and restart the server.")
