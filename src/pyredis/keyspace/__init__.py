"""Data only: no commands, no sockets."""
