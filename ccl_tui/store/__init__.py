"""The SQLite event store (aiosqlite): schema, migrations, ingest, queries."""
