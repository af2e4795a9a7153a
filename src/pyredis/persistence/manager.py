"""Persistence: RDB snapshots (SAVE, BGSAVE, save points, load at startup) and the multi-part
AOF (append, fsync policies, rewrite, load with crash recovery) of one server. This is the
front the server and the commands talk to; the work is done by:

    loader.py      the dataset at startup (AOF or RDB)
    aof_writer.py  the propagation sink: buffer, write, fsync policies, the AOF file set
    background.py  forked children (BGSAVE, BGREWRITEAOF), SAVE, and their bookkeeping
    rewrite.py     AOF base files;  aof.py: the AOF format;  paths.py: file names
    ../rdb/        the RDB format

Layering: persistence uses core (state, dispatch for AOF replay, function libraries) and
rdb/, never commands or server. The server builds it with a log callable, registers cron(),
writes the AOF before replies leave (server/group_commit.py: flush_aof, fsync_before_reply)
and calls prepare_shutdown(). While a background save or an AOF write fails,
state.disk_error is set (disk_error below): dispatch refuses write commands and PING with
its MISCONF text, as Redis's writeCommandsDeniedByDiskError.

API:
    p = Persistence(state, log, fatal)  # installs itself as state.persistence; log(level, message);
                                        # fatal(message): the server cannot go on (exits)
    p.load_on_startup()               # AOF if appendonly yes, else the RDB file
    p.save() / p.bgsave(schedule)     # SAVE / BGSAVE; PersistenceError (errors.py) when refused
    p.rewrite_aof_background()        # BGREWRITEAOF (PersistenceError when refused)
    p.reset_after_flushall() -> bool  # FLUSHALL: kill an RDB child, save the empty dataset
    p.debug_reload(save, flush, merge) / p.debug_loadaof()   # DEBUG RELOAD / LOADAOF
    p.cron()                          # reap children, save points, auto rewrite, everysec fsync
    p.flush_aof() -> ok               # write (and under `always` fsync) before replies leave
    p.fsync_before_reply() -> bool    # appendfsync always: replies wait for the fsync
    p.prepare_shutdown(save, force)   # SHUTDOWN / SIGTERM: fsync the AOF, final save
    p.info_fields()                   # INFO persistence
    p.disk_error() -> text | None     # the MISCONF error (state.disk_error while failing)
"""

from __future__ import annotations

import time
from typing import Callable

from .. import rdb
from ..core.functions import create_library, library_sources, registry
from ..core.state import ServerState
from ..errors import CommandError, PersistenceError
from . import paths
from .aof_writer import AofWriter
from .background import Background
from .loader import Loader

MISCONF_RDB = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
    "Redis logs for details about the RDB error."
)
BGSAVE_RETRY_DELAY = 5


