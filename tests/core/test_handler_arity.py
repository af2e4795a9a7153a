"""Every command handler accepts the argument vectors its declared arity lets through.

dispatch.call() runs `spec.handler(client, *argv[spec.argskip:])` once the arity gate has
passed (argskip: 1 for a command, 2 for a subcommand), so a handler whose signature does not
fit its arity turns a valid request into an internal error. For every spec in the table:
- an argv of the minimum length binds (for a fixed arity: exactly that length);
- for a variable arity, longer argvs bind too (the handler may refuse them itself, with
  Redis's error, but not with a TypeError);
- a container that also runs alone (COMMAND) only ever gets its name: longer argvs go to its
  subcommands.
"""

from __future__ import annotations

import inspect

import pytest

import pyredis.commands  # noqa: F401  (registers the command table)
from pyredis.core.spec import CommandSpec, all_specs

HANDLED = sorted((s for s in all_specs() if s.handler is not None), key=lambda s: s.fullname)
EXTRA = 4  # words beyond the minimum tried for a variable arity


def argv_lengths(spec: CommandSpec) -> list[int]:
    """The argv lengths (name and subcommand included) that reach the handler."""
    least = spec.arity if spec.arity > 0 else -spec.arity
    if spec.arity > 0 or spec.subcommands:
        return [least]
    return list(range(least, least + EXTRA + 1))


def unbindable(spec: CommandSpec) -> list[str]:
    """The argv lengths whose arguments do not bind to the handler's parameters, explained."""
    sig = inspect.signature(spec.handler)
    out = []
    for n in argv_lengths(spec):
        args = [b"arg%d" % i for i in range(n - spec.argskip)]
        try:
            sig.bind(object(), *args)
        except TypeError as e:
            out.append(f"argv of {n} words -> {spec.handler.__name__}{sig}: {e}")
    return out


@pytest.mark.parametrize("spec", HANDLED, ids=[s.fullname for s in HANDLED])
def test_handler_accepts_declared_arity(spec):
    assert spec.argskip == (2 if spec.parent is not None else 1)
    assert unbindable(spec) == [], f"{spec.fullname} (arity {spec.arity})"


def test_the_check_catches_a_mismatch():
    def two_args(ctx, key, value):
        return None

    def fixed(ctx, key):
        return None

    def sub(ctx, *rest):
        return None

    variadic = CommandSpec("X-VARIADIC", two_args, -3, "", (0, 0, 0), None, "generic", "", None, "1.0.0", "")
    assert unbindable(variadic) != []  # X-VARIADIC k v extra -> TypeError
    too_short = CommandSpec("X-FIXED", fixed, 3, "", (0, 0, 0), None, "generic", "", None, "1.0.0", "")
    assert unbindable(too_short) != []  # X-FIXED k v -> one argument too many
    ok = CommandSpec("X-CONTAINER|SUB", sub, -2, "", (0, 0, 0), None, "generic", "", None, "1.0.0", "")
    assert argv_lengths(ok) == [2, 3, 4, 5, 6] and unbindable(ok) == []
