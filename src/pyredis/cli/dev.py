"""`cli dev ...` (also `pyredis dev ...`): the Redis development service, without Docker.

    uv run cli dev start-env        # pyredis in the background on localhost:6380, AOF on
    uv run cli dev status           # PID, port, uptime, keys, memory, persistence
    uv run cli dev health           # PING -> PONG (exit 0/1)
    uv run cli dev logs --follow
    uv run cli dev redis-cli        # pyredis-cli connected to the service
    uv run cli dev stop-env         # graceful: the AOF is flushed
    uv run cli dev reset --yes      # stop and delete the data folder

Settings, lowest to highest precedence: built-in defaults (port 6380, data folder
.pyredis/data, appendonly yes, appendfsync everysec), a `pyredis.conf` next to the project's
pyproject.toml (redis.conf syntax, given to the server as its config file), the
`[tool.pyredis.dev]` table of that pyproject.toml, then command-line options.

ACL users: `users = ["alice on >secret ~app:* +@all -@dangerous"]` in [tool.pyredis.dev]
(each entry a `user` line of redis.conf, given to the server on stdin, never on its command
line), or `aclfile = "users.acl"` (ACL LOAD / ACL SAVE then work on that file). The CLI's own
connection authenticates as `username` / `password` (default user when no username).
`cli dev status` shows whether the service requires authentication.

`compat-version = "7.2"` in [tool.pyredis.dev] (or in pyproject.conf) chooses the release the
service answers as (7.0, 7.2, 7.4 the server's default, valkey-8.0: README, compat-version);
`cli dev status` shows the one it runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..version import REDIS_VERSION, __version__

DEFAULT_PORT = 6380
STATE_DIR = ".pyredis"
TOOL_KEYS = {"port", "bind", "data-dir", "password", "appendonly", "appendfsync", "loglevel", "conf",
             "start-timeout", "tls", "users", "aclfile", "username", "compat-version"}


# --- settings --------------------------------------------------------------------------------
@dataclass
class Settings:
    root: Path
    port: int = DEFAULT_PORT
    bind: str = "127.0.0.1"
    data_dir: Path = Path()
    password: str | None = None
    appendonly: bool = True
    appendfsync: str = "everysec"
    loglevel: str = "notice"
    compat_version: str | None = None  # None: the server's default (version.DEFAULT_MODE)
    conf: Path | None = None
    start_timeout: float = 60.0
    tls: bool = False  # serve TLS only on `port`, with the service's own CA (cli/certs.py)
    unixsocket: str | None = None  # from pyredis.conf
    sources: list[str] = field(default_factory=list)
    # ACL: `user` lines for the server, an aclfile, and the user the CLI connects as
    users: list[str] = field(default_factory=list)
    aclfile: Path | None = None
    username: str | None = None

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.crt"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def pidfile(self) -> Path:
        return self.state_dir / "pyredis.pid"

    @property
    def logfile(self) -> Path:
        return self.state_dir / "pyredis.log"

    @property
    def host(self) -> str:
        h = self.bind.split()[0].lstrip("-")
        return "127.0.0.1" if h in ("*", "0.0.0.0", "") else ("::1" if h == "::" else h)

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://localhost:{self.port}"

    @property
    def unix_url(self) -> str | None:
        if not self.unixsocket:
            return None
        # a relative path is the server's: relative to its working folder, the data folder
        return f"unix://{self.data_dir / self.unixsocket}"

    def client(self, timeout: float = 2.0):
        import redis

        tls = {"ssl": True, "ssl_ca_certs": str(self.ca_file)} if self.tls else {}
        return redis.Redis(host=self.host, port=self.port, username=self.username, password=self.password,
                           socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True, **tls)


def find_root(start: Path) -> Path:
    """The application's folder: the nearest parent holding a pyproject.toml (else start)."""
    for p in (start, *start.parents):
        if (p / "pyproject.toml").is_file():
            return p
    return start


def _truthy(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).lower() in ("yes", "true", "1", "on")


