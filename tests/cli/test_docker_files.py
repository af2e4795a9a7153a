"""Dockerfile and compose.yaml (Docker cannot run here): parsed and checked against the
documented service, and the container's own command line run for real with pyredis-server
(loopback, a free port and a tmp folder standing in for the volume)."""

from __future__ import annotations

import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    out, cur = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def instr(name: str) -> list[str]:
    return [a for w, a in dockerfile() if w == name]


def exec_form(text: str) -> list[str]:
    return json.loads(text) if text.startswith("[") else shlex.split(text)


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_dockerfile_basics():
    (base,) = instr("FROM")
    assert base.startswith("python:3.") and base.endswith("-slim")
    users = instr("USER")
    assert users and users[-1] not in ("root", "0")
    assert instr("EXPOSE") == ["6379"]
    assert instr("VOLUME") == ["/data"]
    assert any("pip install ." in a for a in instr("RUN"))
    for copy in instr("COPY"):
        *sources, _dest = copy.split()
        for src in sources:
            assert (ROOT / src).exists(), src
    (hc,) = instr("HEALTHCHECK")
    cmd = exec_form(hc.split("CMD", 1)[1].strip())
    assert cmd[0] == "pyredis-cli" and cmd[-1] == "ping"
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()


def container_command() -> list[str]:
    (cmd,) = instr("CMD")
    return exec_form(cmd)


def test_cmd_turns_aof_on_and_uses_the_volume():
    cmd = container_command()
    assert cmd[0] == "pyredis-server"
    args = dict(zip(cmd[1::2], cmd[2::2]))
    assert args["--appendonly"] == "yes" and args["--port"] == "6379" and args["--dir"] == "/data"
    from pyredis.config import Config

    cfg = Config()
    cfg.load_args(cmd[1:])  # every directive is one pyredis-server accepts
    assert cfg["appendonly"] and cfg["appendfsync"] == "everysec"


def test_compose_matches_the_documented_service():
    c = compose()
    svc = c["services"]["redis"]  # redis://redis:6379 from containers on the network
    assert svc["container_name"] == "app_dev_redis_cache"
    assert svc["ports"] == ["6380:6379"]
    assert svc["volumes"] == ["redis_data:/data"]
    assert "redis_data" in c["volumes"]
    assert svc["networks"] == ["dev-network"] and "dev-network" in c["networks"]
    assert svc["build"] == "." and (ROOT / "Dockerfile").exists()
    test = svc["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "pyredis-cli" and test[-1] == "ping"
    assert svc["command"] == container_command()  # the same AOF-on command as the image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_container_command_and_healthcheck_run(tmp_path):
    port = _free_port()
    cmd = container_command()
    # loopback and a free port in tests; the tmp folder stands in for the /data volume
    swap = {"0.0.0.0": "127.0.0.1", "6379": str(port), "/data": str(tmp_path)}
    argv = [str(BIN / cmd[0])] + [swap.get(a, a) for a in cmd[1:]]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        (hc,) = instr("HEALTHCHECK")
        health = exec_form(hc.split("CMD", 1)[1].strip())
        health_argv = [str(BIN / health[0]), "-p", str(port), *health[1:]]
        deadline = time.time() + 20
        while True:
            out = subprocess.run(health_argv, capture_output=True, timeout=10)
            if out.returncode == 0:
                break
            assert time.time() < deadline, out
            time.sleep(0.1)
        assert out.stdout == b"PONG\n"
        r = redis.Redis(port=port)
        r.set("persisted", "yes")
        r.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert (tmp_path / "appendonlydir" / "appendonly.aof.manifest").exists()
    assert b"persisted" in b"".join(p.read_bytes() for p in (tmp_path / "appendonlydir").glob("*.incr.aof"))
    # the health check fails once the server is gone
    assert subprocess.run(health_argv, capture_output=True, timeout=10).returncode == 1
