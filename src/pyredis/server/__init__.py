"""asyncio only: startup, connections, cron, shutdown."""