def load_settings(project_dir: str | None, overrides: dict[str, Any]) -> Settings:
    root = Path(project_dir).resolve() if project_dir else find_root(Path.cwd().resolve())
    s = Settings(root=root, data_dir=root / STATE_DIR / "data")
    # pyredis.conf next to pyproject.toml (or the one [tool.pyredis.dev] conf names)
    table: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            with open(pyproject, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise click.ClickException(f"cannot read {pyproject}: {e}") from None
        table = data.get("tool", {}).get("pyredis", {}).get("dev", {}) or {}
        table = {k.replace("_", "-"): v for k, v in table.items()}
        unknown = set(table) - TOOL_KEYS
        if unknown:
            click.echo(f"warning: unknown [tool.pyredis.dev] keys ignored: {', '.join(sorted(unknown))}", err=True)
    conf = table.get("conf")
    conf_path = (root / conf) if conf else (root / "pyredis.conf")
    if conf and not conf_path.is_file():
        raise click.ClickException(f"[tool.pyredis.dev] conf = {conf!r}: {conf_path} not found")
    if conf_path.is_file():
        _apply_conf(s, conf_path)
    if table:
        s.sources.append(f"{pyproject} [tool.pyredis.dev]")
        if "port" in table:
            s.port = int(table["port"])
        if "bind" in table:
            s.bind = str(table["bind"])
        if "data-dir" in table:
            s.data_dir = (root / str(table["data-dir"])).resolve()
        if "password" in table:
            s.password = str(table["password"]) or None
        if "appendonly" in table:
            s.appendonly = _truthy(table["appendonly"])
        if "appendfsync" in table:
            s.appendfsync = str(table["appendfsync"])
        if "loglevel" in table:
            s.loglevel = str(table["loglevel"])
        if "compat-version" in table:
            from ..version import MODES

            v = str(table["compat-version"])
            if v not in MODES:
                raise click.ClickException(f"{pyproject} [tool.pyredis.dev]: compat-version must be one of "
                                           f"{', '.join(MODES)}, not {v!r}")
            s.compat_version = v
        if "start-timeout" in table:
            s.start_timeout = float(table["start-timeout"])
        if "tls" in table:
            s.tls = _truthy(table["tls"])
        _apply_acl_keys(s, root, table)
    for k, v in overrides.items():
        if v is None:
            continue
        if k == "data_dir":
            s.data_dir = Path(v).resolve()
        elif k == "password":
            s.password = v or None
        else:
            setattr(s, k, v)
    return s


def _apply_acl_keys(s: Settings, root: Path, table: dict[str, Any]) -> None:
    """users / aclfile / username of [tool.pyredis.dev]."""
    if "users" in table:
        users = table["users"]
        s.users = [users] if isinstance(users, str) else [str(u) for u in users]
    if "aclfile" in table:
        s.aclfile = (root / str(table["aclfile"])).resolve()
    if "username" in table:
        s.username = str(table["username"]) or None


def _apply_conf(s: Settings, path: Path) -> None:
    """Take the settings the CLI itself needs (where to connect, where the data is) from a
    redis.conf-syntax file; the server reads the whole file itself."""
    from ..config import Config, ConfigError

    defaults = Config()
    cfg = Config()
    try:
        cfg.load_file(str(path))
    except (ConfigError, OSError) as e:
        raise click.ClickException(f"{path}: {e}") from None
    s.conf = path
    s.sources.append(str(path))
    if cfg["port"] != defaults["port"]:
        s.port = int(cfg["port"])
    if cfg["bind"] != defaults["bind"] and cfg["bind"]:
        s.bind = " ".join(cfg["bind"]) if isinstance(cfg["bind"], list) else str(cfg["bind"])
    if cfg["dir"] and cfg["dir"] != defaults["dir"]:
        s.data_dir = (path.parent / cfg["dir"]).resolve()
    if cfg["requirepass"]:
        s.password = cfg["requirepass"]
    if cfg["appendonly"] != defaults["appendonly"]:
        s.appendonly = bool(cfg["appendonly"])
    if cfg["appendfsync"] != defaults["appendfsync"]:
        s.appendfsync = str(cfg["appendfsync"])
    if cfg["unixsocket"]:
        s.unixsocket = cfg["unixsocket"]
    if cfg["compat-version"] != defaults["compat-version"]:
        s.compat_version = str(cfg["compat-version"])


# --- processes -------------------------------------------------------------------------------
def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "X")  # a zombie nobody reaped has exited


def proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def read_pid(s: Settings) -> int | None:
    """The service's PID from the pidfile, if that process is alive and is pyredis."""
    try:
        pid = int(s.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    if not pid_alive(pid):
        return None
    cmd = proc_cmdline(pid)
    if cmd and "pyredis" not in cmd:
        return None  # the PID was reused by another program
    return pid


def _running_arg(pid: int, name: str) -> int | None:
    args = proc_cmdline(pid).split()
    for i, a in enumerate(args[:-1]):
        if a == name and args[i + 1].isdigit():
            return int(args[i + 1])
    return None


def running_port(pid: int) -> int | None:
    """The port a running service was started with (its command line: --tls-port when TLS)."""
    return _running_arg(pid, "--tls-port") or _running_arg(pid, "--port")


def _follow_running(s: Settings, pid: int | None) -> None:
    """Talk to the port the running service actually uses, even if the settings changed since."""
    if pid is not None:
        port = running_port(pid)
        if port and port != s.port:
            s.port = port
        s.tls = bool(_running_arg(pid, "--tls-port"))


def port_holders(port: int) -> list[tuple[int, str]]:
    """Processes listening on a TCP port (as `lsof -i :PORT` tells): [(pid, command line)]."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state, inode = parts[1], parts[3], parts[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    if not inodes:
        return []
    wanted = {f"socket:[{i}]" for i in inodes}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in wanted:
                    found.append((int(entry), proc_cmdline(int(entry))))
                    break
            except OSError:
                continue
    return found


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def ping(s: Settings, timeout: float = 1.0) -> str:
    """'PONG', 'LOADING', or the error text."""
    import redis

    try:
        c = s.client(timeout)
        try:
            return "PONG" if c.ping() else "no reply"
        finally:
            c.close()
    except redis.BusyLoadingError:
        return "LOADING"
    except redis.RedisError as e:
        return str(e) or type(e).__name__


def _tail(path: Path, n: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            return f.read().decode(errors="replace").splitlines()[-n:]
    except OSError:
        return []


# --- commands --------------------------------------------------------------------------------
def _common(f):
    f = click.option("--project-dir", type=click.Path(file_okay=False), default=None,
                     help="Application folder (default: nearest parent with a pyproject.toml).")(f)
    f = click.option("--port", "-p", type=int, default=None, help=f"Port on the host (default {DEFAULT_PORT}).")(f)
    f = click.option("--password", default=None, envvar="PYREDIS_DEV_PASSWORD",
                     help="requirepass for the service (default: none).")(f)
    return f


def _settings(project_dir, port, password, **more) -> Settings:
    return load_settings(project_dir, {"port": port, "password": password, **more})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(f"{__version__} (Redis {REDIS_VERSION} compatible)", prog_name="pyredis")
def main() -> None:
    """pyredis tools."""


@main.group()
def dev() -> None:
    """The Redis development service (pyredis in the background, AOF persistence)."""


@dev.command("start-env")
@_common
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data folder: AOF and RDB files (default .pyredis/data).")
@click.option("--bind", default=None, help="Addresses to listen on (default 127.0.0.1).")
@click.option("--timeout", "start_timeout", type=float, default=None,
              help="Seconds to wait for PONG (default 60; loading a large AOF takes time).")
@click.option("--tls", "tls", is_flag=True, default=None,
              help="Serve TLS (rediss://) with a local CA made under the data folder (once, then reused).")
@click.option("--replicaof", "replicaof", default=None, metavar="redis://[USER:PASS@]HOST:PORT",
              help="Follow a remote Redis (Redis replication): a read-only copy of its data, kept up to date.")
def start_env(project_dir, port, password, data_dir, bind, start_timeout, tls, replicaof) -> None:
    """Start the service in the background and wait until it answers PING."""
    s = _settings(project_dir, port, password, data_dir=data_dir, bind=bind, start_timeout=start_timeout, tls=tls)
    follow = _replicaof_lines(replicaof) if replicaof else []
    pid = read_pid(s)
    if pid is not None:
        _follow_running(s, pid)
        state = ping(s)
        click.echo(f"pyredis is already running (PID {pid}) on {s.url} — {state}")
        if replicaof:
            click.echo("  --replicaof applies at start: stop it first (cli dev stop-env), or run "
                       "`cli dev redis-cli REPLICAOF HOST PORT` (with CONFIG SET masterauth)", err=True)
        return
    if port_in_use(s.host, s.port):
        holders = port_holders(s.port)
        who = ", ".join(f"PID {p} ({cmd or '?'})" for p, cmd in holders) or \
            f"another process (see `lsof -i :{s.port}`)"
        raise click.ClickException(
            f"port {s.port} is already in use by {who}.\n"
            f"Stop it, or start on another port: cli dev start-env --port {s.port + 1} "
            f"(or set port in [tool.pyredis.dev]).")
    try:
        s.state_dir.mkdir(parents=True, exist_ok=True)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        probe = s.data_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise click.ClickException(
            f"cannot write to the data folder {s.data_dir}: {e.strerror or e}.\n"
            f"Fix its ownership/permissions (e.g. chown -R $USER {s.data_dir}) or choose --data-dir.") from None
    try:
        s.pidfile.unlink()  # stale: its process is gone
    except OSError:
        pass
    cmd = [sys.executable, "-m", "pyredis"]
    stdin_conf = None
    from_stdin = False
    if s.conf is not None:
        cmd.append(str(s.conf))
    secret_lines = _secret_conf_lines(s) + follow
    if secret_lines:
        # The password and the ACL users go through stdin, not the process list (as
        # redis-server, "-" means stdin only first or last on the command line).
        if s.conf is None:
            cmd.append("/dev/stdin")
        else:
            from_stdin = True
        stdin_conf = "".join(secret_lines).encode()
    certs = None
    if s.tls:
        from .certs import ensure_dev_certs

        certs = ensure_dev_certs(s.tls_dir, [h.lstrip("-") for h in s.bind.split() if h.lstrip("-") not in ("*", "::*")])
        # TLS only, on the service's port; clients trust the CA, no client certificates
        cmd += ["--port", "0", "--tls-port", str(s.port), "--tls-cert-file", str(certs.cert),
                "--tls-key-file", str(certs.key), "--tls-ca-cert-file", str(certs.ca), "--tls-auth-clients", "no"]
    else:
        cmd += ["--port", str(s.port)]
    cmd += ["--bind", *s.bind.split(), "--dir", str(s.data_dir),
            "--appendonly", "yes" if s.appendonly else "no", "--appendfsync", s.appendfsync,
            "--pidfile", str(s.pidfile), "--logfile", str(s.logfile), "--loglevel", s.loglevel,
            "--daemonize", "no"]
    if s.aclfile is not None:
        cmd += ["--aclfile", str(s.aclfile)]
    if s.compat_version is not None:
        cmd += ["--compat-version", s.compat_version]
    if from_stdin:
        cmd.append("-")
    log_offset = s.logfile.stat().st_size if s.logfile.exists() else 0
    with open(s.logfile, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_conf else subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, cwd=str(s.root),
                                start_new_session=True, close_fds=True)
    if stdin_conf:
        proc.stdin.write(stdin_conf)
        proc.stdin.close()
    click.echo(f"Starting pyredis on port {s.port} (data: {_rel(s.data_dir, s.root)}, "
               f"AOF {'on' if s.appendonly else 'off'}, log: {_rel(s.logfile, s.root)})", nl=False)
    deadline = time.monotonic() + s.start_timeout
    state = ""
    while True:
        rc = proc.poll()
        if rc is not None:
            click.echo(" failed")
            lines = _new_log_lines(s.logfile, log_offset)
            detail = "\n".join("  " + ln for ln in lines[-15:])
            raise click.ClickException(f"pyredis exited with code {rc} during startup. Log ({s.logfile}):\n{detail}")
        state = ping(s, 0.5)
        if state == "PONG":
            break
        if time.monotonic() > deadline:
            click.echo(" timed out")
            raise click.ClickException(
                f"pyredis (PID {proc.pid}) did not answer PING within {s.start_timeout:g}s (last: {state}). "
                f"It keeps running; see `cli dev logs` and `cli dev status`.")
        click.echo("." if state != "LOADING" else "L", nl=False)
        time.sleep(0.2)
    if not s.pidfile.exists():  # the server writes it; keep ours in sync if it could not
        s.pidfile.write_text(f"{proc.pid}\n")
    click.echo(" ready")
    click.secho(f"✔ pyredis {__version__} ({_compat_text(s.compat_version)} compatible) is running (PID {proc.pid})",
                fg="green")
    click.echo(f"  URL: {s.url}" + ("  (password required: requirepass)" if s.password else ""))
    if s.unix_url:
        click.echo(f"  Unix socket: {s.unix_url}")
    if certs is not None:
        click.echo(f"  TLS: trust the CA {certs.ca}" + ("  (new)" if certs.created else ""))
        click.echo(f"  Check: pyredis-cli --tls --cacert {certs.ca} -p {s.port} ping   # PONG")
    else:
        click.echo(f"  Check: pyredis-cli -p {s.port} ping   # PONG")


def _replicaof_lines(url: str) -> list[str]:
    """`replicaof`, `masteruser` and `masterauth` lines for redis://[user:pass@]host:port (the
    password stays off the process list: these go to the server on stdin)."""
    from urllib.parse import unquote, urlsplit

    u = urlsplit(url)
    if u.scheme != "redis":
        raise click.ClickException(f"--replicaof wants redis://[user:pass@]host:port (got {url!r}); "
                                   "replication over TLS (rediss://) is not supported")
    try:
        port = u.port or 6379
    except ValueError:
        raise click.ClickException(f"--replicaof: bad port in {url!r}") from None
    if not u.hostname:
        raise click.ClickException(f"--replicaof: no host in {url!r}")
    lines = [f"replicaof {u.hostname} {port}\n"]
    if u.password:
        if u.username and u.username != "default":
            lines.append(f"masteruser {_quote(unquote(u.username))}\n")
        lines.append(f"masterauth {_quote(unquote(u.password))}\n")
    elif u.username:
        raise click.ClickException("--replicaof: a user without a password; the form is "
                                   "redis://[USER]:PASS@HOST:PORT")
    return lines


def _secret_conf_lines(s: Settings) -> list[str]:
    """requirepass and the `user` lines of the settings, as redis.conf lines."""
    lines = [f"requirepass {_quote(s.password)}\n"] if s.password and not s.username else []
    return lines + [f"user {u}\n" for u in s.users]


def _auth_state(s: Settings) -> str:
    """'on' when a connection without credentials is refused (NOAUTH), else 'off'."""
    import redis

    try:
        tls = {"ssl": True, "ssl_ca_certs": str(s.ca_file)} if s.tls else {}
        c = redis.Redis(host=s.host, port=s.port, socket_timeout=2, socket_connect_timeout=2, **tls)
        try:
            c.ping()
            return "off"
        finally:
            c.close()
    except redis.AuthenticationError:
        return "on"
    except redis.RedisError as e:
        return "on" if "NOAUTH" in str(e) or "NOPERM" in str(e) else "unknown"


def _quote(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rel(p: Path, root: Path) -> str:
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(p)


def _new_log_lines(path: Path, offset: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace").splitlines()
    except OSError:
        return []


def _stop(s: Settings, timeout: float, force: bool) -> bool:
    """SIGTERM (pyredis then flushes and fsyncs the AOF, like SHUTDOWN); wait until gone.
    Returns whether a process was stopped."""
    pid = read_pid(s)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            if not force:
                raise click.ClickException(f"pyredis (PID {pid}) is still running after {timeout:g}s; "
                                           f"use --force to kill it (unflushed AOF writes may be lost)")
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.05)
            break
        time.sleep(0.05)
    try:
        s.pidfile.unlink()
    except OSError:
        pass
    return True


@dev.command("stop-env")
@_common
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for a clean exit.")
@click.option("--force", is_flag=True, help="SIGKILL after the timeout.")
def stop_env(project_dir, port, password, timeout, force) -> None:
    """Stop the service gracefully (the AOF is flushed to disk)."""
    s = _settings(project_dir, port, password)
    pid = read_pid(s)
    if pid is None:
        click.echo("pyredis is not running")
        return
    click.echo(f"Stopping pyredis (PID {pid}) ...", nl=False)
    _stop(s, timeout, force)
    click.echo(" stopped")


def _compat_text(mode: str | None) -> str:
    """'Redis 7.4.1' / 'Valkey 8.0.1': what a server of that mode (None: the default) answers as."""
    from ..version import DEFAULT_MODE, compat_for

    c = compat_for(mode or DEFAULT_MODE)
    return f"{'Valkey' if c.valkey else 'Redis'} {c.version}"


def _running_mode(info: dict[str, Any]) -> str | None:
    """The compat-version mode whose versions the running server reports in INFO."""
    from ..version import COMPAT

    for mode, c in COMPAT.items():
        if str(info.get("redis_version")) == c.redis_version and (
                str(info.get("valkey_version")) == c.valkey_version if c.valkey else "valkey_version" not in info):
            return mode
    return None


def _info(s: Settings) -> dict[str, Any]:
    c = s.client()
    try:
        return c.info("everything")
    finally:
        c.close()


def _human_duration(secs: int) -> str:
    d, rem = divmod(int(secs), 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    return (f"{d}d " if d else "") + (f"{h}h " if h or d else "") + (f"{m}m " if m or h or d else "") + f"{sec}s"


def _folder_size(p: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(p):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


@dev.command("status")
@_common
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(project_dir, port, password, as_json) -> None:
    """Is the service running? PID, port, uptime, keys, memory, persistence. Exit 3 when stopped."""
    import redis

    s = _settings(project_dir, port, password)
    pid = read_pid(s)
    if port is None:
        _follow_running(s, pid)
    out: dict[str, Any] = {"running": False, "pid": pid, "port": s.port, "url": s.url, "tls": s.tls,
                           "ca_file": str(s.ca_file) if s.tls else None, "unix_url": s.unix_url,
                           "data_dir": str(s.data_dir), "log": str(s.logfile)}
    err = None
    if pid is not None:
        try:
            info = _info(s)
        except redis.RedisError as e:
            err = str(e)
            info = {}
        if info:
            keys = sum(v.get("keys", 0) for k, v in info.items() if k.startswith("db") and isinstance(v, dict))
            out.update(
                running=True, version=str(info.get("redis_version")), compat_version=_running_mode(info),
                uptime_seconds=int(info.get("uptime_in_seconds", 0)), keys=keys,
                memory=info.get("used_memory_human"), clients=info.get("connected_clients"),
                aof_enabled=bool(info.get("aof_enabled")), aof_last_write=info.get("aof_last_write_status"),
                aof_rewrite_in_progress=bool(info.get("aof_rewrite_in_progress")),
                rdb_changes_since_last_save=info.get("rdb_changes_since_last_save"),
                last_save=info.get("rdb_last_save_time"),
                data_bytes=_folder_size(s.data_dir), auth=_auth_state(s),
                acl_users=[u.split()[0] for u in s.users if u.split()],
                aclfile=str(s.aclfile) if s.aclfile else None)
    if as_json:
        if err:
            out["error"] = err
        click.echo(json.dumps(out, indent=2, default=str))
    elif out["running"]:
        click.secho(f"● pyredis is running (PID {pid})", fg="green")
        rows = [
            ("URL", s.url),
            ("Port", str(s.port)),
            ("Compat", f"{out['compat_version']} ({_compat_text(out['compat_version'])})"
             if out["compat_version"] else str(out["version"])),
            ("Uptime", _human_duration(out["uptime_seconds"])),
            ("Keys", str(out["keys"])),
            ("Memory", str(out["memory"])),
            ("Clients", str(out["clients"])),
            ("Persistence", (f"AOF on (appendfsync {s.appendfsync}, last write {out['aof_last_write']})"
                             if out["aof_enabled"] else "AOF off")
             + (", rewrite in progress" if out["aof_rewrite_in_progress"] else "")),
            ("Auth", _auth_line(s, out)),
            *([("TLS", f"on (trust the CA {s.ca_file})")] if s.tls else []),
            *([("Unix socket", s.unix_url)] if s.unix_url else []),
            ("Data folder", f"{s.data_dir} ({_folder_size_h(out['data_bytes'])})"),
            ("Log", str(s.logfile)),
        ]
        for k, v in rows:
            click.echo(f"  {k + ':':<13}{v}")
    elif pid is not None:
        click.secho(f"● pyredis process {pid} exists but does not answer on port {s.port}: {err}", fg="yellow")
    else:
        click.secho("○ pyredis is not running", fg="red")
        click.echo(f"  Start it: uv run cli dev start-env   (port {s.port}, data {s.data_dir})")
    if not out["running"]:
        sys.exit(3)


def _auth_line(s: Settings, out: dict[str, Any]) -> str:
    if out["auth"] != "on":
        return "off (no password needed)" if out["auth"] == "off" else "unknown"
    how = ["password required"]
    if out["acl_users"]:
        how.append("ACL users: " + ", ".join(out["acl_users"]))
    if out["aclfile"]:
        how.append(f"aclfile {out['aclfile']}")
    return "on (" + "; ".join(how) + ")"


def _folder_size_h(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


@dev.command("health")
@_common
@click.option("--host", default=None, help="Host to check (default: the service's).")
@click.option("--timeout", type=float, default=2.0, show_default=True)
def health(project_dir, port, password, host, timeout) -> None:
    """PING the service: prints PONG and exits 0, else prints why and exits 1."""
    s = _settings(project_dir, port, password)
    if port is None:
        _follow_running(s, read_pid(s))
    if host:
        s.bind = host
    state = ping(s, timeout)
    if state == "PONG":
        click.echo("PONG")
        return
    click.echo(f"unhealthy: {s.host}:{s.port}: {state}", err=True)
    sys.exit(1)


@dev.command("logs")
@_common
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@click.option("--lines", "-n", type=int, default=100, show_default=True, help="How many last lines to print.")
def logs(project_dir, port, password, follow, lines) -> None:
    """Print the service's log."""
    s = _settings(project_dir, port, password)
    if not s.logfile.exists():
        raise click.ClickException(f"no log yet ({s.logfile}): start the service with `cli dev start-env`")
    for line in _tail(s.logfile, lines):
        click.echo(line)
    if not follow:
        return
    with open(s.logfile, "rb") as f:
        f.seek(0, 2)
        try:
            while True:
                chunk = f.read()
                if chunk:
                    sys.stdout.write(chunk.decode(errors="replace"))
                    sys.stdout.flush()
                else:
                    time.sleep(0.2)
        except KeyboardInterrupt:
            pass


