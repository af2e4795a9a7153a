"""pyredis-server / python -m pyredis: redis-server's command line.

    pyredis-server [/path/to/redis.conf] [--port 6380] [--bind 127.0.0.1] [--dir ./data] ...
"""

from __future__ import annotations

import asyncio
import os
import sys

from .config import Config, ConfigError
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
    try:
        if args and not args[0].startswith("--"):
            cfg.load_file(args.pop(0))
        if args and args[0] == "-":  # config from stdin, as redis-server accepts
            args.pop(0)
            cfg.load_text(sys.stdin.read())
        cfg.load_args(args)
    except (ConfigError, OSError) as e:
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (pyredis {__version__}, Redis {REDIS_VERSION}) ***\n{e}\n")
        return 1
    err = _check_user_lines(cfg)
    if err is not None:
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (pyredis {__version__}, Redis {REDIS_VERSION}) ***\n{err}\n")
        return 1
    if cfg["dir"]:
        os.makedirs(cfg["dir"], exist_ok=True)
        os.chdir(cfg["dir"])
    cfg.values["dir"] = os.getcwd()
    from . import commands  # noqa: F401  (registers the command table)
    from .server.server import RedisServer, StartupError, install_event_loop_policy, run_until_stopped

    install_event_loop_policy()
    try:
        srv = RedisServer(cfg)
    except ConfigError as e:  # rename-command names a command the table does not have
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (pyredis {__version__}, Redis {REDIS_VERSION}) ***\n{e}\n")
        return 1
    from .server import crash

    crash.install(srv)  # a fatal signal leaves a crash report in the log
    pidfile = cfg["pidfile"]
    try:
        if pidfile:
            with open(pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        asyncio.run(run_until_stopped(srv))
    except OSError as e:
        srv.log("warning", str(e))
        return 1
    except StartupError:
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
