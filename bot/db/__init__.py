"""The database: async engine and sessions, the core's tables, idempotency keys, migrations."""
