"""Persistence: RDB snapshots (SAVE, BGSAVE, save points, load at startup) and the multi-part
AOF (append, fsync policies, rewrite, load with crash recovery), wired into the server.

Background work uses fork(), as Redis does: the child serialises the dataset as it was at the
fork (copy-on-write) while the parent keeps serving; the cron reaps the child and switches
files. Where fork is unavailable the work runs in the foreground.

API (the server and the persistence commands use these):
    p = Persistence(server)           # installs itself as state.persistence
    p.load_on_startup()               # AOF if appendonly yes, else the RDB file
    p.save() / p.bgsave(schedule)     # SAVE / BGSAVE
    p.rewrite_aof_background()        # BGREWRITEAOF
    p.cron()                          # reap children, save points, auto rewrite, everysec fsync
    p.flush_aof()                     # write (and under `always` fsync) before replies leave
    p.prepare_shutdown(save, force)   # SHUTDOWN / SIGTERM: fsync the AOF, final save
    p.info_fields()                   # INFO persistence
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from typing import Callable

from ..core.client import Client
from ..core.state import ServerState
from ..core.functions import create_library, library_sources, registry
from ..errors import CommandError, PersistenceError
from .. import rdb
from .aof import AofFormatError, AofInfo, Manifest, ManifestError, encode_command, iter_commands

MISCONF_RDB = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
    "Redis logs for details about the RDB error."
)
BGSAVE_RETRY_DELAY = 5


class Persistence:
    def __init__(self, state: ServerState, log: Callable[[str, str], None]) -> None:
        self.state = state
        self.log = log
        self.cfg = state.config
        state.persistence = self
        # --- background child -----------------------------------------------------------
        self.child_pid = 0
        self.child_type = ""  # "rdb" | "aof"
        self.child_start = 0.0
        self.child_tmp = ""
        self.dirty_at_fork = 0
        # --- RDB --------------------------------------------------------------------------
        self.last_bgsave_ok = True
        self.last_bgsave_time_sec = -1
        self.last_bgsave_try = 0.0
        self.bgsave_scheduled = False
        self.rdb_saves = 0
        self.last_load_keys_loaded = 0
        self.last_load_keys_expired = 0
        # --- AOF --------------------------------------------------------------------------
        self.aof_on = False
        self.aof_fd = -1
        self.aof_buf: list[bytes] = []
        state.aof_buf = self.aof_buf
        self.aof_selected_db = -1
        self.manifest: Manifest | None = None
        self.aof_current_size = 0
        self.aof_base_size = 0
        self.aof_last_write_ok = True
        self.aof_last_write_error = ""
        self.aof_rewrites = 0
        self.aof_rewrite_scheduled = False
        self.aof_last_rewrite_ok = True
        self.aof_last_rewrite_time_sec = -1
        self.aof_rewrites_consecutive_failures = 0
        self.aof_new_incr: AofInfo | None = None
        self.last_fsync = time.monotonic()
        self.unsynced = False
        self._fsync_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="aof-fsync")
        self._fsync_future: concurrent.futures.Future | None = None
        self.cfg.on_change("appendonly", self._appendonly_changed)

    # ================================================================== paths
    @property
    def dir(self) -> str:
        return os.path.abspath(self.cfg["dir"] or ".")

    @property
    def rdb_path(self) -> str:
        return os.path.join(self.dir, self.cfg["dbfilename"])

    @property
    def aof_dir(self) -> str:
        return os.path.join(self.dir, self.cfg["appenddirname"])

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.aof_dir, self.cfg["appendfilename"] + ".manifest")

    def _aof_file(self, info: AofInfo) -> str:
        return os.path.join(self.aof_dir, info.name)

    # ================================================================== startup
    def load_on_startup(self) -> None:
        from ..keyspace.expiry import no_lazy_expiry

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
        if self.cfg["appendonly"]:
            loaded = self._load_aof()
            self._set_aof_on(True)
            if not loaded:
                self._create_aof()
                return ""
            self._open_incr_for_append()
            return "append only file"
        if os.path.exists(self.rdb_path):
            info = rdb.load(self.rdb_path, self.state)
            self._after_rdb_load(info, functions_ok=True)
            return "disk"
        return ""

    def _after_rdb_load(self, info: rdb.RdbInfo, functions_ok: bool) -> None:
        self.last_load_keys_loaded = info.keys
        self.last_load_keys_expired = info.expired_skipped
        if info.functions:
            fns = registry(self.state)
            for code in info.functions:
                try:
                    create_library(self.state, code, True, fns)
                except CommandError as e:
                    raise PersistenceError(f"Failed loading a function library from the RDB: {e.text.decode(errors='replace')}") from None

    def _load_aof(self) -> bool:
        """Load the AOF set; False when none exists. Raises PersistenceError on a bad AOF."""
        if not os.path.exists(self.manifest_path):
            legacy = os.path.join(self.dir, self.cfg["appendfilename"])
            if os.path.exists(legacy):
                self._replay_file(legacy, last=True)
                self.log("notice", f"Loaded the legacy single-file AOF {legacy}; it is upgraded to the multi-part layout")
                self._create_aof()
                os.rename(legacy, legacy + ".upgraded")
                return True
            if os.path.isdir(self.aof_dir) and any(
                n.endswith((".aof", ".rdb")) for n in os.listdir(self.aof_dir)
            ):
                raise PersistenceError(
                    f"Found AOF files in {self.aof_dir} but no manifest {os.path.basename(self.manifest_path)}: "
                    "refusing to start with an empty dataset (restore the manifest or remove the folder)"
                )
            return False
        try:
            m = Manifest.load(self.manifest_path)
        except (ManifestError, OSError) as e:
            raise PersistenceError(str(e)) from None
        files = ([m.base] if m.base else []) + m.incrs
        for info in files:
            if not os.path.exists(self._aof_file(info)):
                raise PersistenceError(f"The AOF file {info.name} doesn't exist")
        for db in self.state.dbs:
            db.flush()
        for i, info in enumerate(files):
            self._replay_file(self._aof_file(info), last=i == len(files) - 1, base=info.type == "b")
        self.manifest = m
        self.aof_base_size = os.path.getsize(self._aof_file(m.base)) if m.base else 0
        self.aof_current_size = sum(os.path.getsize(self._aof_file(i)) for i in files)
        return True

    def _replay_file(self, path: str, last: bool, base: bool = False) -> None:
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.basename(path)
        start = 0
        if data[:5] == b"REDIS":
            try:
                info = rdb.load_bytes(data, self.state, source=name, empty_first=False, skip_expired=False)
            except rdb.RdbError as e:
                raise PersistenceError(f"Bad file format reading the append only file {name}: {e}") from None
            self._after_rdb_load(info, functions_ok=True)
            start = info.end
        client = Client(self.state)
        client.authenticated = True
        from ..core.dispatch import execute
        from ..protocol.replies import ErrorReply

        good = start
        try:
            for argv, end in iter_commands(data, start):
                reply = execute(client, argv)
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

    def _create_aof(self) -> None:
        """No AOF yet: write a base of the current dataset and an empty incr file."""
        os.makedirs(self.aof_dir, exist_ok=True)
        m = Manifest()
        m.curr_base_seq = 1
        base_name = self._base_name(1)
        self._write_base(os.path.join(self.aof_dir, base_name))
        m.base = AofInfo(base_name, 1, "b")
        m.curr_incr_seq = 1
        m.incrs = [AofInfo(self._incr_name(1), 1, "i")]
        open(os.path.join(self.aof_dir, m.incrs[0].name), "ab").close()
        m.write(self.manifest_path)
        self.manifest = m
        self.aof_base_size = os.path.getsize(os.path.join(self.aof_dir, base_name))
        self.aof_current_size = self.aof_base_size
        self._open_incr_for_append()

    def _base_name(self, seq: int) -> str:
        ext = "rdb" if self.cfg["aof-use-rdb-preamble"] else "aof"
        return f"{self.cfg['appendfilename']}.{seq}.base.{ext}"

    def _incr_name(self, seq: int) -> str:
        return f"{self.cfg['appendfilename']}.{seq}.incr.aof"

    def _write_base(self, path: str) -> None:
        funcs = self._functions()
        if self.cfg["aof-use-rdb-preamble"]:
            rdb.write_rdb_file(path, rdb.rdb_chunks(self.state, funcs, {b"aof-base": b"1"}), self.cfg["rdbchecksum"])
        else:
            from .rewrite import aof_command_chunks

            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                for chunk in aof_command_chunks(self.state, funcs):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)

    def _functions(self) -> list[bytes]:
        """Function library sources, saved in RDB files (FUNCTION2 records) like Redis 7."""
        return library_sources(self.state)

    def _open_incr_for_append(self) -> None:
        m = self.manifest
        assert m is not None
        if not m.incrs:
            m.curr_incr_seq += 1
            m.incrs.append(AofInfo(self._incr_name(m.curr_incr_seq), m.curr_incr_seq, "i"))
            m.write(self.manifest_path)
        path = self._aof_file(m.incrs[-1])
        self._set_fd(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        self.aof_selected_db = -1

    def _set_fd(self, fd: int) -> None:
        old = self.aof_fd
        self.aof_fd = fd
        if old >= 0:
            try:
                os.fsync(old)
            except OSError:
                pass
            os.close(old)

    # ================================================================== AOF writing
    def _set_aof_on(self, on: bool) -> None:
        """The AOF is a propagation sink only while it is on: with appendonly no, writes pay
        nothing for propagation (dispatch skips it when there is no sink)."""
        self.aof_on = on
        if on:
            self.state.propagation.add_sink(self)
        else:
            self.state.propagation.remove_sink(self)

    def feed(self, dbid: int, argv: list[bytes]) -> None:
        """The propagation sink: commands as Redis propagates them, SELECT when the db changes."""
        if not self.aof_on:
            return
        if dbid != self.aof_selected_db:
            self.aof_buf.append(encode_command([b"SELECT", b"%d" % dbid]))
            self.aof_selected_db = dbid
        self.aof_buf.append(encode_command(argv))

    def flush_aof(self, force_fsync: bool = False) -> bool:
        """Write the buffered commands (and fsync them under appendfsync always, or when forced).
        False while the AOF cannot be written: the buffer is kept for the next try."""
        buf = self.aof_buf
        if buf and self.aof_fd >= 0:
            data = b"".join(buf)
            buf.clear()
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self.aof_fd, view)
                    view = view[n:]
                self.aof_current_size += len(data)
                self.unsynced = True
                if not self.aof_last_write_ok:
                    self.log("warning", "AOF write error looks solved, Redis can write again.")
                    self.aof_last_write_ok = True
                    self._refresh_gate()
            except OSError as e:
                self.aof_last_write_ok = False
                self.aof_last_write_error = e.strerror or str(e)
                buf.append(data)  # keep it: retried on the next flush
                self.log("warning", f"Error writing to the AOF file: {self.aof_last_write_error}")
                self._refresh_gate()
                return False
        elif buf and not self.aof_on:
            buf.clear()
        # (AOF on but no file yet: CONFIG SET appendonly yes is writing the first base; the
        # writes since its fork stay buffered and go to the incr file once it exists.)
        if self.unsynced and (force_fsync or self.cfg["appendfsync"] == "always"):
            try:
                os.fsync(self.aof_fd)
            except OSError as e:
                self.aof_last_write_ok = False
                self.aof_last_write_error = e.strerror or str(e)
                self._refresh_gate()
                return False
            self.unsynced = False
            self.last_fsync = time.monotonic()
        return self.aof_last_write_ok

    def fsync_before_reply(self) -> bool:
        """appendfsync always with an open AOF: replies wait for the fsync (server/group_commit.py)."""
        return self.aof_on and self.cfg["appendfsync"] == "always" and self.aof_fd >= 0

    def _everysec(self) -> None:
        if not self.unsynced or self.aof_fd < 0 or self.cfg["appendfsync"] != "everysec":
            return
        now = time.monotonic()
        if now - self.last_fsync < 1.0:
            return
        if self._fsync_future is not None and not self._fsync_future.done():
            return  # the previous fsync is still running: don't pile up
        self.unsynced = False
        self.last_fsync = now
        self._fsync_future = self._fsync_pool.submit(_fsync_quiet, self.aof_fd)

    def _appendonly_changed(self, on: bool) -> None:
        if on and not self.aof_on:
            self._set_aof_on(True)
            if self.child_pid and self.child_type == "rdb":
                self.aof_rewrite_scheduled = True
            else:
                self.rewrite_aof_background(starting=True)
        elif not on and self.aof_on:
            self.flush_aof(force_fsync=True)
            self._set_aof_on(False)
            if self.aof_fd >= 0:
                os.close(self.aof_fd)
                self.aof_fd = -1
            if self.child_pid and self.child_type == "aof":
                self._kill_child()

    # ================================================================== children
    def _fork(self, work) -> int:
        """Run work() in a forked child; returns the child pid (0 when done in the foreground)."""
        # Everything the child needs must already be imported (another thread may hold the
        # import lock at fork time in embedded servers).
        from . import rewrite  # noqa: F401

        if not hasattr(os, "fork"):
            work()
            return 0
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                work()
            except BaseException:
                code = 1
            os._exit(code)
        return pid

    def _kill_child(self) -> None:
        if self.child_pid:
            try:
                os.kill(self.child_pid, signal.SIGUSR1)
                os.waitpid(self.child_pid, 0)
            except OSError:
                pass
            if self.child_tmp:
                try:
                    os.unlink(self.child_tmp)
                except OSError:
                    pass
            self.child_pid = 0
            self.child_type = ""

    def _reap(self) -> None:
        if not self.child_pid:
            return
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        kind = self.child_type
        self.child_pid = 0
        self.child_type = ""
        if kind == "rdb":
            self._rdb_done(ok)
        else:
            self._aof_rewrite_done(ok)

    # ================================================================== RDB
    def save(self) -> None:
        """SAVE: in the foreground. Raises PersistenceError on failure."""
        if self.child_pid and self.child_type == "rdb":
            raise PersistenceError("ERR Background save already in progress")
        try:
            rdb.save(self.state, self.rdb_path, self._functions())
        except OSError as e:
            self.last_bgsave_ok = False
            self._refresh_gate()
            self.log("warning", f"Failed opening the temp RDB file {self.rdb_path} (in server root dir {self.dir}) for saving: {e.strerror}")
            raise PersistenceError("ERR") from None
        self.state.dirty = 0
        self.state.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self._refresh_gate()
        self.rdb_saves += 1
        self.log("notice", "DB saved on disk")

    def reset_after_flushall(self) -> bool:
        """FLUSHALL (Redis's flushAllDataAndResetRDB): a running RDB child is killed, and with
        save points configured the now empty dataset is saved at once (not counted in rdb_saves;
        a failure is only logged, as Redis). True when it saved: dirty is 0 again, so FLUSHALL
        must be propagated explicitly."""
        if self.child_pid and self.child_type == "rdb":
            self._kill_child()
        if not self.cfg["save"]:
            return False
        saves = self.rdb_saves
        try:
            self.save()
        except Exception:  # noqa: BLE001 - Redis ignores a failed save here (save() logged it)
            pass
        self.rdb_saves = saves
        return True

    def bgsave(self, schedule: bool = False) -> str:
        if self.child_pid:
            if self.child_type == "rdb":
                raise PersistenceError("ERR Background save already in progress")
            if schedule:
                self.bgsave_scheduled = True
                return "Background saving scheduled"
            raise PersistenceError(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
            )
        self._start_bgsave()
        return "Background saving started"

    def _start_bgsave(self) -> None:
        path = self.rdb_path
        state = self.state
        funcs = self._functions()
        self.last_bgsave_try = time.time()
        self.dirty_at_fork = state.dirty
        self.child_start = time.time()
        self.child_tmp = os.path.join(self.dir, f"temp-{os.getpid()}.rdb")

        def work() -> None:
            rdb.write_rdb_file(path, rdb.rdb_chunks(state, funcs), state.config["rdbchecksum"])

        try:
            pid = self._fork(work)
        except OSError as e:
            self.last_bgsave_ok = False
            self.log("warning", f"Can't save in background: fork: {e.strerror}")
            raise PersistenceError(f"ERR Can't save in background: fork: {e.strerror}") from None
        self.log("notice", f"Background saving started by pid {pid}")
        if pid:
            self.child_pid = pid
            self.child_type = "rdb"
        else:
            self._rdb_done(True)

    def _rdb_done(self, ok: bool) -> None:
        self.last_bgsave_time_sec = int(time.time() - self.child_start)
        if ok:
            self.log("notice", "Background saving terminated with success")
            self.state.dirty -= self.dirty_at_fork
            self.state.lastsave = int(time.time())
            self.last_bgsave_ok = True
            self.rdb_saves += 1
        else:
            self.log("warning", "Background saving error")
            self.last_bgsave_ok = False
        self._refresh_gate()
        self.dirty_at_fork = 0

    def _refresh_gate(self) -> None:
        """Set state.disk_error only while persistence is failing, so healthy servers pay
        nothing for the MISCONF check on every command."""
        failing = not self.last_bgsave_ok or (self.aof_on and not self.aof_last_write_ok)
        self.state.disk_error = self.disk_error if failing else None

    def disk_error(self) -> str | None:
        """The MISCONF error for write commands and PING while persistence is failing (Redis's
        writeCommandsDeniedByDiskError), or None when writes are allowed after all."""
        if not self.last_bgsave_ok and self.cfg["stop-writes-on-bgsave-error"] and self.cfg["save"]:
            return MISCONF_RDB
        if self.aof_on and not self.aof_last_write_ok:
            return f"MISCONF Errors writing to the AOF file: {self.aof_last_write_error}"
        return None

    # ================================================================== AOF rewrite
    def rewrite_aof_background(self, starting: bool = False) -> str:
        if self.child_pid:
            if self.child_type == "aof":
                raise PersistenceError("ERR Background append only file rewriting already in progress")
            self.aof_rewrite_scheduled = True
            return "Background append only file rewriting scheduled"
        os.makedirs(self.aof_dir, exist_ok=True)
        if self.manifest is None:
            self.manifest = Manifest()
        m = self.manifest
        # Writes from now on go to a new incr file, listed in the manifest at once so a crash
        # during the rewrite still loads everything.
        if self.aof_on and not starting:
            self.flush_aof(force_fsync=True)
        m.curr_incr_seq += 1
        new_incr = AofInfo(self._incr_name(m.curr_incr_seq), m.curr_incr_seq, "i")
        if self.aof_on and not starting:
            m.incrs.append(new_incr)
            m.write(self.manifest_path)
            self._set_fd(os.open(self._aof_file(new_incr), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
            self.aof_selected_db = -1
        self.aof_new_incr = new_incr
        self._rewrite_starting = starting
        base_seq = m.curr_base_seq + 1
        tmp = os.path.join(self.aof_dir, f"temp-rewriteaof-bg-{os.getpid()}.aof")
        self.child_tmp = tmp
        self._rewrite_base_seq = base_seq
        self.child_start = time.time()

        def work() -> None:
            self._write_base(tmp)

        try:
            pid = self._fork(work)
        except OSError as e:
            self.aof_last_rewrite_ok = False
            raise PersistenceError(f"ERR Can't rewrite append only file in background: fork: {e.strerror}") from None
        self.log("notice", f"Background append only file rewriting started by pid {pid}")
        if pid:
            self.child_pid = pid
            self.child_type = "aof"
        else:
            self._aof_rewrite_done(True)
        return "Background append only file rewriting started"

    def _aof_rewrite_done(self, ok: bool) -> None:
        m = self.manifest
        assert m is not None
        self.aof_last_rewrite_time_sec = int(time.time() - self.child_start)
        if not ok or not os.path.exists(self.child_tmp):
            self.aof_last_rewrite_ok = False
            self.aof_rewrites_consecutive_failures += 1
            self.log("warning", "Background AOF rewrite terminated with error")
            return
        base_name = self._base_name(self._rewrite_base_seq)
        os.replace(self.child_tmp, os.path.join(self.aof_dir, base_name))
        new_incr = self.aof_new_incr
        assert new_incr is not None
        history = ([m.base] if m.base else []) + [i for i in m.incrs if i.seq < new_incr.seq]
        m.base = AofInfo(base_name, self._rewrite_base_seq, "b")
        m.curr_base_seq = self._rewrite_base_seq
        if self._rewrite_starting:
            # AOF turned on at runtime: the incr file starts now, empty.
            m.incrs = [new_incr]
            open(self._aof_file(new_incr), "ab").close()
        else:
            m.incrs = [i for i in m.incrs if i.seq >= new_incr.seq]
        m.history = history
        m.write(self.manifest_path)
        for h in history:
            try:
                os.unlink(self._aof_file(h))
            except OSError:
                pass
        m.history = []
        m.write(self.manifest_path)
        if self._rewrite_starting and self.aof_on:
            # Writes since the fork were buffered (flush_aof keeps them while there is no
            # file): they start the new incr file, after the fork-time base.
            self._open_incr_for_append()
            self.flush_aof(force_fsync=True)
        self.aof_base_size = os.path.getsize(self._aof_file(m.base))
        self.aof_current_size = self.aof_base_size + sum(
            os.path.getsize(self._aof_file(i)) for i in m.incrs if os.path.exists(self._aof_file(i))
        )
        self.aof_rewrites += 1
        self.aof_last_rewrite_ok = True
        self.aof_rewrites_consecutive_failures = 0
        self.log("notice", "Background AOF rewrite finished successfully")

    # ================================================================== cron & shutdown
    def cron(self) -> None:
        self._reap()
        if self.aof_on:
            self.flush_aof()
            self._everysec()
        if self.child_pid:
            return
        if self.aof_rewrite_scheduled:
            self.aof_rewrite_scheduled = False
            self.rewrite_aof_background()
            return
        if self.bgsave_scheduled:
            self.bgsave_scheduled = False
            self._start_bgsave()
            return
        now = time.time()
        state = self.state
        for secs, changes in self.cfg["save"]:
            if state.dirty >= changes and now - state.lastsave > secs and (
                self.last_bgsave_ok or now - self.last_bgsave_try > BGSAVE_RETRY_DELAY
            ):
                self.log("notice", f"{changes} changes in {secs} seconds. Saving...")
                try:
                    self._start_bgsave()
                except PersistenceError:
                    pass
                return
        perc = self.cfg["auto-aof-rewrite-percentage"]
        if self.aof_on and perc and self.aof_current_size > self.cfg["auto-aof-rewrite-min-size"]:
            base = self.aof_base_size or 1
            growth = (self.aof_current_size - base) * 100 // base
            if growth >= perc:
                self.log("notice", f"Starting automatic rewriting of AOF on {growth}% growth")
                try:
                    self.rewrite_aof_background()
                except PersistenceError:
                    pass

    def prepare_shutdown(self, save: bool | None, force: bool = False) -> None:
        """Before exiting: stop children, fsync the AOF, save an RDB when asked or configured."""
        if self.child_pid:
            self._kill_child()
        if self.aof_on:
            self.flush_aof(force_fsync=True)
        if save is True or (save is None and self.cfg["save"]):
            self.log("notice", "Saving the final RDB snapshot before exiting.")
            try:
                rdb.save(self.state, self.rdb_path, self._functions())
                self.log("notice", "DB saved on disk")
            except OSError as e:
                self.log("warning", f"Error trying to save the DB, can't exit: {e}")
                if not force:
                    raise PersistenceError("ERR Errors trying to SHUTDOWN. Check logs.") from None
        if self.aof_fd >= 0:
            os.close(self.aof_fd)
            self.aof_fd = -1
        self._fsync_pool.shutdown(wait=True)

    # ================================================================== INFO
    def info_fields(self) -> list[tuple[str, object]]:
        state = self.state
        now = time.time()
        rdb_child = self.child_pid and self.child_type == "rdb"
        aof_child = self.child_pid and self.child_type == "aof"
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
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_sec),
            ("rdb_current_bgsave_time_sec", int(now - self.child_start) if rdb_child else -1),
            ("rdb_saves", self.rdb_saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.last_load_keys_expired),
            ("rdb_last_load_keys_loaded", self.last_load_keys_loaded),
            ("aof_enabled", 1 if self.aof_on else 0),
            ("aof_rewrite_in_progress", 1 if aof_child else 0),
            ("aof_rewrite_scheduled", 1 if self.aof_rewrite_scheduled else 0),
            ("aof_last_rewrite_time_sec", self.aof_last_rewrite_time_sec),
            ("aof_current_rewrite_time_sec", int(now - self.child_start) if aof_child else -1),
            ("aof_last_bgrewrite_status", "ok" if self.aof_last_rewrite_ok else "err"),
            ("aof_rewrites", self.aof_rewrites),
            ("aof_rewrites_consecutive_failures", self.aof_rewrites_consecutive_failures),
            ("aof_last_write_status", "ok" if self.aof_last_write_ok else "err"),
            ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ]
        if self.aof_on:
            fields += [
                ("aof_current_size", self.aof_current_size),
                ("aof_base_size", self.aof_base_size),
                ("aof_pending_rewrite", 1 if self.aof_rewrite_scheduled else 0),
                ("aof_buffer_length", sum(len(b) for b in self.aof_buf)),
                ("aof_pending_bio_fsync", 1 if self._fsync_future is not None and not self._fsync_future.done() else 0),
                ("aof_delayed_fsync", 0),
            ]
        return fields


def _fsync_quiet(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:
        pass
