"""Dispatch behaviour that Redis cannot show: a handler bug costs one error reply, the
connection and the server keep working."""

from __future__ import annotations

from pyredis.core import spec
from resp import RawClient


def test_handler_exception_becomes_error_reply(pyredis_srv):
    @spec.command("PYREDIS-TEST-BOOM", arity=1, group="server")
    def boom(ctx):
        raise ZeroDivisionError("deliberate")

    # the running server's table was made at its start (core/commandtable.py): add it there too
    table = pyredis_srv.state.commands
    table[b"pyredis-test-boom"] = spec.TABLE[b"pyredis-test-boom"]
    try:
        c = RawClient("127.0.0.1", pyredis_srv.port)
        reply = c.call("PYREDIS-TEST-BOOM")
        assert reply.startswith(b"ERR internal error while executing 'pyredis-test-boom'")
        assert c.call("PING") == b"PONG"  # same connection still served
        c.close()
    finally:
        del spec.TABLE[b"pyredis-test-boom"]
        del table[b"pyredis-test-boom"]
        pyredis_srv.state.spelling.pop(b"PYREDIS-TEST-BOOM", None)