def _transfer(s: Settings, url: str, db: int | None, match: str | None, replace: bool, pull: bool) -> None:
    import redis

    from .transfer import TransferError, client_for, copy_keys, with_db

    if ping(s) != "PONG":
        raise click.ClickException("the service is not running: start it with `uv run cli dev start-env`")
    try:
        remote = client_for(url, db)
        remote.ping()
    except (redis.RedisError, ValueError) as e:
        raise click.ClickException(f"cannot reach {url}: {e}")
    if db is None:  # the URL's database on both sides
        db = remote.connection_pool.connection_kwargs.get("db", 0)
    local = with_db(s.client(10.0), db)
    src, dst = (remote, local) if pull else (local, remote)
    total = src.dbsize()
    try:
        with click.progressbar(length=total, label="pulling" if pull else "pushing", file=sys.stderr) as bar:
            summary = copy_keys(src, dst, match=match, replace=replace, progress=bar.update)
    except TransferError as e:
        raise click.ClickException(str(e))
    except redis.RedisError as e:
        raise click.ClickException(f"{type(e).__name__}: {e}")
    where = "from" if pull else "to"
    click.echo(f"{'pulled' if pull else 'pushed'} {summary.keys} keys ({summary.bytes} bytes of DUMP payloads) "
               f"{where} {url} in {summary.seconds:.1f} s" + (f"; {summary.skipped} vanished meanwhile" if summary.skipped else ""))


