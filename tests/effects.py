"""Effects(): a propagation sink for tests that records what a server propagates (what the AOF
and replicas receive), as (dbid, argv) pairs.

    with Effects(state) as log: ...       # attached to state.propagation for the block
    log = Effects(); state.propagation.add_sink(log)
    Effects(argv_only=True)                # records argv lists only
"""

from __future__ import annotations


class Effects(list):
    def __init__(self, state=None, argv_only: bool = False) -> None:
        super().__init__()
        self.state = state
        self.argv_only = argv_only

    def feed(self, dbid: int, argv: list[bytes]) -> None:
        argv = [bytes(a) for a in argv]
        self.append(argv if self.argv_only else (dbid, argv))

    def argvs(self) -> list[list[bytes]]:
        return [argv for _, argv in self]

    @property
    def log(self):  # the name older tests use
        return self

    def __enter__(self) -> Effects:
        self.state.propagation.add_sink(self)
        return self

    def __exit__(self, *exc) -> None:
        self.state.propagation.remove_sink(self)
