"""The outbox: enqueue (with the change it announces), the worker, its store and pacing."""
