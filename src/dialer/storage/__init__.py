"""Store adapters: SQLite (the embedded default) and PostgreSQL, behind one SQL store."""
