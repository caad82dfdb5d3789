"""A store in memory that behaves as the SQL store does (storage/memory/store.py)."""

from dialer.storage.memory.store import MemorySession, MemoryStore

__all__ = ["MemorySession", "MemoryStore"]
