"""Pure rules of the dialer: no I/O, no third-party imports (checked by import-linter)."""