def _transfer_options(f):
    f = click.option("--replace", is_flag=True, help="Overwrite keys that exist at the target (default: refuse).")(f)
    f = click.option("--match", default=None, help="Only keys matching this glob pattern (SCAN MATCH).")(f)
    f = click.option("--db", type=int, default=None, help="Database number on both sides (default: the URL's, else 0).")(f)
    return click.argument("url")(f)


@dev.command("pull")
@_common
@_transfer_options
@click.option("--method", type=click.Choice(["auto", "replication", "scan"]), default="auto",
              help="auto: by replication when the whole dataset goes into an empty service and the remote "
                   "allows it, else SCAN + DUMP/RESTORE.")
def pull(project_dir, port, password, url, db, match, replace, method) -> None:
    """Copy the keys of another Redis (URL) into the local service: by replication (every
    database, into an empty service), or SCAN + DUMP/RESTORE (managed services refuse SYNC)."""
    import redis

    s = _settings(project_dir, port, password)
    _follow_running(s, read_pid(s))
    whole = db is None and match is None and not url.startswith("rediss:") and \
        _remote_client(url, None).connection_pool.connection_kwargs.get("db", 0) == 0
    if method == "replication" and not whole:
        raise click.ClickException("--method replication copies every database of a redis:// URL: "
                                   "no --db, --match or /DB")
    if method != "scan" and whole and ping(s) == "PONG":
        try:
            svc = _service_client(s, 0)
            empty = not any(k.startswith("db") for k in svc.info("keyspace"))
        except redis.RedisError as e:
            raise click.ClickException(str(e)) from None
        if not empty and method == "replication":
            raise click.ClickException("--method replication needs an empty service (it replaces the dataset)")
        if empty:
            t0 = time.monotonic()
            n = _pull_by_replication(s, url)
            if n is not None:
                click.echo(f"pulled {n} keys by replication from {url} in {time.monotonic() - t0:.1f} s")
                return
            if method == "replication":
                raise click.ClickException("the remote Redis refused to sync (see `cli dev logs`)")
    _transfer(s, url, db, match, replace, pull=True)


