"""Running the bot: background jobs, metrics, logs, heap, audit log and key, limits, privacy."""
