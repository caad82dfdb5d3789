"""The asyncio runtime that dials: claims due work, drives calls, records what happened."""
