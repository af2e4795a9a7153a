"""Background: the forked children that write the dataset while the server keeps serving, and
their bookkeeping - BGSAVE (an RDB file) and BGREWRITEAOF (a new AOF base), one child at a
time, as Redis. SAVE is here too: it shares BGSAVE's status (INFO, MISCONF) and is refused
while a BGSAVE runs.

The child serialises the dataset as it was at the fork (copy-on-write) and exits 0 on success;
the cron reaps it (reap()) and the parent then switches files (the AOF: AofWriter.finish_rewrite)
and records the outcome. Where fork is unavailable the work runs in the foreground.
Failures report through on_status(), so the server can refuse writes (MISCONF).

API:
    bg = Background(state, log, aof_writer, on_status)
    bg.save()                          # SAVE; PersistenceError on failure
    bg.bgsave(schedule) -> status      # BGSAVE [SCHEDULE]; PersistenceError when refused
    bg.start_bgsave()                  # save points, scheduled BGSAVE
    bg.rewrite_aof() -> status         # BGREWRITEAOF
    bg.start_rewrite() -> ok           # the rewrite itself (also CONFIG SET appendonly yes, the cron)
    bg.reap()                          # cron: a child that ended
    bg.kill_child()                    # FLUSHALL, appendonly no, shutdown
    bg.child_pid, bg.child_type ("rdb" | "aof"), bg.child_start, bg.bgsave_scheduled,
    bg.aof_rewrite_scheduled, bg.last_bgsave_ok, bg.rdb_saves, ...   # INFO persistence
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import struct
import time
from typing import Callable

from .. import rdb
from ..core.functions import library_sources
from ..core.state import ServerState
from ..errors import PersistenceError
from . import paths
from .aof_writer import AofWriter
from .rewrite import write_base


class Background:
    def __init__(self, state: ServerState, log: Callable[[str, str], None], aof: AofWriter,
                 on_status: Callable[[], None]) -> None:
        self.state = state
        self.cfg = state.config
        self.log = log
        self.aof = aof
        self.on_status = on_status  # called when last_bgsave_ok may have changed
        # --- the child ---------------------------------------------------------------------
        self.child_pid = 0
        self.child_type = ""  # "rdb" | "aof"
        self.child_start = 0.0
        self.child_tmp = ""
        self.dirty_at_fork = 0
        # --- RDB ---------------------------------------------------------------------------
        self.last_bgsave_ok = True
        self.last_bgsave_time_sec = -1
        self.last_bgsave_try = 0.0
        self.bgsave_scheduled = False
        self.rdb_saves = 0
        self.rdb_target = ""  # "disk" | "socket" (diskless replication) while an RDB child runs
        # Called with (ok, target) when an RDB child ends or is killed (replication waits on it).
        self.rdb_done_hooks: list[Callable[[bool, str], None]] = []
        # --- AOF rewrite -------------------------------------------------------------------
        self.aof_rewrites = 0
        self.aof_rewrite_scheduled = False
        self.aof_last_rewrite_ok = True
        self.aof_last_rewrite_time_sec = -1
        self.aof_rewrites_consecutive_failures = 0

    # --- RDB -------------------------------------------------------------------------------
    def save(self) -> None:
        """SAVE: in the foreground. Raises PersistenceError on failure."""
        if self.child_pid and self.child_type == "rdb":
            raise PersistenceError("ERR Background save already in progress")
        path = paths.rdb_path(self.cfg)
        try:
            rdb.save(self.state, path, library_sources(self.state), self.state.repl.rdb_aux())
        except OSError as e:
            self.last_bgsave_ok = False
            self.on_status()
            self.log("warning", f"Failed opening the temp RDB file {path} (in server root dir "
                                f"{paths.data_dir(self.cfg)}) for saving: {e.strerror}")
            raise PersistenceError("ERR") from None
        self.state.dirty = 0
        self.state.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.on_status()
        self.rdb_saves += 1
        self.log("notice", "DB saved on disk")

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
        self.start_bgsave()
        return "Background saving started"

    def start_bgsave(self, aux: dict[bytes, bytes] | None = None) -> None:
        """A BGSAVE child writing the RDB file; `aux`: extra aux fields (replication's)."""
        path = paths.rdb_path(self.cfg)
        state = self.state
        funcs = library_sources(state)
        if aux is None:
            aux = state.repl.rdb_aux()
        self.last_bgsave_try = time.time()
        self.dirty_at_fork = state.dirty
        self.child_start = time.time()
        self.child_tmp = ""  # temp-<child pid>.rdb, known once forked

        def work() -> None:
            rdb.write_rdb_file(path, rdb.rdb_chunks(state, funcs, aux), state.config["rdbchecksum"],
                               state.config["rdb-save-incremental-fsync"])

        try:
            pid = self._fork(work, lambda: rdb.temp_path(path, os.getpid()), kind="rdb")
        except OSError as e:
            self.last_bgsave_ok = False
            self.log("warning", f"Can't save in background: fork: {e.strerror}")
            raise PersistenceError(f"ERR Can't save in background: fork: {e.strerror}") from None
        self.log("notice", f"Background saving started by pid {pid}")
        self.rdb_target = "disk"
        if pid:
            self.child_pid = pid
            self.child_type = "rdb"
            self.child_tmp = rdb.temp_path(path, pid)
        else:
            self._rdb_done(True)

    def start_rdb_to_pipe(self, fd: int, preamble: bytes, trailer: bytes, aux: dict[bytes, bytes],
                          rdb_only_functions: bool = False) -> int:
        """Diskless replication (rdbSaveToSlavesSockets): a child writes `preamble`, the RDB and
        `trailer` to the pipe `fd` (the parent relays it to the replicas' sockets). Returns the
        child's pid (0: written in the foreground where fork is unavailable). The caller owns
        `fd`'s other end; this closes `fd` in the parent."""
        state = self.state
        funcs = library_sources(state)
        self.dirty_at_fork = state.dirty
        self.child_start = time.time()
        self.child_tmp = ""

        def work() -> None:
            crc = 0
            checksum = state.config["rdbchecksum"]
            _write_all(fd, preamble)
            if rdb_only_functions:
                chunks = rdb.rdb_chunks(_FunctionsOnly(state), funcs, aux)
            else:
                chunks = rdb.rdb_chunks(state, funcs, aux)
            for chunk in chunks:
                if checksum:
                    crc = rdb.crc64(chunk, crc)
                _write_all(fd, chunk)
            _write_all(fd, struct.pack("<Q", crc if checksum else 0) + trailer)

        try:
            pid = self._fork(work)
        except OSError as e:
            os.close(fd)
            self.log("warning", f"Can't save in background: fork: {e.strerror}")
            raise PersistenceError(f"ERR Can't save in background: fork: {e.strerror}") from None
        os.close(fd)
        self.rdb_target = "socket"
        if pid:
            self.log("notice", f"Background RDB transfer started by pid {pid}")
            self.child_pid = pid
            self.child_type = "rdb"
        return pid

    def _rdb_done(self, ok: bool) -> None:
        target, self.rdb_target = self.rdb_target or "disk", ""
        if target == "socket":  # backgroundSaveDoneHandlerSocket: the save status is untouched
            if ok:
                self.log("notice", "Background RDB transfer terminated with success")
            else:
                self.log("warning", "Background transfer error")
            self.dirty_at_fork = 0
            for hook in list(self.rdb_done_hooks):
                hook(ok, target)
            return
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
            if self.child_tmp:  # a child that died before it could (rdbRemoveTempFile)
                try:
                    os.unlink(self.child_tmp)
                except OSError:
                    pass
        self.on_status()
        self.dirty_at_fork = 0
        for hook in list(self.rdb_done_hooks):
            hook(ok, target)

    # --- AOF rewrite -------------------------------------------------------------------------
    def rewrite_aof(self) -> str:
        """BGREWRITEAOF (bgrewriteaofCommand)."""
        if self.child_pid:
            if self.child_type == "aof":
                raise PersistenceError("ERR Background append only file rewriting already in progress")
            self.aof_rewrite_scheduled = True
            return "Background append only file rewriting scheduled"
        if not self.start_rewrite():
            raise PersistenceError("ERR Can't execute an AOF background rewriting. "
                                   "Please check the server logs for more information.")
        return "Background append only file rewriting started"

    def start_rewrite(self) -> bool:
        """rewriteAppendOnlyFileBackground: writes go to the next incr file, and a child writes
        the new base to temp-rewriteaof-bg-<its pid>.aof in the data folder."""
        try:
            self.aof.begin_rewrite()
        except OSError:  # (begin_rewrite logged why, as Redis)
            self.aof_last_rewrite_ok = False
            return False
        data_dir = paths.data_dir(self.cfg)
        self.child_start = time.time()
        state = self.state

        def tmp_of(pid: int) -> str:
            return os.path.join(data_dir, f"temp-rewriteaof-bg-{pid}.aof")

        def work() -> None:
            write_base(state, tmp_of(os.getpid()))

        try:
            pid = self._fork(work, lambda: tmp_of(os.getpid()), kind="aof")
        except OSError as e:
            self.aof_last_rewrite_ok = False
            self.log("warning", f"Can't rewrite append only file in background: fork: {e.strerror}")
            return False
        self.aof_rewrite_scheduled = False
        self.child_tmp = tmp_of(pid or os.getpid())
        self.log("notice", f"Background append only file rewriting started by pid {pid or os.getpid()}")
        if pid:
            self.child_pid = pid
            self.child_type = "aof"
        else:
            self._aof_rewrite_done(True)
        return True

    def _aof_rewrite_done(self, ok: bool) -> None:
        """backgroundRewriteDoneHandler."""
        self.aof_last_rewrite_time_sec = int(time.time() - self.child_start)
        aof = self.aof
        if ok and os.path.exists(self.child_tmp):
            self.log("notice", "Background AOF rewrite terminated with success")
            try:
                aof.finish_rewrite(self.child_tmp)
            except OSError:
                ok = False
            else:
                self.aof_rewrites += 1
                self.aof_last_rewrite_ok = True
                self.aof_rewrites_consecutive_failures = 0
                self.log("notice", "Background AOF rewrite finished successfully")
        else:
            self.log("warning", "Background AOF rewrite terminated with error")
            ok = False
        if not ok:
            self.aof_last_rewrite_ok = False
            self.aof_rewrites_consecutive_failures += 1
            try:
                os.unlink(self.child_tmp)
            except OSError:
                pass
            if aof.waiting:  # the first rewrite of CONFIG SET appendonly yes: try again
                aof.abort_rewrite()
                self.aof_rewrite_scheduled = True

    # --- children ----------------------------------------------------------------------------
    def _fork_latency(self, seconds: float) -> None:
        self.state.latency.forked(seconds)

    def _fork(self, work: Callable[[], None], tmp_in_child: Callable[[], str] | None = None,
              kind: str = "rdb") -> int:
        """Run work() in a forked child; returns the child pid (0 when done in the foreground).
        Everything the child needs must already be imported (another thread may hold the
        import lock at fork time in embedded servers): this module imports it all at the top."""
        if not hasattr(os, "fork"):
            work()
            return 0
        parent = os.getpid()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid:
            self._fork_latency(time.perf_counter() - t0)
        if pid == 0:
            code = 0
            try:
                _close_inherited_sockets()
                _exit_with_parent(parent, tmp_in_child() if tmp_in_child is not None else self.child_tmp)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                for hook in self.state.fork_child_hooks:
                    hook(kind)
                work()
            except BaseException:
                code = 1
            os._exit(code)
        return pid

    def kill_child(self) -> None:
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
            kind, target = self.child_type, self.rdb_target
            self.child_pid = 0
            self.child_type = ""
            self.rdb_target = ""
            if kind == "rdb":  # replicas waiting for this RDB are told it failed
                for hook in list(self.rdb_done_hooks):
                    hook(False, target or "disk")

    def reap(self) -> None:
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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class _FunctionsOnly:
    """REPLCONF rdb-filter-only functions: an RDB with the libraries and no keys."""

    def __init__(self, state) -> None:
        self.config = state.config
        self.dbs = []


def _close_inherited_sockets() -> None:
    """First thing in a fork child (Redis's closeChildUnusedResourceAfterFork): close every
    socket inherited from the server -- listeners and clients -- so that if the parent dies
    mid-save, new connections are refused rather than accepted and never answered, and the
    port is free for an immediate restart."""
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc (not Linux): look at the usual range
        fds = list(range(3, 4096))
    for fd in fds:
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            pass


def _exit_with_parent(parent: int, tmp: str) -> None:
    """The child ends when its parent does (Linux: PR_SET_PDEATHSIG), removing the temporary
    file it was writing: nothing is left working for a server that is gone."""
    def gone(*_args) -> None:
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        os._exit(1)

    signal.signal(signal.SIGTERM, gone)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the check below still covers a dead parent
        pass
    if os.getppid() != parent:  # it died before prctl took effect
        gone()
