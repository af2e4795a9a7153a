"""AofWriter: the AOF as it is written. A propagation sink (core/propagate.py) while appendonly
is on: the commands Redis would propagate are buffered (with a SELECT when the database
changes), written before the replies that acknowledge them leave, and fsynced per appendfsync
(always: before those replies; everysec: once a second in a helper thread; no: by the OS).
It keeps WAITAOF's offsets (core/waitaof.py): every command fed advances the replication
offset, every fsync the offset known to be on disk. It also owns the file set being appended to: the manifest, the incr file, and the switch of
files around a rewrite (aof.py is the file format, paths.py the names).

A failing write keeps the buffer for the next try and reports through on_status(), so the
server can refuse writes (MISCONF) until the AOF is writable again.

API:
    w = AofWriter(state, log, on_status)
    w.set_on(on)                       # become (stop being) a propagation sink
    w.feed(dbid, argv)                 # the sink
    w.flush(force_fsync=False) -> ok   # write the buffer; fsync under `always` or when forced
    w.fsync_before_reply() -> bool     # appendfsync always with an open file (group commit)
    w.everysec()                       # cron: background fsync under `everysec`
    w.load_manifest()                  # start-up: the manifest on disk (AOF on or off)
    w.adopt()                          # after loading: sizes of the file set found on disk
    w.open_on_start()                  # a base when there is no AOF; open (or create) the last incr file
    w.begin_rewrite()                  # writes go to a new incr file from now on (OSError: refused)
    w.finish_rewrite(tmp)              # the child's base: older files become history
    w.abort_rewrite() / w.delete_history()
    w.stop()                           # appendonly no: fsync, close, stop feeding
    w.close()                          # shutdown: close the file, wait for the fsync thread
    w.on, w.last_write_ok, w.last_write_error, w.current_size, w.base_size, w.buf, w.fsync_pending()
"""

from __future__ import annotations

import concurrent.futures
import errno
import os
import time
from typing import Callable

from ..core.state import ServerState
from ..core.waitaof import fsynced
from ..util import set_affinity
from . import paths
from .aof import AofInfo, Manifest, encode_command
from .rewrite import write_base


