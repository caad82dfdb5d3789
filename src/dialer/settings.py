"""Settings from flags and environment variables, with the embedded defaults."""

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///dialer.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    # A 250,000-number campaign with names and two parameters is about 35 MB of JSON.
    max_body_bytes: int = 64 * 1024 * 1024
    max_numbers_per_request: int = 250_000
    # Lists at least this long are normalised on all cores (a 1,000-call AddCallsBulk is).
    parallel_parse_threshold: int = 500

    @classmethod
    def from_env(cls, database_url: str | None = None, **overrides: object) -> "Settings":
        url = database_url or os.environ.get("DIALER_DATABASE_URL") or DEFAULT_DATABASE_URL
        return cls(database_url=url, **overrides)  # type: ignore[arg-type]
