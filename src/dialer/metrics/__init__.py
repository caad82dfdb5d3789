"""Prometheus metrics, built from domain events (docs/metrics.md)."""