class Persistence:
    def __init__(self, state: ServerState, log: Callable[[str, str], None],
                 fatal: Callable[[str], None] | None = None) -> None:
        self.state = state
        self.log = log
        self.cfg = state.config
        state.persistence = self
        self.fatal = fatal
        self.aof = AofWriter(state, log, self._refresh_disk_error, fatal)
        self.bg = Background(state, log, self.aof, self._refresh_disk_error)
        self.loader = Loader(state, log, self.aof)
        self.aof.child_active = lambda: bool(self.bg.child_pid)
        self.aof.rewrite_child = lambda: bool(self.bg.child_pid) and self.bg.child_type == "aof"
        self.cfg.on_apply(["appendonly"], self._appendonly_changed)
        # updateAofAutoGCEnabled: turning the GC back on deletes the history files at once
        self.cfg.on_apply(["aof-disable-auto-gc"], self.aof.delete_history)

    # --- what the server and the commands call ---------------------------------------------
    def load_on_startup(self) -> None:
        self.loader.load_on_startup()

    def save(self) -> None:
        self.bg.save()

    def bgsave(self, schedule: bool = False) -> str:
        return self.bg.bgsave(schedule)

    def rewrite_aof_background(self) -> str:
        return self.bg.rewrite_aof()

    def flush_aof(self, force_fsync: bool = False) -> bool:
        return self.aof.flush(force_fsync)

    def fsync_before_reply(self) -> bool:
        return self.aof.fsync_before_reply()

    def reset_after_flushall(self) -> bool:
        """FLUSHALL (Redis's flushAllDataAndResetRDB): a running RDB child is killed, and with
        save points configured the now empty dataset is saved at once (not counted in rdb_saves;
        a failure is only logged, as Redis). True when it saved: dirty is 0 again, so FLUSHALL
        must be propagated explicitly."""
        bg = self.bg
        if bg.child_pid and bg.child_type == "rdb":
            bg.kill_child()
        if not self.cfg["save"]:
            return False
        saves = bg.rdb_saves
        try:
            bg.save()
        except Exception:  # noqa: BLE001 - Redis ignores a failed save here (save() logged it)
            pass
        bg.rdb_saves = saves
        return True

    # --- DEBUG RELOAD / DEBUG LOADAOF ----------------------------------------------------------
    def _empty_data(self) -> None:
        """emptyData(-1, EMPTYDB_NO_FLAGS): every database, and the function libraries."""
        from ..core.functions import Functions

        for db in self.state.dbs:
            db.flush()
        self.state.lua_function_libs = Functions()

    def debug_reload(self, save: bool, flush: bool, merge: bool) -> None:
        """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the RDB (unless NOSAVE), empty the
        dataset (unless NOFLUSH), load the RDB back. The file's function libraries come first:
        one that exists already fails the load unless MERGE; a key that exists already
        replaces it with MERGE and is Redis's panic without. PersistenceError(reply text)."""
        from types import SimpleNamespace

        from ..keyspace.database import Database

        state, cfg = self.state, self.cfg
        path = paths.rdb_path(cfg)
        if save:
            try:
                rdb.save(state, path, library_sources(state))
            except OSError as e:
                self.log("warning", f"Failed opening the temp RDB file {path} for saving: {e.strerror}")
                raise PersistenceError("ERR") from None
            self.log("notice", "DB saved on disk")
            state.dirty = 0
            state.lastsave = int(time.time())
        if flush:
            self._empty_data()
        failed = PersistenceError("ERR Error trying to load the RDB dump")
        holder = SimpleNamespace(config=cfg, clock=state.clock, skip_checksum_validation=state.skip_checksum_validation,
                                 dbs=[Database(i, state.clock_ms, lambda db, key: None) for i in range(len(state.dbs))])
        for src, db in zip(holder.dbs, state.dbs):  # the file's IDLE / FREQ read as the server's clocks
            src.lru_now, src.lfu = db.lru_now, db.lfu
        try:
            info = rdb.load(path, holder)
        except (OSError, rdb.RdbError):
            raise failed from None
        fns = registry(state)
        for code in info.functions:
            try:
                create_library(state, code, merge, fns)
            except CommandError:
                raise failed from None
        for src in holder.dbs:
            db = state.dbs[src.id]
            for key, value in src.data.items():
                if key in db.data:
                    if not merge:
                        self.log("warning", f"RDB has duplicated key '{key.decode('utf-8', 'replace')}' in DB {db.id}")
                        state.server.panic("Duplicated key found in RDB file")
                        raise failed
                    db.delete(key)
                db.add(key, value, src.lru.get(key))  # (with the access field the file gave it)
                when = src.expires.get(key)
                if when is not None:
                    db.set_expire(key, when)
        self.loader.keys_loaded = info.keys
        self.loader.keys_expired = info.expired_skipped
        self.log("warning", "DB reloaded by DEBUG RELOAD")

    def debug_loadaof(self) -> None:
        """DEBUG LOADAOF: the AOF buffer written out, the dataset emptied, the manifest read
        again, history deleted, the AOF loaded back (without feeding itself). A missing or
        broken AOF ends the server, as Redis's exit(1)."""
        from .loader import LoadFailed

        aof = self.aof
        if aof.on:
            aof.flush(force_fsync=True)
        self._empty_data()
        was_on = aof.on
        if was_on:
            self.state.propagation.remove_sink(aof)
        try:
            self.loader._load_manifest()
            aof.delete_history()
            if not self.loader.load_aof(allow_empty=True):
                raise LoadFailed("no AOF to load")
        except (LoadFailed, PersistenceError, OSError, ValueError) as e:
            if self.fatal is not None:
                self.fatal(f"DEBUG LOADAOF failed: {e}")
            raise PersistenceError("ERR DEBUG LOADAOF failed") from None
        finally:
            if was_on:
                self.state.propagation.add_sink(aof)
        self.state.dirty = 0
        self.log("warning", "Append Only File loaded by DEBUG LOADAOF")

    # --- MISCONF -----------------------------------------------------------------------------
    def _refresh_disk_error(self) -> None:
        """Set state.disk_error only while persistence is failing, so healthy servers pay
        nothing for the MISCONF check on every command."""
        failing = not self.bg.last_bgsave_ok or (self.aof.on and not self.aof.last_write_ok)
        self.state.disk_error = self.disk_error if failing else None

    def disk_error(self) -> str | None:
        """The MISCONF error for write commands and PING while persistence is failing (Redis's
        writeCommandsDeniedByDiskError), or None when writes are allowed after all."""
        if not self.bg.last_bgsave_ok and self.cfg["stop-writes-on-bgsave-error"] and self.cfg["save"]:
            return MISCONF_RDB
        if self.aof.on and not self.aof.last_write_ok:
            return f"MISCONF Errors writing to the AOF file: {self.aof.last_write_error}"
        return None

    # --- CONFIG SET appendonly ---------------------------------------------------------------
    def _appendonly_changed(self, on: bool | None = None) -> None:
        """updateAppendonly: startAppendOnly / stopAppendOnly (`on`: as the replica's full sync
        asks, else the appendonly directive)."""
        if on is None:
            on = self.cfg["appendonly"]
        aof, bg = self.aof, self.bg
        if on and not aof.on:
            aof.set_on(True)
            aof.waiting = True
            if bg.child_pid and bg.child_type != "aof":
                bg.aof_rewrite_scheduled = True
                self.log("warning", "AOF was enabled but there is already another background operation. An AOF "
                                    "background was scheduled to start when possible.")
            else:
                if bg.child_pid:
                    self.log("warning", "AOF was enabled but there is already an AOF rewriting in background. "
                                        "Stopping background AOF and starting a rewrite now.")
                    bg.kill_child()
                if not bg.start_rewrite():
                    aof.set_on(False)
                    aof.waiting = False
                    self.log("warning", "Redis needs to enable the AOF but can't trigger a background AOF rewrite "
                                        "operation. Check the above logs for more info about the error.")
                    raise ValueError("Unable to turn on AOF. Check server logs.")
            if not aof.last_write_ok:
                self.log("warning", "AOF reopen, just ignore the last error.")
                aof.last_write_ok = True
                self._refresh_disk_error()
        elif not on and aof.on:
            aof.stop()
            bg.aof_rewrite_scheduled = False
            if bg.child_pid and bg.child_type == "aof":
                bg.kill_child()

    # --- cron & shutdown ---------------------------------------------------------------------
    def cron(self) -> None:
        aof, bg = self.aof, self.bg
        bg.reap()
        if aof.on:
            aof.flush()
            aof.everysec()
        if bg.child_pid:
            return
        if bg.aof_rewrite_scheduled:
            bg.start_rewrite()
            return
        if bg.bgsave_scheduled:
            bg.bgsave_scheduled = False
            bg.start_bgsave()
            return
        now = time.time()
        state = self.state
        for secs, changes in self.cfg["save"]:
            if state.dirty >= changes and now - state.lastsave > secs and (
                bg.last_bgsave_ok or now - bg.last_bgsave_try > BGSAVE_RETRY_DELAY
            ):
                self.log("notice", f"{changes} changes in {secs} seconds. Saving...")
                try:
                    bg.start_bgsave()
                except PersistenceError:
                    pass
                return
        perc = self.cfg["auto-aof-rewrite-percentage"]
        if aof.on and perc and aof.current_size > self.cfg["auto-aof-rewrite-min-size"]:
            base = aof.base_size or 1
            growth = (aof.current_size - base) * 100 // base
            if growth >= perc:
                self.log("notice", f"Starting automatic rewriting of AOF on {growth}% growth")
                bg.start_rewrite()

    def prepare_shutdown(self, save: bool | None, force: bool = False) -> None:
        """Before exiting: stop children, fsync the AOF, save an RDB when asked or configured."""
        if self.bg.child_pid:
            self.bg.kill_child()
        if self.aof.on:
            self.aof.flush(force_fsync=True)
        if save is True or (save is None and self.cfg["save"]):
            self.log("notice", "Saving the final RDB snapshot before exiting.")
            try:
                rdb.save(self.state, paths.rdb_path(self.cfg), library_sources(self.state), self.state.repl.rdb_aux())
                self.log("notice", "DB saved on disk")
            except OSError as e:
                self.log("warning", f"Error trying to save the DB, can't exit: {e}")
                if not force:
                    raise PersistenceError("ERR Errors trying to SHUTDOWN. Check logs.") from None
        self.aof.close()

    # --- INFO --------------------------------------------------------------------------------
    def info_fields(self) -> list[tuple[str, object]]:
        state, aof, bg = self.state, self.aof, self.bg
        now = time.time()
        rdb_child = bg.child_pid and bg.child_type == "rdb"
        aof_child = bg.child_pid and bg.child_type == "aof"
        fields: list[tuple[str, object]] = [
            ("loading", 1 if state.loading else 0),
            ("async_loading", 0),
            ("current_cow_peak", 0),
            ("current_cow_size", 0),
            ("current_cow_size_age", 0),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", 0),
            ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", state.dirty),
            ("rdb_bgsave_in_progress", 1 if rdb_child else 0),
            ("rdb_last_save_time", int(state.lastsave)),
            ("rdb_last_bgsave_status", "ok" if bg.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", bg.last_bgsave_time_sec),
            ("rdb_current_bgsave_time_sec", int(now - bg.child_start) if rdb_child else -1),
            ("rdb_saves", bg.rdb_saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.loader.keys_expired),
            ("rdb_last_load_keys_loaded", self.loader.keys_loaded),
            ("aof_enabled", 1 if aof.on else 0),
            ("aof_rewrite_in_progress", 1 if aof_child else 0),
            ("aof_rewrite_scheduled", 1 if bg.aof_rewrite_scheduled else 0),
            ("aof_last_rewrite_time_sec", bg.aof_last_rewrite_time_sec),
            ("aof_current_rewrite_time_sec", int(now - bg.child_start) if aof_child else -1),
            ("aof_last_bgrewrite_status", "ok" if bg.aof_last_rewrite_ok else "err"),
            ("aof_rewrites", bg.aof_rewrites),
            ("aof_rewrites_consecutive_failures", bg.aof_rewrites_consecutive_failures),
            ("aof_last_write_status", "ok" if aof.last_write_ok else "err"),
            ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ]
        if aof.on:
            fields += [
                ("aof_current_size", aof.current_size),
                ("aof_base_size", aof.base_size),
                ("aof_pending_rewrite", 1 if bg.aof_rewrite_scheduled else 0),
                ("aof_buffer_length", sum(len(b) for b in aof.buf)),
                ("aof_pending_bio_fsync", 1 if aof.fsync_pending() else 0),
                ("aof_delayed_fsync", 0),
            ]
        return fields
