"""MODULE against redis-server 7.0.15: LIST and HELP always answer; LOAD, LOADEX and UNLOAD
are refused under enable-module-command no (the default) and, where allowed, fail as Redis
fails for files that are not modules (same reply, same log line)."""

from __future__ import annotations

import ctypes.util
import os
import re
import time

import pytest

import pyredis
from conftest import RealRedis
from resp import RawClient


def test_module_list_help_and_protection(diff):
    diff.check("MODULE", "LIST")
    diff.check("MODULE", "HELP")
    for args in [(), ("NOSUCH",), ("LIST", "x"), ("HELP", "x"), ("LOAD",), ("UNLOAD",), ("UNLOAD", "a", "b"),
                 ("LOAD", "/nonexistent.so"), ("LOADEX", "/nonexistent.so"), ("UNLOAD", "x")]:
        diff.check("MODULE", *args)
    diff.check("COMMAND", "INFO", "module", unordered=True)


def _messages(path: str) -> list[str]:
    """The log's messages without the pid/time prefix ("123:M 01 Jan 2026 00:00:00.000 # ")."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] (.*)$", line.rstrip("\n"))
            if m and m.group(1).startswith(("Module", "CONFIG specified", "Syntax Error")):
                out.append(m.group(1))
    return out


@pytest.fixture
def module_servers(tmp_path):
    real_log, our_log = str(tmp_path / "real.log"), str(tmp_path / "ours.log")
    real = RealRedis("--enable-module-command", "yes", "--loglevel", "notice", "--logfile", real_log,
                     dir=str(tmp_path))
    ours = pyredis.Server(port=0, enable_module_command="yes", loglevel="notice", logfile=our_log,
                          dir=str(tmp_path)).start()
    a, b = RawClient("127.0.0.1", ours.port), RawClient("127.0.0.1", real.port)
    try:
        yield a, b, our_log, real_log
    finally:
        a.close()
        b.close()
        ours.stop()
        real.stop()


def test_module_load_failures_reply_and_log_as_redis(module_servers, tmp_path):
    a, b, our_log, real_log = module_servers
    not_exec = tmp_path / "plain.so"
    not_exec.write_bytes(b"not a module\n")
    text_exec = tmp_path / "text.so"
    text_exec.write_bytes(b"#!/bin/sh\necho not a module\n")
    os.chmod(text_exec, 0o755)
    libm = ctypes.util.find_library("m")  # a real shared library that is no Redis module
    assert libm
    cases = [("LOAD", str(tmp_path / "missing.so")), ("LOAD", str(not_exec)), ("LOAD", str(text_exec), "a", "b"),
             ("LOAD", libm), ("LOADEX", libm, "CONFIG", "n", "v", "ARGS", "x"), ("LOADEX", libm, "CONFIG", "n"),
             ("LOADEX", libm, "BOGUS"), ("LOADEX", str(text_exec), "ARGS"), ("UNLOAD", "nosuch"),
             ("LOAD", "nosuchlib.so")]
    for args in cases:
        x, y = a.call("MODULE", *args), b.call("MODULE", *args)
        assert x == y, (args, x, y)
    assert a.call("MODULE", "LIST") == b.call("MODULE", "LIST") == []
    deadline = time.time() + 5
    while time.time() < deadline and len(_messages(our_log)) < len(_messages(real_log)):
        time.sleep(0.05)
    theirs = _messages(real_log)
    assert len(theirs) >= 8
    assert _messages(our_log) == theirs
