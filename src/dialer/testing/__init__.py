"""Helpers for tests and benchmarks that need real servers (never imported by the service)."""
