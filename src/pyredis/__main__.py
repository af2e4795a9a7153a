"""pyredis-server / python -m pyredis: redis-server's command line.

    pyredis-server [/path/to/redis.conf] [--port 6380] [--bind 127.0.0.1] [--dir ./data] ...
"""

from __future__ import annotations

import asyncio
import os
import sys

from .config import Config, ConfigError, ConfigFileOpenError, options_from_argv
from .version import REDIS_VERSION, __version__


def _check_user_lines(cfg) -> str | None:
    """ACLAppendUserForLoading while the configuration is read: a bad `user` line stops the
    start with the line it is on, as Redis's config errors."""
    from .core.acl import validate_user_line

    for words, (lineno, line) in zip(cfg.user_lines, cfg.user_line_pos):
        err = validate_user_line(words)
        if err is not None:
            return f"Reading the configuration file, at line {lineno}\n>>> '{line}'\n{err}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-v", "--version"):
        print(f"pyredis v={__version__} (Redis {REDIS_VERSION} compatible) python={sys.version.split()[0]}")
        return 0
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    cfg = Config()
    cfg.chdir = True  # `dir` moves this process, as redis-server's does, when it is read
    config_file, from_stdin, options = options_from_argv(args)
    try:
        cfg.load_startup(config_file, sys.stdin.read() if from_stdin else None, options)
    except ConfigFileOpenError as e:  # logged by redis-server (serverLog), then exit(1)
        _log_line(str(e))
        return 1
    except ConfigError as e:
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (pyredis {__version__}, Redis {REDIS_VERSION}) ***\n{e}\n")
        return 1
    err = _check_user_lines(cfg)
    if err is not None:
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (pyredis {__version__}, Redis {REDIS_VERSION}) ***\n{err}\n")
        return 1
    cfg.values["dir"] = os.getcwd()
    from . import commands  # noqa: F401  (registers the command table)
    from .server.server import RedisServer, StartupError, install_event_loop_policy, run_until_stopped

    from .server.process import Supervision

    supervision = Supervision(cfg["supervised"], lambda level, msg: _log_line(msg, level, cfg))
    supervised = supervision.detect()
    if cfg["daemonize"] and not supervised:  # (a supervised server stays in the foreground)
        _daemonize()
    install_event_loop_policy()
    try:
        srv = RedisServer(cfg, process=True)
        srv.supervision = supervision
    except ConfigError as e:  # rename-command names a command the table does not have
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (pyredis {__version__}, Redis {REDIS_VERSION}) ***\n{e}\n")
        return 1
    from .server import crash

    crash.install(srv)  # a fatal signal leaves a crash report in the log (crash-log-enabled)
    # createPidFile: with daemonize the pid file is written even when none is configured
    pidfile = cfg["pidfile"] or ("/var/run/redis.pid" if cfg["daemonize"] else "")

    def ready() -> None:
        if pidfile:
            try:
                with open(pidfile, "w") as f:
                    f.write(f"{os.getpid()}\n")
            except OSError as e:  # as Redis: the server runs on without it
                srv.log("warning", f"Failed to write PID file: {e.strerror}")

    try:
        asyncio.run(run_until_stopped(srv, ready))
    except OSError as e:
        srv.log("warning", str(e))
        return 1
    except StartupError:
        return 1
    except KeyboardInterrupt:
        pass
    if pidfile:
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    return 0


def _daemonize() -> None:
    """daemonize(): the parent exits 0 at once; the child leaves the terminal's session and
    its standard streams go to /dev/null (the log goes to logfile, or nowhere)."""
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(fd, std)
    if fd > 2:
        os.close(fd)


def _log_line(msg: str, level: str = "warning", cfg: Config | None = None) -> None:
    """A log line before the server exists (redis-server's serverLog, role C): to the
    logfile once the configuration names one, else stdout; under loglevel, not shown."""
    import time

    levels = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
    if cfg is not None and levels[level] < levels.get(cfg["loglevel"], 2):
        return
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
    mark = {"debug": ".", "verbose": "-", "notice": "*"}.get(level, "#")
    line = f"{os.getpid()}:C {stamp} {mark} {msg}\n"
    logfile = cfg["logfile"] if cfg is not None else ""
    if logfile:
        try:
            with open(logfile, "a") as f:
                f.write(line)
            return
        except OSError:
            pass
    sys.stdout.write(line)
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
