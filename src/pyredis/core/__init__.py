"""Command execution: knows nothing about sockets."""
