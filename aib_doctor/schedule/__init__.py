"""The cron side of aib-doctor: fleet checks with state, notifications and metrics."""