@dev.command("push")
@_common
@_transfer_options
def push(project_dir, port, password, url, db, match, replace) -> None:
    """Copy the local service's keys to another Redis (URL), refusing to overwrite unless --replace."""
    _transfer(_settings(project_dir, port, password), url, db, match, replace, pull=False)


@dev.command("reset")
@_common
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def reset(project_dir, port, password, yes) -> None:
    """Stop the service and delete its data folder (all cache/session data)."""
    s = _settings(project_dir, port, password)
    if not yes:
        click.confirm(f"Stop pyredis and delete {s.data_dir}?", abort=True)
    if _stop(s, 30.0, force=True):
        click.echo("pyredis stopped")
    if s.data_dir.exists():
        shutil.rmtree(s.data_dir)
        click.echo(f"removed {s.data_dir}")
    else:
        click.echo(f"nothing to remove ({s.data_dir} does not exist)")
    click.echo("Start afresh with: uv run cli dev start-env")


# --- pull / push: a one-shot copy between the service and a remote Redis ---------------------
def _service_client(s: Settings, db: int):
    import redis

    tls = {"ssl": True, "ssl_ca_certs": str(s.ca_file)} if s.tls else {}
    return redis.Redis(host=s.host, port=s.port, username=s.username, password=s.password, db=db,
                       socket_timeout=60, socket_connect_timeout=5, **tls)


