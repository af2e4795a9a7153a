"""Persistence: RDB snapshots and the multi-part AOF on disk, for one server.

Layering: uses core (state, dispatch to replay the AOF, function libraries), rdb/ (the RDB
format) and the leaves; never commands or server. The server builds it (manager.Persistence)
and drives it from its cron, its group commit and its shutdown.

    manager.py     Persistence: the front (commands, INFO, cron, MISCONF through state.disk_error)
    loader.py      the dataset at startup: the AOF or the RDB file
    aof_writer.py  the propagation sink: buffer, write, fsync policies, the AOF file set
    background.py  forked children (BGSAVE, BGREWRITEAOF), SAVE, their bookkeeping
    rewrite.py     AOF base files (RDB preamble or the dataset as commands)
    aof.py         the AOF format: manifest, command encoding and strict parsing
    paths.py       file names from the config
    check.py       pyredis-check-aof / pyredis-check-rdb
"""
