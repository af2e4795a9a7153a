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
    w.adopt(manifest)                  # after loading: the file set found on disk
    w.create()                         # no AOF yet: a base of the dataset and an empty incr file
    w.open_incr_for_append()
    new_incr, base_seq = w.begin_rewrite(starting)   # writes go to a new incr file from now on
    w.finish_rewrite(tmp, base_seq, new_incr, starting)   # the child's base replaces the history
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
        self.on = False
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
        self._fsync_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="aof-fsync")
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
        """The propagation sink: commands as Redis propagates them, SELECT when the db changes."""
        if not self.on:
            return
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
        # (AOF on but no file yet: CONFIG SET appendonly yes is writing the first base; the
        # writes since its fork stay buffered and go to the incr file once it exists.)
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
        """appendfsync always with an open AOF: replies wait for the fsync (server/group_commit.py)."""
        return self.on and self.cfg["appendfsync"] == "always" and self.fd >= 0

    def everysec(self) -> None:
        fut = self._fsync_future
        if fut is not None and self._fsync_offset >= 0 and fut.done():
            fsynced(self.state, self._fsync_offset)  # the last background fsync is done
            self._fsync_offset = -1
        if not self.unsynced or self.fd < 0 or self.cfg["appendfsync"] != "everysec":
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
    def adopt(self, m: Manifest) -> None:
        """The AOF loaded at startup: append to its file set from now on."""
        cfg = self.cfg
        self.manifest = m
        self.base_size = os.path.getsize(paths.aof_file(cfg, m.base)) if m.base else 0
        files = ([m.base] if m.base else []) + m.incrs
        self.current_size = sum(os.path.getsize(paths.aof_file(cfg, i)) for i in files)

    def create(self) -> None:
        """No AOF yet: write a base of the current dataset and an empty incr file."""
        cfg = self.cfg
        aof_dir = paths.aof_dir(cfg)
        os.makedirs(aof_dir, exist_ok=True)
        m = Manifest()
        m.curr_base_seq = 1
        base_name = paths.base_name(cfg, 1)
        write_base(self.state, os.path.join(aof_dir, base_name))
        m.base = AofInfo(base_name, 1, "b")
        m.curr_incr_seq = 1
        m.incrs = [AofInfo(paths.incr_name(cfg, 1), 1, "i")]
        open(os.path.join(aof_dir, m.incrs[0].name), "ab").close()
        m.write(paths.manifest_path(cfg))
        self.manifest = m
        self.base_size = os.path.getsize(os.path.join(aof_dir, base_name))
        self.current_size = self.base_size
        self.open_incr_for_append()

    def open_incr_for_append(self) -> None:
        m = self.manifest
        assert m is not None
        cfg = self.cfg
        if not m.incrs:
            m.curr_incr_seq += 1
            m.incrs.append(AofInfo(paths.incr_name(cfg, m.curr_incr_seq), m.curr_incr_seq, "i"))
            m.write(paths.manifest_path(cfg))
        self._set_fd(os.open(paths.aof_file(cfg, m.incrs[-1]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        self.selected_db = -1

    def _set_fd(self, fd: int) -> None:
        old = self.fd
        self.fd = fd
        if old >= 0:
            _fsync_quiet(old)
            os.close(old)

    def begin_rewrite(self, starting: bool) -> tuple[AofInfo, int]:
        """A rewrite starts: returns the incr file that follows its base, and the base's seq.
        Writes from now on go to that new incr file, listed in the manifest at once so a crash
        during the rewrite still loads everything. `starting`: CONFIG SET appendonly yes, the
        base is the whole AOF and the incr file is created when it is installed."""
        cfg = self.cfg
        os.makedirs(paths.aof_dir(cfg), exist_ok=True)
        if self.manifest is None:
            self.manifest = Manifest()
        m = self.manifest
        if self.on and not starting:
            self.flush(force_fsync=True)
        m.curr_incr_seq += 1
        new_incr = AofInfo(paths.incr_name(cfg, m.curr_incr_seq), m.curr_incr_seq, "i")
        if self.on and not starting:
            m.incrs.append(new_incr)
            m.write(paths.manifest_path(cfg))
            self._set_fd(os.open(paths.aof_file(cfg, new_incr), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
            self.selected_db = -1
        return new_incr, m.curr_base_seq + 1

    def finish_rewrite(self, tmp: str, base_seq: int, new_incr: AofInfo, starting: bool) -> None:
        """The rewrite child wrote `tmp`: it becomes the base, and the base and incr files it
        covers are deleted (recorded as history in the manifest first)."""
        m = self.manifest
        assert m is not None
        cfg = self.cfg
        base_name = paths.base_name(cfg, base_seq)
        os.replace(tmp, os.path.join(paths.aof_dir(cfg), base_name))
        history = ([m.base] if m.base else []) + [i for i in m.incrs if i.seq < new_incr.seq]
        m.base = AofInfo(base_name, base_seq, "b")
        m.curr_base_seq = base_seq
        if starting:
            # AOF turned on at runtime: the incr file starts now, empty.
            m.incrs = [new_incr]
            open(paths.aof_file(cfg, new_incr), "ab").close()
        else:
            m.incrs = [i for i in m.incrs if i.seq >= new_incr.seq]
        m.history = history
        manifest_path = paths.manifest_path(cfg)
        m.write(manifest_path)
        for h in history:
            try:
                os.unlink(paths.aof_file(cfg, h))
            except OSError:
                pass
        m.history = []
        m.write(manifest_path)
        if starting and self.on:
            # Writes since the fork were buffered (flush keeps them while there is no file):
            # they start the new incr file, after the fork-time base.
            self.open_incr_for_append()
            self.flush(force_fsync=True)
        self.base_size = os.path.getsize(paths.aof_file(cfg, m.base))
        self.current_size = self.base_size + sum(
            os.path.getsize(paths.aof_file(cfg, i)) for i in m.incrs if os.path.exists(paths.aof_file(cfg, i))
        )

    # --- stop --------------------------------------------------------------------------------
    def stop(self) -> None:
        """appendonly no: what was written is fsynced, the file closed, nothing more is fed."""
        self.flush(force_fsync=True)
        self.set_on(False)
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