def _remote_client(url: str, db: int | None):
    import redis

    kw = {"socket_timeout": 60, "socket_connect_timeout": 5}
    if db is not None:
        kw["db"] = db
    try:
        return redis.Redis.from_url(url, **kw)
    except ValueError as e:
        raise click.ClickException(f"bad URL {url!r}: {e}") from None


def _pull_by_replication(s: Settings, url: str) -> int | None:
    """The whole remote dataset into an empty service by Redis replication (REPLICAOF, wait
    until the service has the remote's offset, REPLICAOF NO ONE). None when the remote
    refuses to sync (managed services usually do): the caller copies with SCAN instead."""
    from urllib.parse import unquote, urlsplit

    import redis

    u = urlsplit(url)
    svc = _service_client(s, 0)
    remote = _remote_client(url, None)
    old = svc.config_get("master*")
    if u.password:
        svc.config_set("masterauth", unquote(u.password))
        if u.username and u.username != "default":
            svc.config_set("masteruser", unquote(u.username))
    try:
        svc.replicaof(u.hostname, u.port or 6379)
        deadline = time.monotonic() + 15  # the link must come up (or a transfer run) by then
        click.echo("syncing", nl=False, err=True)
        while True:
            i = svc.info("replication")
            if i.get("master_link_status") == "up":
                if i["slave_repl_offset"] >= remote.info("replication")["master_repl_offset"]:
                    break
            elif i.get("master_sync_in_progress"):
                deadline = time.monotonic() + 15  # a transfer under way (repl-timeout ends a stuck one)
            elif time.monotonic() > deadline:
                click.echo(" refused", err=True)
                return None
            click.echo(".", nl=False, err=True)
            time.sleep(0.2)
        click.echo(" done", err=True)
        return sum(v.get("keys", 0) for k, v in svc.info("keyspace").items() if k.startswith("db"))
    except redis.RedisError as e:
        raise click.ClickException(str(e)) from None
    finally:
        try:
            svc.replicaof("no", "one")
            svc.config_set("masterauth", old.get(b"masterauth", b"") or "")
            svc.config_set("masteruser", old.get(b"masteruser", b"") or "")
        except redis.RedisError:
            pass


@dev.command("redis-cli", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--project-dir", type=click.Path(file_okay=False), default=None)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def redis_cli(project_dir, args) -> None:
    """pyredis-cli connected to the service (what `docker exec -it ... redis-cli` was)."""
    from . import client

    s = load_settings(project_dir, {})
    _follow_running(s, read_pid(s))
    argv = ["-h", s.host, "-p", str(s.port)]
    if s.tls:
        argv += ["--tls", "--cacert", str(s.ca_file)]
    if s.username:
        argv += ["--user", s.username]
    if s.password:
        argv += ["-a", s.password, "--no-auth-warning"]
    sys.exit(client.main(argv + list(args)))


if __name__ == "__main__":
    main()
