"""`check`: the fleet check for cron, with its state, transitions, evidence archive, notifications and metrics."""
