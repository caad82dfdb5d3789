"""Use cases: the only things the API and CLI call."""
