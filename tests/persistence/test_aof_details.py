"""AOF details against redis-server 7.0.15, each server in its own folder with the same
arguments: #TS annotations (aof-timestamp-enabled), the manifest and the files of the AOF folder
after rewrites, restarts and history GC (aof-disable-auto-gc), and what each server logs when a
file of the manifest is missing or unreadable."""

from __future__ import annotations

import os
import re
import time

import pytest

from directives_env import PYREDIS, REDIS, launch, low_port
from resp import RawClient

SIDES = (("ours", PYREDIS), ("theirs", REDIS))


class Side:
    """One server of the pair, restartable in its folder."""

    def __init__(self, root, name: str, cmd, *args: str) -> None:
        self.dir = os.path.join(str(root), name)
        os.makedirs(self.dir, exist_ok=True)
        self.cmd = cmd
        self.args = args
        self.srv = None
        self.port = 0
        self.runs = 0

    def start(self, *extra: str):
        self.port = low_port()
        self.runs += 1
        self.srv = launch([*self.cmd, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir,
                           "--appendonly", "yes", *self.args, *extra], self.port, self.dir, tag=f"log{self.runs}")
        return self.srv

    def call(self, *args):
        c = RawClient("127.0.0.1", self.port)
        try:
            return c.call(*args)
        finally:
            c.close()

    def wait_rewrite(self) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            info = self.call("INFO", "persistence")
            if b"aof_rewrite_in_progress:0" in info and b"aof_rewrite_scheduled:0" in info:
                return
            time.sleep(0.05)
        raise AssertionError("the rewrite did not end")

    def stop(self) -> None:
        if self.srv is not None:
            self.srv.stop()
            self.srv = None

    def aofdir(self, name: str = "appendonlydir") -> str:
        return os.path.join(self.dir, name)

    def listing(self, name: str = "appendonlydir") -> dict[str, str]:
        """The AOF folder: the manifest's text, and the other files' names."""
        d = self.aofdir(name)
        out = {}
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n), "rb") as f:
                data = f.read()
            out[n] = data.decode() if n.endswith(".manifest") else "(file)"
        return out


@pytest.fixture
def pair(tmp_path):
    made: list[Side] = []

    def make(*args: str, tag: str = "p") -> tuple[Side, Side]:
        sides = tuple(Side(tmp_path / tag, name, cmd, *args) for name, cmd in SIDES)
        made.extend(sides)
        return sides

    yield make
    for s in made:
        s.stop()


def _without_ts(data: bytes) -> bytes:
    return re.sub(rb"#TS:\d+\r\n", b"", data)


def _commands_by_db(data: bytes) -> dict[bytes, list]:
    """A rewritten AOF's commands, db by db, sorted (the key order is each server's own)."""
    from pyredis.persistence.aof import scan_commands

    out: dict[bytes, list] = {}
    db = b"0"
    for argv, _ in scan_commands(data):
        if argv[0].upper() == b"SELECT":
            db = argv[1]
            continue
        out.setdefault(db, []).append(argv)
    return {k: sorted(v) for k, v in out.items()}


def test_timestamp_annotations(pair):
    """aof-timestamp-enabled: `#TS:<unix time>` before the first command of each second, in
    the incr file and at the start of a RESP base written by a rewrite; both servers load such
    files back."""
    ours, theirs = pair("--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", "no")
    for s in (ours, theirs):
        t0 = int(time.time())
        assert s.start().started
        c = RawClient("127.0.0.1", s.port)
        c.call("SET", "a", "1")
        c.call("SELECT", "2")
        c.call("RPUSH", "l", "x", "y")
        time.sleep(1.1)  # the next write is in a later second: a new annotation
        c.call("INCR", "n")
        c.close()
        t1 = int(time.time())
        s.t = (t0, t1)
    files = []
    for s in (ours, theirs):
        with open(os.path.join(s.aofdir(), "appendonly.aof.1.incr.aof"), "rb") as f:
            data = f.read()
        stamps = [int(x) for x in re.findall(rb"#TS:(\d+)\r\n", data)]
        # (the first write has none when it comes in the second of the base written at start)
        assert stamps and re.search(rb"#TS:\d+\r\n\*2\r\n\$4\r\nINCR", data), data
        assert all(s.t[0] <= x <= s.t[1] for x in stamps) and stamps == sorted(set(stamps))
        files.append(_without_ts(data))
    assert files[0] == files[1]
    bases = []
    for s in (ours, theirs):
        s.call("BGREWRITEAOF")
        s.wait_rewrite()
        with open(os.path.join(s.aofdir(), "appendonly.aof.2.base.aof"), "rb") as f:
            base = f.read()
        assert re.match(rb"#TS:\d+\r\n\*", base), base[:40]
        bases.append(_commands_by_db(base))
    assert bases[0] == bases[1]
    for s in (ours, theirs):
        s.call("SET", "after", "rewrite")
        s.stop()
        assert s.start().started
    for args in (("GET", "a"), ("GET", "after")):
        assert ours.call(*args) == theirs.call(*args)
    c = [RawClient("127.0.0.1", s.port) for s in (ours, theirs)]
    try:
        for args in (("SELECT", "2"), ("LRANGE", "l", "0", "-1"), ("GET", "n"), ("DBSIZE",)):
            assert c[0].call(*args) == c[1].call(*args), args
    finally:
        for x in c:
            x.close()


