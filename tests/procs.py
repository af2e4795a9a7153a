"""Servers in subprocesses for tests that kill, signal, limit or restart them: start one on a
port and wait for PONG, stop one for sure.

    proc = start(cmd, port)                       # cmd: pyredis's or redis-server's argv
    proc = start(cmd, port, out=subprocess.PIPE)  # read its log from stdout later
    stop(proc)                                    # SIGTERM, then SIGKILL after 15 s
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time


def start(cmd: list[str], port: int, out=subprocess.DEVNULL, preexec_fn=None, ready=(b"+PONG",)) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
    deadline = time.time() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(ready):
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            stop(proc)
            raise AssertionError(f"server did not start: {cmd}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