class AofWriter:
    def __init__(self, state: ServerState, log: Callable[[str, str], None], on_status: Callable[[], None],
                 fatal: Callable[[str], None] | None = None) -> None:
        self.state = state
        self.cfg = state.config
        self.log = log
        self.on_status = on_status  # called when the write status changes (ok <-> failing)
        self.fatal = fatal  # the server cannot go on: appendfsync always and the AOF failed
        self._last_error_log = 0.0
        self.on = False  # appendonly: on, or waiting for its first rewrite (waiting)
        self.waiting = False  # Redis's AOF_WAIT_REWRITE: CONFIG SET appendonly yes, first rewrite running
        self.child_active: Callable[[], bool] = lambda: False  # a BGSAVE/BGREWRITEAOF child runs
        self.rewrite_child: Callable[[], bool] = lambda: False  # that child is a BGREWRITEAOF
        self.cur_ts = 0  # the last #TS annotation written (aof-timestamp-enabled)
        self.incr_size = 0  # bytes written to the incr file being appended to
        self.fd = -1
        self.buf: list[bytes] = []
        state.aof_buf = self.buf
        self.selected_db = -1
        self.manifest: Manifest | None = None
        self.current_size = 0
        self.base_size = 0
        self.last_write_ok = True
        self.last_write_error = ""
        self.last_fsync = time.monotonic()
        self.unsynced = False
        # Redis's bio thread for the AOF's fsyncs (bio_cpulist: its CPUs)
        self._fsync_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="aof-fsync", initializer=lambda: set_affinity(self.cfg["bio_cpulist"]))
        self._fsync_future: concurrent.futures.Future | None = None
        self._fsync_offset = -1  # the replication offset the running background fsync covers

    # --- the sink ------------------------------------------------------------------------
    def set_on(self, on: bool) -> None:
        """The AOF is a propagation sink only while it is on: with appendonly no, writes pay
        nothing for propagation (dispatch skips it when there is no sink)."""
        self.on = on
        st = self.state
        if on:
            st.propagation.add_sink(self)
            if st.fsynced_reploff == -1:  # startAppendOnly + the rewrite it starts
                st.fsynced_reploff = 0
        else:
            st.propagation.remove_sink(self)
            st.fsynced_reploff = -1

    def feed(self, dbid: int, argv: list[bytes]) -> None:
        """The propagation sink (feedAppendOnlyFile): commands as Redis propagates them, SELECT
        when the db changes, a `#TS:<unix time>` line first when the second changed
        (aof-timestamp-enabled). Waiting for the first rewrite, only while its child runs."""
        if not self.on or (self.waiting and not self.rewrite_child()):
            return
        if self.cfg["aof-timestamp-enabled"]:
            now = int(time.time())
            if self.cur_ts < now:
                self.cur_ts = now
                self.buf.append(b"#TS:%d\r\n" % now)
        if dbid != self.selected_db:
            self.buf.append(encode_command([b"SELECT", b"%d" % dbid]))
            self.selected_db = dbid
        self.buf.append(encode_command(argv))
        # Redis's master_repl_offset, counted per propagated command while nothing else feeds
        # it (no replicas), and the writing client's c->woff: what WAITAOF waits for
        st = self.state
        st.repl_offset += 1
        c = st.current_client
        if c is not None:
            c.woff = st.repl_offset

    # --- write and fsync -------------------------------------------------------------------
    def flush(self, force_fsync: bool = False) -> bool:
        """Write the buffered commands (and fsync them under appendfsync always, or when forced).
        False while the AOF cannot be written: the buffer is kept for the next try."""
        buf = self.buf
        if buf and self.fd >= 0:
            if self.state.aof_flush_sleep:  # DEBUG AOF-FLUSH-SLEEP <microseconds>
                time.sleep(self.state.aof_flush_sleep / 1_000_000)
            data = b"".join(buf)
            buf.clear()
            written = 0
            try:
                # one write, as Redis: a short write is a failure too (a full disk, a file limit)
                t0 = time.perf_counter()
                written = os.write(self.fd, data)
                if self.state.latency_us:
                    self._write_latency(int((time.perf_counter() - t0) * 1000))
                if written < len(data):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self.current_size += len(data)
                self.incr_size += len(data)
                self.unsynced = True
                if not self.last_write_ok:
                    self.log("warning", "AOF write error looks solved, Redis can write again.")
                    self.last_write_ok = True
                    self.on_status()
            except OSError as e:
                self._write_failed(data, written, e)
                return False
        elif buf and not self.on:
            buf.clear()
        if self.cfg["no-appendfsync-on-rewrite"] and self.child_active():
            return self.last_write_ok  # no fsync while a child writes to the disk (the next one catches up)
        if self.unsynced and (force_fsync or self.cfg["appendfsync"] == "always"):
            try:
                t0 = time.perf_counter()
                os.fsync(self.fd)
                if self.state.latency_us and self.cfg["appendfsync"] == "always":
                    self.state.latency.add_if_needed("aof-fsync-always", int((time.perf_counter() - t0) * 1000))
            except OSError as e:
                if self.cfg["appendfsync"] == "always" and self.fatal is not None:
                    self.fatal("Can't persist AOF for fsync error when the AOF fsync policy is 'always': "
                               f"{e.strerror or e}. Exiting...")
                self.last_write_ok = False
                self.last_write_error = e.strerror or str(e)
                self.on_status()
                return False
            self.unsynced = False
            self.last_fsync = time.monotonic()
            fsynced(self.state, self.state.repl_offset)
        return self.last_write_ok

    def _write_latency(self, ms: int) -> None:
        """flushAppendOnlyFile's latency events: the write, and what it competed with (a
        background fsync of everysec, a child saving or rewriting)."""
        lat = self.state.latency
        fut = self._fsync_future
        persistence = self.state.persistence
        if fut is not None and not fut.done():
            lat.add_if_needed("aof-write-pending-fsync", ms)
        elif persistence is not None and getattr(getattr(persistence, "bg", None), "child_pid", 0):
            lat.add_if_needed("aof-write-active-child", ms)
        else:
            lat.add_if_needed("aof-write-alone", ms)
        lat.add_if_needed("aof-write", ms)

    def _write_failed(self, data: bytes, written: int, e: OSError) -> None:
        """flushAppendOnlyFile's error path. A short write is cut off the file again
        (ftruncate to the size before it), so the next try appends whole commands; if that
        fails, the part written stays counted and only the rest is retried. Under appendfsync
        always the server cannot keep its promise (replies wait for the disk): it exits.
        Otherwise writes are refused with MISCONF until a retry succeeds; the error is
        logged at most once every 30 seconds."""
        error = os.strerror(errno.ENOSPC) if written else (e.strerror or str(e))  # Redis reports ENOSPC then
        now = time.monotonic()
        can_log = now - self._last_error_log > 30
        if can_log:
            self._last_error_log = now
        if written:
            if can_log:
                self.log("warning", f"Short write while writing to the AOF file: (nwritten={written}, "
                                    f"expected={len(data)})")
            try:
                os.ftruncate(self.fd, os.fstat(self.fd).st_size - written)
                written = 0
            except OSError as te:
                if can_log:
                    self.log("warning", "Could not remove short write from the append-only file. Redis may refuse "
                                        f"to load the AOF the next time it starts. ftruncate: {te.strerror or te}")
        elif can_log:
            self.log("warning", f"Error writing to the AOF file: {error}")
        if self.cfg["appendfsync"] == "always" and self.fatal is not None:
            self.fatal("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
        self.current_size += written
        self.buf.append(data[written:])  # retried on the next flush (the cron tries every second)
        self.last_write_error = error
        if self.last_write_ok:
            self.last_write_ok = False
            self.on_status()

    def fsync_before_reply(self) -> bool:
        """appendfsync always with an open AOF: replies wait for the fsync (server/group_commit.py),
        unless no-appendfsync-on-rewrite holds it back while a child runs."""
        return (self.on and self.cfg["appendfsync"] == "always" and self.fd >= 0
                and not (self.cfg["no-appendfsync-on-rewrite"] and self.child_active()))

    def everysec(self) -> None:
        fut = self._fsync_future
        if fut is not None and self._fsync_offset >= 0 and fut.done():
            fsynced(self.state, self._fsync_offset)  # the last background fsync is done
            self._fsync_offset = -1
        if not self.unsynced or self.fd < 0 or self.cfg["appendfsync"] != "everysec":
            return
        if self.cfg["no-appendfsync-on-rewrite"] and self.child_active():
            return
        now = time.monotonic()
        if now - self.last_fsync < 1.0:
            return
        if self._fsync_future is not None and not self._fsync_future.done():
            return  # the previous fsync is still running: don't pile up
        self.unsynced = False
        self.last_fsync = now
        self._fsync_offset = self.state.repl_offset  # everything fed is written (flushed first)
        self._fsync_future = self._fsync_pool.submit(_fsync_quiet, self.fd)

    def fsync_pending(self) -> bool:
        return self._fsync_future is not None and not self._fsync_future.done()

    # --- the file set ----------------------------------------------------------------------
    # As Redis's aof.c: the manifest is read from disk at start-up whether or not the AOF is on
    # (load_manifest); a rewrite opens the next incr file at once (or, while CONFIG SET
    # appendonly yes waits for its first rewrite, a temporary one), and when it succeeds the
    # old base and the incr files it covers become history, which is deleted unless
    # aof-disable-auto-gc is yes.
    def load_manifest(self) -> None:
        """aofLoadManifestFromDisk: the manifest on disk, or an empty one."""
        path = paths.manifest_path(self.cfg)
        self.manifest = Manifest.load(path) if os.path.isfile(path) else Manifest()

    def adopt(self) -> None:
        """The AOF loaded at startup: its sizes (the base's is the rewrite base)."""
        m = self.manifest
        assert m is not None
        cfg = self.cfg
        self.base_size = os.path.getsize(paths.aof_file(cfg, m.base)) if m.base else 0
        files = ([m.base] if m.base else []) + m.incrs
        self.current_size = sum(os.path.getsize(paths.aof_file(cfg, i)) for i in files)

    def open_on_start(self) -> None:
        """aofOpenIfNeededOnServerStart: with no AOF at all a base of the (empty) dataset is
        written first; then the last incr file is opened for appending (a new one when there
        is none), and the manifest saved if that changed it."""
        m = self.manifest
        assert m is not None
        cfg = self.cfg
        os.makedirs(paths.aof_dir(cfg), exist_ok=True)
        had_incr = bool(m.incrs)
        if m.base is None and not m.incrs:
            name = self._new_base_name(m)
            write_base(self.state, paths.aof_file(cfg, m.base))
            if cfg["aof-timestamp-enabled"] and not cfg["aof-use-rdb-preamble"]:
                # written in this process (not a child): its #TS is the current one, as Redis's
                # genAofTimestampAnnotationIfNeeded(1) in rewriteAppendOnlyFileRio
                self.cur_ts = int(time.time())
            self.log("notice", f"Creating AOF base file {name} on server start")
        if not m.incrs:
            self._new_incr_name(m)
        name = m.incrs[-1].name
        self._set_fd(os.open(paths.aof_file(cfg, m.incrs[-1]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        self.selected_db = -1
        if m.dirty:
            m.write(paths.manifest_path(cfg))
        self.adopt()
        verb = "Opening" if had_incr else "Creating"
        self.log("notice", f"{verb} AOF incr file {name} on server start")

    def _new_base_name(self, m: Manifest) -> str:
        """getNewBaseFileNameAndMarkPreAsHistory."""
        if m.base is not None:
            m.history.insert(0, AofInfo(m.base.name, m.base.seq, "h"))
        m.curr_base_seq += 1
        m.base = AofInfo(paths.base_name(self.cfg, m.curr_base_seq), m.curr_base_seq, "b")
        m.dirty = True
        return m.base.name

    def _new_incr_name(self, m: Manifest) -> str:
        """getNewIncrAofName."""
        m.curr_incr_seq += 1
        m.incrs.append(AofInfo(paths.incr_name(self.cfg, m.curr_incr_seq), m.curr_incr_seq, "i"))
        m.dirty = True
        return m.incrs[-1].name

    def temp_incr_path(self) -> str:
        return os.path.join(paths.aof_dir(self.cfg), f"temp-{self.cfg['appendfilename']}.incr")

    def begin_rewrite(self) -> None:
        """rewriteAppendOnlyFileBackground before the fork: the buffer is written out, and
        writes go to a new incr file from now on (openNewIncrAofForAppend), listed in the
        manifest at once so that a crash during the rewrite still loads everything. Raises
        OSError when the file or the manifest cannot be written."""
        cfg = self.cfg
        try:
            os.makedirs(paths.aof_dir(cfg), exist_ok=True)
        except OSError as e:
            self.log("warning", f"Can't open or create append-only dir {cfg['appenddirname']}: {e.strerror}")
            raise
        if self.manifest is None:
            self.manifest = Manifest()
        self.selected_db = -1
        if self.fd >= 0:
            self.flush(force_fsync=True)
        if not self.on:
            return
        if self.waiting:
            name = os.path.basename(self.temp_incr_path())
            fd = os.open(self.temp_incr_path(), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        else:
            m = self.manifest.copy()
            name = self._new_incr_name(m)
            try:
                fd = os.open(paths.aof_file(cfg, m.incrs[-1]), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
            except OSError as e:
                self.log("warning", f"Can't open the append-only file {name}: {e.strerror}")
                raise
            try:
                m.write(paths.manifest_path(cfg))
            except OSError as e:
                self.log("warning", str(e))
                os.close(fd)
                raise
            self.manifest = m
        self.log("notice", f"Creating AOF incr file {name} on background rewrite")
        self._set_fd(fd)
        self.incr_size = 0

    def finish_rewrite(self, tmp: str) -> None:
        """backgroundRewriteDoneHandler, the child having written `tmp`: it becomes the next
        base; while waiting for the first rewrite the temporary incr file becomes the next incr
        file; the incr files the base covers become history (all of them with the AOF off,
        all but the one being written with it on); history is deleted unless
        aof-disable-auto-gc. Raises OSError (the rewrite failed, nothing changed)."""
        cfg = self.cfg
        m = self.manifest.copy() if self.manifest is not None else Manifest()
        base = self._new_base_name(m)
        try:
            os.rename(tmp, paths.aof_file(cfg, m.base))
        except OSError as e:
            self.log("warning", f"Error trying to rename the temporary AOF base file {tmp} into "
                                f"{paths.aof_file(cfg, m.base)}: {e.strerror}")
            raise
        self.log("notice", f"Successfully renamed the temporary AOF base file {tmp} into {base}")
        if self.waiting:
            incr = self._new_incr_name(m)
            os.rename(self.temp_incr_path(), paths.aof_file(cfg, m.incrs[-1]))
            self.log("notice", f"Successfully renamed the temporary AOF incr file "
                               f"{os.path.basename(self.temp_incr_path())} into {incr}")
        keep = m.incrs[-1:] if self.fd >= 0 else []  # markRewrittenIncrAofAsHistory
        for info in reversed(m.incrs[:len(m.incrs) - len(keep)]):
            m.history.insert(0, AofInfo(info.name, info.seq, "h"))
        m.incrs = list(keep)
        m.write(paths.manifest_path(cfg))
        m.dirty = False
        self.manifest = m
        if self.on:
            self.base_size = os.path.getsize(paths.aof_file(cfg, m.base))
            self.current_size = self.base_size + self.incr_size
        self.delete_history()
        self.waiting = False

    def abort_rewrite(self) -> None:
        """The rewrite failed while waiting for the first one: what was written since is
        dropped with the temporary incr file (the next rewrite starts over)."""
        if self.waiting:
            self.buf.clear()
            try:
                os.unlink(self.temp_incr_path())
            except OSError:
                pass

    def delete_history(self) -> None:
        """aofDelHistoryFiles: the history files go (unless aof-disable-auto-gc) and the
        manifest forgets them."""
        m = self.manifest
        if m is None or self.cfg["aof-disable-auto-gc"] or not m.history:
            return
        for info in m.history:
            self.log("notice", f"Removing the history file {info.name} in the background")
            try:
                os.unlink(paths.aof_file(self.cfg, info))
            except OSError:
                pass
        m.history = []
        try:
            m.write(paths.manifest_path(self.cfg))
        except OSError as e:
            self.log("warning", str(e))  # (writeAofManifestFile's line)

    def _set_fd(self, fd: int) -> None:
        old = self.fd
        self.fd = fd
        if old >= 0:
            _fsync_quiet(old)
            os.close(old)

    # --- stop --------------------------------------------------------------------------------
    def stop(self) -> None:
        """appendonly no (stopAppendOnly): what was written is fsynced, the file closed,
        nothing more is fed."""
        self.flush(force_fsync=True)
        if self.fd >= 0:
            _fsync_quiet(self.fd)
        self.set_on(False)
        self.waiting = False
        self.buf.clear()
        self.selected_db = -1
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._fsync_pool.shutdown(wait=True)


def _fsync_quiet(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:
        pass