def test_manifest_after_rewrites_restarts_and_gc(pair):
    """Sequence numbers, history entries kept while aof-disable-auto-gc is yes, deleted when
    it goes back to no (CONFIG SET) or at start-up; appendonly off and on again starts a new
    base: the manifest's text and the folder's files are Redis's at each step."""
    ours, theirs = pair("--aof-disable-auto-gc", "yes", "--appenddirname", "aofs", "--appendfilename", "my file.aof")
    steps: list[list[dict]] = [[], []]
    for i, s in enumerate((ours, theirs)):
        assert s.start().started
        s.call("SET", "a", "1")
        for n in range(2):
            s.call("BGREWRITEAOF")
            s.wait_rewrite()
            s.call("SET", "x", str(n))
            steps[i].append(s.listing("aofs"))
        s.stop()
        assert s.start().started  # history kept (GC disabled) across a restart
        steps[i].append(s.listing("aofs"))
        assert s.call("CONFIG", "SET", "aof-disable-auto-gc", "no") == b"OK"
        steps[i].append(s.listing("aofs"))
        s.call("BGREWRITEAOF")
        s.wait_rewrite()
        steps[i].append(s.listing("aofs"))
        s.call("CONFIG", "SET", "appendonly", "no")
        s.call("SET", "y", "1")
        steps[i].append(s.listing("aofs"))
        s.call("CONFIG", "SET", "appendonly", "yes")
        s.wait_rewrite()
        steps[i].append(s.listing("aofs"))
        s.stop()
    for n, (a, b) in enumerate(zip(*steps)):
        assert a == b, (n, a, b)
    assert 'file "my file.aof.3.base.rdb" seq 3 type b\n' in steps[1][2]["my file.aof.manifest"]


def test_history_deleted_at_startup(pair):
    ours, theirs = pair()
    for s in (ours, theirs):
        assert s.start("--aof-disable-auto-gc", "yes").started
        s.call("SET", "a", "1")
        s.call("BGREWRITEAOF")
        s.wait_rewrite()
        s.stop()
        assert "type h" in s.listing()["appendonly.aof.manifest"]
        assert s.start().started
        s.stop()
    assert ours.listing() == theirs.listing()
    assert "type h" not in ours.listing()["appendonly.aof.manifest"]


def _last_line(text: str) -> str:
    lines = [re.sub(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] ", "", ln) for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _break_and_restart(pair, tag: str, breaker) -> tuple[str, str]:
    ours, theirs = pair(tag=tag)
    lines = []
    for s in (ours, theirs):
        assert s.start().started
        s.call("SET", "a", "1")
        s.stop()
        breaker(s.aofdir())
        srv = s.start()
        assert not srv.started, (s.cmd, srv.output()[-300:])  # (it answered PING before exiting)
        srv.proc.wait(20)
        lines.append((srv.proc.returncode, _last_line(srv.output())))
    return lines[0], lines[1]


def _replace_with_folder(path: str) -> None:
    os.unlink(path)
    os.mkdir(path)


BREAKS = {
    "missing-incr": lambda d: os.unlink(os.path.join(d, "appendonly.aof.1.incr.aof")),
    "missing-base": lambda d: os.unlink(os.path.join(d, "appendonly.aof.1.base.rdb")),
    "incr-is-a-folder": lambda d: _replace_with_folder(os.path.join(d, "appendonly.aof.1.incr.aof")),
    "base-is-a-folder": lambda d: _replace_with_folder(os.path.join(d, "appendonly.aof.1.base.rdb")),
    "manifest-is-a-folder": lambda d: _replace_with_folder(os.path.join(d, "appendonly.aof.manifest")),
    "manifest-bad-line": lambda d: open(os.path.join(d, "appendonly.aof.manifest"), "a").write("garbage line\n"),
    "manifest-empty": lambda d: open(os.path.join(d, "appendonly.aof.manifest"), "w").close(),
    "manifest-path": lambda d: open(os.path.join(d, "appendonly.aof.manifest"), "a").write(
        "file ../x.aof seq 2 type i\n"),
    "manifest-two-bases": lambda d: open(os.path.join(d, "appendonly.aof.manifest"), "a").write(
        "file b2 seq 2 type b\n"),
    "manifest-unknown-type": lambda d: open(os.path.join(d, "appendonly.aof.manifest"), "a").write(
        "file b2 seq 2 type z\n"),
    "manifest-seq-order": lambda d: open(os.path.join(d, "appendonly.aof.manifest"), "a").write(
        "file i0 seq 1 type i\n"),
}


@pytest.mark.parametrize("tag", list(BREAKS))
def test_error_texts_on_broken_aof_files(pair, tag):
    ours, theirs = _break_and_restart(pair, tag, BREAKS[tag])
    assert ours == theirs
    assert ours[0] == 1


def _command_counts(s) -> dict[str, str]:
    """INFO commandstats as {command: calls}, and total_commands_processed."""
    out = {}
    for line in s.call("INFO", "commandstats").decode().splitlines():
        if line.startswith("cmdstat_"):
            name, _, rest = line.partition(":")
            out[name] = rest.split(",")[0]
    stats = s.call("INFO", "stats").decode()
    out["total_commands_processed"] = re.search(r"total_commands_processed:(\d+)", stats).group(1)
    return out


def test_loaded_commands_are_not_counted(pair):
    """Loading the AOF runs each command as cmd->proc(fakeClient): no command statistics, except
    what EXEC's call() counts of a transaction's commands."""
    ours, theirs = pair(tag="stats")
    seen = []
    for s in (ours, theirs):
        assert s.start().started
        s.call("SET", "a", "1")
        s.call("INCR", "n")
        s.call("MULTI")
        s.call("SET", "b", "2")
        s.call("LPUSH", "l", "x")
        s.call("EXEC")
        s.call("SELECT", "2")
        s.call("SET", "c", "3")
        s.stop()
        assert s.start().started
        seen.append(_command_counts(s))
        assert s.call("GET", "a") == b"1"
        s.stop()
    assert seen[0] == seen[1]
