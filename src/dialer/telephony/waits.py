"""Waiting on a call's events with a time limit (the SIP call, its agent legs, its messages)."""

import asyncio


async def first_of(*events: asyncio.Event, timeout: float | None) -> bool:
    """Wait until any of ``events`` is set, or ``timeout`` seconds (None: no limit); True if
    one was set."""
    if any(event.is_set() for event in events):
        return True
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(
            waiters,
            timeout=None if timeout is None else max(timeout, 0.0),
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)
