"""unixsocket / unixsocketperm against redis-server run with the same directives: redis-cli -s,
redis-py unix_socket_path, the socket file's mode, CLIENT LIST/INFO of a unix-socket client,
and the file removed at shutdown."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess

import redis

from conftest import require_binary
from tls_env import both_servers, free_ports

REDIS_CLI = shutil.which("redis-cli")


def _mask(line: str) -> str:
    """A CLIENT INFO line without what differs between two servers by nature."""
    line = re.sub(r"\b(id|fd|age|idle|qbuf|qbuf-free|argv-mem|multi-mem|rbs|rbp|tot-mem)=\S*", r"\1=?", line)
    return line.strip()


def test_unix_socket_clients_and_client_list(tmp_path):
    plain = dict(zip(("redis", "pyredis"), free_ports(2)))
    paths = {w: tmp_path / w / "redis.sock" for w in ("redis", "pyredis")}
    args = ["--port", lambda w: str(plain[w]), "--unixsocket", lambda w: str(paths[w]), "--unixsocketperm", "700"]
    with both_servers(tmp_path, args, [("tcp", lambda w: plain[w]), ("unix", lambda w: paths[w])]) as procs:
        lines = {}
        for w in ("redis", "pyredis"):
            path = str(paths[w])
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
            r = redis.Redis(unix_socket_path=path, decode_responses=True)
            assert r.set("via", "unix") and r.get("via") == "unix"
            assert r.config_get("unixsocketperm") == {"unixsocketperm": "700"}
            assert r.config_get("unixsocket") == {"unixsocket": path}
            info = r.execute_command("CLIENT", "INFO")
            shown = (path + ":0")[:77]  # Redis's address buffer: a long path is cut
            lines[w] = _mask(info.replace(shown, "PATH"))
            assert f"addr={shown} laddr={shown} " in info and " flags=U " in info
            # seen from a TCP client too
            other = redis.Redis(port=plain[w], decode_responses=True)
            listed = [ln for ln in other.execute_command("CLIENT", "LIST").splitlines() if "flags=U" in ln]
            assert len(listed) == 1
            other.close()
            r.close()
            if REDIS_CLI:
                out = subprocess.run([REDIS_CLI, "-s", path, "ping"], capture_output=True, timeout=10)
                assert out.stdout == b"PONG\n"
        assert lines["pyredis"] == lines["redis"]
        require_binary(REDIS_CLI, "redis-cli")
        for p in procs.values():
            p.stop()
        # both remove the socket file on shutdown
        assert not paths["pyredis"].exists() and not paths["redis"].exists()


def test_unixsocketperm_parses_octal_as_redis(diff):
    for v in ("700", "0777", "8", "1000", "abc", "-1"):
        diff.check("CONFIG", "SET", "unixsocketperm", v)  # immutable: the same refusal on both
    diff.check("CONFIG", "GET", "unixsocketperm")


def test_unixsocketperm_values_at_startup(tmp_path):
    from pyredis.config import Config, ConfigError

    for text, want in (("700", 0o700), ("0777", 0o777), ("", 0), ("644", 0o644)):
        cfg = Config()
        cfg.load_args(["--unixsocketperm", text])
        assert cfg["unixsocketperm"] == want
        assert cfg.render("unixsocketperm") == ("%o" % want)
    # (redis-server 7.0.15 words the range in octal: tests/test_directives.py compares the texts)
    for text, err in (("8", "couldn't be parsed as an octal number"), ("1000", "between 0 and 777 inclusive")):
        cfg = Config()
        try:
            cfg.load_args(["--unixsocketperm", text])
        except ConfigError as e:
            assert err in str(e)
        else:
            raise AssertionError(text)


def test_client_kill_by_address_kills_every_unix_socket_client(tmp_path):
    """Unix-socket clients share one address ("path:0"): the old form CLIENT KILL <addr> kills
    them all and answers +OK; ADDR counts them."""
    plain = dict(zip(("redis", "pyredis"), free_ports(2)))
    paths = {w: tmp_path / w / "redis.sock" for w in ("redis", "pyredis")}
    args = ["--port", lambda w: str(plain[w]), "--unixsocket", lambda w: str(paths[w])]
    with both_servers(tmp_path, args, [("tcp", lambda w: plain[w]), ("unix", lambda w: paths[w])]):
        out = {}
        for w in ("redis", "pyredis"):
            addr = (str(paths[w]) + ":0")[:77]  # as Redis shows it (its address buffer)
            admin = redis.Redis(port=plain[w])
            res = []
            for form in (("KILL", addr), ("KILL", "ADDR", addr)):
                clients = [redis.Redis(unix_socket_path=str(paths[w]), single_connection_client=True) for _ in range(3)]
                for c in clients:
                    c.ping()
                res.append(admin.execute_command("CLIENT", *form))
                res.append(sum(1 for ln in admin.execute_command("CLIENT", "LIST").decode().splitlines()
                               if "flags=U" in ln))
                for c in clients:
                    c.close()
            res.append(admin.execute_command("CLIENT", "LIST", "TYPE", "normal").count(b"\n"))
            admin.close()
            out[w] = res
        assert out["pyredis"] == out["redis"] and out["redis"][:4] == [b"OK", 0, 3, 0]
