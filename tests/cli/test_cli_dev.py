"""`cli dev ...` end to end: real subprocesses, free loopback ports, tmp project folders."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

BIN = Path(sys.executable).parent
CLI = str(BIN / "cli")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(project: Path, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "dev", *args], cwd=project, capture_output=True, text=True, input=input,
                          timeout=timeout)


class Project:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port

    def pid(self) -> int | None:
        try:
            return int((self.root / ".pyredis" / "pyredis.pid").read_text())
        except (OSError, ValueError):
            return None

    def client(self, **kw) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, **kw)


def _kill_leftover(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


@pytest.fixture
def project(tmp_path):
    port = free_port()
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[project]\nname = "app"\n\n[tool.pyredis.dev]\nport = {port}\n')
    proj = Project(root, port)
    started: list[int] = []
    proj.started = started
    try:
        yield proj
    finally:
        pid = proj.pid()
        cli(root, "stop-env", "--force", "--timeout", "10")
        _kill_leftover(pid)
        for p in started:
            _kill_leftover(p)


def test_lifecycle_persistence_and_reset(project):
    out = cli(project.root, "start-env")
    assert out.returncode == 0, out.stderr
    assert f"redis://localhost:{project.port}" in out.stdout and "ready" in out.stdout
    pid = project.pid()
    assert pid and Path(f"/proc/{pid}").exists()
    # idempotent
    again = cli(project.root, "start-env")
    assert again.returncode == 0 and f"already running (PID {pid})" in again.stdout
    assert cli(project.root, "health").stdout == "PONG\n"
    c = project.client()
    c.set("session:1", "token")
    c.hset("user:1", mapping={"name": "ada"})
    status = cli(project.root, "status")
    assert status.returncode == 0
    assert f"PID {pid}" in status.stdout and "Keys:        2" in status.stdout and "AOF on" in status.stdout
    js = cli(project.root, "status", "--json")
    import json

    info = json.loads(js.stdout)
    assert info["running"] and info["keys"] == 2 and info["aof_enabled"] and info["port"] == project.port
    # AOF lives in the data folder, Redis 7 multi-part layout
    aofdir = project.root / ".pyredis" / "data" / "appendonlydir"
    assert (aofdir / "appendonly.aof.manifest").exists()
    stop = cli(project.root, "stop-env")
    assert stop.returncode == 0 and "stopped" in stop.stdout
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]
    assert not (project.root / ".pyredis" / "pyredis.pid").exists()
    assert cli(project.root, "status").returncode == 3
    assert cli(project.root, "health").returncode == 1
    assert cli(project.root, "stop-env").stdout == "pyredis is not running\n"
    # data survives a restart (AOF flushed on graceful stop)
    assert cli(project.root, "start-env").returncode == 0
    c = project.client()
    assert c.get("session:1") == "token" and c.hget("user:1", "name") == "ada"
    c.close()
    # reset asks first
    declined = cli(project.root, "reset", input="n\n")
    assert declined.returncode != 0 and "Aborted" in declined.stderr
    assert project.client().get("session:1") == "token"
    done = cli(project.root, "reset", "--yes")
    assert done.returncode == 0 and "removed" in done.stdout
    assert not (project.root / ".pyredis" / "data").exists()
    assert cli(project.root, "start-env").returncode == 0
    assert project.client().dbsize() == 0


def test_port_in_use_reports_the_holder(project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        out = cli(project.root, "start-env", "--port", str(busy))
    assert out.returncode == 1
    assert f"port {busy} is already in use by PID {os.getpid()}" in out.stderr
    assert "python" in out.stderr  # the holder's command line, as lsof would name it
    assert project.pid() is None


def test_config_from_pyredis_conf_and_password(tmp_path):
    port = free_port()
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.pyredis.dev]\ndata-dir = "var/redis"\n'
                                         'password = "dev-secret"\n')
    (root / "pyredis.conf").write_text(f"port {port}\nappendfsync always\n")
    proj = Project(root, port)
    try:
        out = cli(root, "start-env")
        assert out.returncode == 0, out.stderr
        pid = proj.pid()
        assert "dev-secret" not in Path(f"/proc/{pid}/cmdline").read_text()  # passed on stdin
        with pytest.raises(redis.AuthenticationError):
            proj.client().ping()
        c = proj.client(password="dev-secret")
        assert c.config_get("appendfsync") == {"appendfsync": "always"}
        assert c.config_get("dir")["dir"] == str(root / "var" / "redis")
        assert c.config_get("appendonly") == {"appendonly": "yes"}
        assert cli(root, "health").stdout == "PONG\n"
        assert cli(root, "redis-cli", "ping").stdout == "PONG\n"
        # command-line options override the files
        assert cli(root, "health", "--password", "wrong").returncode == 1
    finally:
        pid = proj.pid()
        cli(root, "stop-env", "--force", "--timeout", "10")
        _kill_leftover(pid)


def test_logs_and_follow(project):
    assert cli(project.root, "logs").returncode == 1  # nothing yet
    assert cli(project.root, "start-env").returncode == 0
    out = cli(project.root, "logs", "-n", "5")
    assert "Ready to accept connections" in out.stdout
    proc = subprocess.Popen([CLI, "dev", "logs", "--follow", "-n", "0"], cwd=project.root,
                            stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        cli(project.root, "stop-env")  # the shutdown lines land in the log
        deadline = time.time() + 10
        seen = ""
        while time.time() < deadline and "bye" not in seen:
            seen += proc.stdout.readline()
        assert "bye" in seen
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_stale_pidfile_and_bad_data_folder(project):
    state = project.root / ".pyredis"
    state.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (state / "pyredis.pid").write_text(f"{dead.pid}\n")
    assert cli(project.root, "status").returncode == 3
    blocker = project.root / "afile"
    blocker.write_text("x")
    bad = cli(project.root, "start-env", "--data-dir", str(blocker / "data"))
    assert bad.returncode == 1 and "cannot write to the data folder" in bad.stderr
    ok = cli(project.root, "start-env")
    assert ok.returncode == 0, ok.stderr
    assert project.pid() != dead.pid
    assert project.client().ping()


def test_bad_config_is_reported(project):
    (project.root / "pyredis.conf").write_text("no-such-directive yes\n")
    out = cli(project.root, "start-env")
    assert out.returncode == 1 and "Bad directive" in out.stderr and "no-such-directive" in out.stderr


def test_startup_failure_shows_the_log(project):
    aof = project.root / ".pyredis" / "data" / "appendonlydir"
    aof.mkdir(parents=True)
    (aof / "appendonly.aof.manifest").write_text("this is not a manifest\n")
    out = cli(project.root, "start-env")
    assert out.returncode == 1
    assert "exited with code 1 during startup" in out.stderr and "manifest" in out.stderr.lower()
    assert project.pid() is None


def test_commands_follow_the_running_port(project):
    other = free_port()
    out = cli(project.root, "start-env", "--port", str(other))
    assert out.returncode == 0, out.stderr
    again = cli(project.root, "start-env")  # configured port differs: still the same service
    assert again.returncode == 0 and f"redis://localhost:{other}" in again.stdout and "PONG" in again.stdout
    assert cli(project.root, "health").stdout == "PONG\n"
    assert f"Port:        {other}" in cli(project.root, "status").stdout
    assert cli(project.root, "stop-env").returncode == 0


def test_settings_precedence(tmp_path, monkeypatch):
    from pyredis.cli.dev import load_settings

    root = tmp_path / "app"
    (root / "sub" / "dir").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n')
    monkeypatch.chdir(root / "sub" / "dir")  # found from a subfolder, like `uv run` anywhere in the app
    s = load_settings(None, {})
    assert (s.root, s.port, s.appendonly, s.appendfsync) == (root, 6380, True, "everysec")
    assert s.data_dir == root / ".pyredis" / "data" and s.password is None
    (root / "pyredis.conf").write_text("port 7001\nrequirepass fromconf\nappendfsync always\ndir ./var\n")
    s = load_settings(None, {})
    assert (s.port, s.password, s.appendfsync, s.data_dir) == (7001, "fromconf", "always", root / "var")
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.pyredis.dev]\nport = 7002\n'
                                         'password = "fromtoml"\nappendonly = false\n')
    s = load_settings(None, {})
    assert (s.port, s.password, s.appendonly, s.appendfsync) == (7002, "fromtoml", False, "always")
    s = load_settings(None, {"port": 7003, "password": "fromcli", "data_dir": str(tmp_path / "d")})
    assert (s.port, s.password, s.data_dir) == (7003, "fromcli", tmp_path / "d")


def test_start_env_tls_makes_a_ca_once_and_serves_rediss(project):
    (project.root / "pyredis.conf").write_text("unixsocket dev.sock\nunixsocketperm 700\n")
    out = cli(project.root, "start-env", "--tls")
    assert out.returncode == 0, out.stderr + out.stdout
    ca = project.root / ".pyredis" / "data" / "tls" / "ca.crt"
    assert f"rediss://localhost:{project.port}" in out.stdout
    assert f"trust the CA {ca}  (new)" in out.stdout
    sock = project.root / ".pyredis" / "data" / "dev.sock"
    assert f"unix://{sock}" in out.stdout
    r = project.client(ssl=True, ssl_ca_certs=str(ca))
    assert r.set("k", "v") and r.get("k") == "v"
    r.close()
    u = redis.Redis(unix_socket_path=str(sock), decode_responses=True)
    assert u.get("k") == "v"
    u.close()
    # plain text on the TLS port is refused, the service keeps running
    with pytest.raises(redis.ConnectionError):
        project.client(socket_timeout=2).ping()
    st = cli(project.root, "status")
    assert st.returncode == 0 and f"rediss://localhost:{project.port}" in st.stdout and str(ca) in st.stdout
    assert cli(project.root, "health").stdout.strip() == "PONG"
    assert cli(project.root, "redis-cli", "get", "k").stdout.strip() == "v"
    ca_bytes, key_mode = ca.read_bytes(), (ca.parent / "ca.key").stat().st_mode & 0o777
    assert key_mode == 0o600
    assert cli(project.root, "stop-env").returncode == 0
    # a second start reuses the CA clients already trust
    out = cli(project.root, "start-env", "--tls")
    assert out.returncode == 0 and "(new)" not in out.stdout and ca.read_bytes() == ca_bytes
    r = project.client(ssl=True, ssl_ca_certs=str(ca))
    assert r.get("k") == "v"
    r.close()


def _acl_project(tmp_path, extra: str) -> Project:
    port = free_port()
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[project]\nname = "app"\n[tool.pyredis.dev]\nport = {port}\n' + extra)
    return Project(root, port)


def test_acl_users_in_pyproject(tmp_path):
    proj = _acl_project(tmp_path, 'users = ["default off", "admin on >adm-pw ~* &* +@all", '
                                  '"app on >app-pw ~app:* +@read +@write -@dangerous"]\n'
                                  'username = "admin"\npassword = "adm-pw"\n')
    try:
        out = cli(proj.root, "start-env")
        assert out.returncode == 0, out.stderr
        assert "app-pw" not in Path(f"/proc/{proj.pid()}/cmdline").read_text()  # users go on stdin
        with pytest.raises(redis.AuthenticationError):
            proj.client().ping()
        app = proj.client(username="app", password="app-pw")
        assert app.set("app:1", "x") and app.get("app:1") == "x"
        with pytest.raises(redis.exceptions.NoPermissionError):
            app.get("other")
        admin = proj.client(username="admin", password="adm-pw")
        assert admin.acl_whoami() == "admin"
        st = cli(proj.root, "status")
        assert st.returncode == 0, st.stderr
        assert "Auth:        on (password required; ACL users: default, admin, app)" in st.stdout
        js = cli(proj.root, "status", "--json")
        assert '"auth": "on"' in js.stdout
        assert cli(proj.root, "health").stdout == "PONG\n"
        assert cli(proj.root, "redis-cli", "acl", "whoami").stdout == "admin\n"
    finally:
        pid = proj.pid()
        cli(proj.root, "stop-env", "--force", "--timeout", "10")
        _kill_leftover(pid)


def test_aclfile_in_pyproject_and_auth_off(tmp_path):
    proj = _acl_project(tmp_path, 'aclfile = "users.acl"\n')
    (proj.root / "users.acl").write_text("user default on nopass ~* &* +@all\nuser bob on >b ~* +get\n")
    try:
        out = cli(proj.root, "start-env")
        assert out.returncode == 0, out.stderr
        st = cli(proj.root, "status")
        assert "Auth:        off (no password needed)" in st.stdout, st.stdout
        c = proj.client()
        assert c.acl_users() == ["bob", "default"]
        c.acl_setuser("carol", enabled=True, nopass=True)
        assert c.execute_command("ACL", "SAVE") in ("OK", b"OK", True)
        assert "user carol on nopass" in (proj.root / "users.acl").read_text()
        c.config_set("requirepass", "now")
        assert "Auth:        on (password required; aclfile" in cli(proj.root, "status", "--password", "now").stdout
    finally:
        pid = proj.pid()
        cli(proj.root, "stop-env", "--force", "--timeout", "10", "--password", "now")
        _kill_leftover(pid)


def test_start_env_replicaof_follows_a_redis_server(project):
    """--replicaof redis://user:pass@host:port: the service follows a password-protected
    redis-server 7.0.15 (masteruser/masterauth given on stdin, not on the command line) and is
    a read-only copy that keeps up."""
    from conftest import RealRedis

    real = RealRedis("--user", "repl", "on", ">s3cret", "~*", "&*", "+@all", "--requirepass", "adminpw")
    try:
        r = redis.Redis(port=real.port, password="adminpw")
        r.mset({"a": "1", "b": "2"})
        out = cli(project.root, "start-env", "--replicaof", f"redis://repl:s3cret@127.0.0.1:{real.port}")
        assert out.returncode == 0, out.stderr
        pid = project.pid()
        assert "s3cret" not in Path(f"/proc/{pid}/cmdline").read_text()
        c = project.client()
        deadline = time.time() + 30
        while c.info("replication")["master_link_status"] != "up" and time.time() < deadline:
            time.sleep(0.05)
        assert c.info("replication")["master_link_status"] == "up"
        r.set("c", "3")
        deadline = time.time() + 30
        while c.get("c") != "3" and time.time() < deadline:
            time.sleep(0.05)
        assert (c.get("a"), c.get("b"), c.get("c")) == ("1", "2", "3")
        with pytest.raises(redis.ReadOnlyError):
            c.set("x", 1)
        bad = cli(project.root, "start-env", "--port", str(free_port()), "--replicaof", "rediss://h:1")
        assert bad.returncode != 0 and "not supported" in bad.stderr
    finally:
        real.stop()


def test_pull_by_replication_into_an_empty_service(project):
    """An empty service pulls a password-protected redis-server's whole dataset (every
    database) by replication, then is a master again with the data; --method replication
    refuses a partial copy."""
    from conftest import RealRedis

    real = RealRedis("--requirepass", "pw")
    try:
        r = redis.Redis(port=real.port, password="pw")
        r.mset({f"k{i}": i for i in range(1000)})
        r.set("ttl", 1, ex=1000)
        redis.Redis(port=real.port, password="pw", db=3).set("in3", "three")
        assert cli(project.root, "start-env").returncode == 0
        url = f"redis://:pw@127.0.0.1:{real.port}"
        bad = cli(project.root, "pull", url, "--match", "k*", "--method", "replication")
        assert bad.returncode != 0 and "copies every database" in bad.stderr
        out = cli(project.root, "pull", url)
        assert out.returncode == 0, out.stderr
        assert "pulled 1002 keys by replication" in out.stdout
        c = redis.Redis(port=project.port)
        assert c.dbsize() == 1001 and c.get("k999") == b"999" and 990 < c.ttl("ttl") <= 1000
        assert redis.Redis(port=project.port, db=3).get("in3") == b"three"
        info = c.info("replication")
        assert info["role"] == "master" and c.config_get("masterauth") == {"masterauth": ""}
        c.set("writable", 1)
    finally:
        real.stop()


def test_compat_version_in_pyproject(tmp_path):
    proj = _acl_project(tmp_path, 'compat-version = "7.2"\n')
    try:
        out = cli(proj.root, "start-env")
        assert out.returncode == 0, out.stderr
        assert "(Redis 7.2.6 compatible)" in out.stdout
        r = proj.client()
        assert r.info("server")["redis_version"] == "7.2.6"
        assert r.config_get("compat-version") == {"compat-version": "7.2"}
        r.close()
        st = cli(proj.root, "status")
        assert st.returncode == 0, st.stderr
        assert "Compat:      7.2 (Redis 7.2.6)" in st.stdout
        assert '"compat_version": "7.2"' in cli(proj.root, "status", "--json").stdout
    finally:
        pid = proj.pid()
        cli(proj.root, "stop-env", "--force", "--timeout", "10")
        _kill_leftover(pid)


def test_compat_version_in_pyproject_checked(tmp_path):
    proj = _acl_project(tmp_path, 'compat-version = "6.2"\n')
    out = cli(proj.root, "start-env")
    assert out.returncode != 0
    assert "compat-version must be one of 7.0, 7.2, 7.4, valkey-8.0, not '6.2'" in out.stderr
