"""Keeps the stack events a call receives before its ``baresip.Call`` exists, so none is lost.

baresip-python 0.5.2a3 builds the ``Call`` of ``UserAgent.dial()`` only once the dial command's
reply has come back to the event loop, and the ``Call`` starts listening in its constructor.
Replies and stack events cross from the SIP thread in one queue (``call_soon_threadsafe``), and
the reply resolves a future whose waiter runs a loop iteration or two later. A carrier that
answers within milliseconds, with the loop busy (CPU load, hundreds of calls), gets its
180 and 200 dispatched in between: to every listener there is, but not yet to the call's.
The ``Call`` then stays "outgoing" forever, and the driver rang out an answered call.

This listener subscribes to the runtime before any dial: while a dial is under way it holds
the events of every call not yet bound, and ``claim`` hands a new call the events it missed,
to be replayed through the ``Call``'s own handler (its state, and our listeners after it).
"""

import contextlib
from collections.abc import Iterator

from baresip.events import Event, StackEvent

# A guard against a leak, far above what a call says before its dial returns (a handful).
_MAX_HELD_PER_CALL = 64
_MAX_HELD_CALLS = 10_000


class EarlyEvents:
    def __init__(self) -> None:
        self._dials = 0
        self._held: dict[int, list[StackEvent]] = {}
        self._bound: set[int] = set()

    def __call__(self, event: StackEvent) -> None:
        """The runtime listener (on the event loop)."""
        handle = event.call
        if not handle:
            return
        if handle in self._bound:
            if event.event is Event.CALL_CLOSED:
                self._bound.discard(handle)  # handles may be reused once a call is gone
            return
        if self._dials == 0:
            return  # nobody is waiting for a dial's reply: not a call of ours in the making
        held = self._held.get(handle)
        if held is None:
            if len(self._held) >= _MAX_HELD_CALLS:
                return
            held = self._held[handle] = []
        if len(held) < _MAX_HELD_PER_CALL:
            held.append(event)

    @contextlib.contextmanager
    def dialling(self) -> Iterator[None]:
        """Hold events while a dial is under way (and until its call is claimed)."""
        self._dials += 1
        try:
            yield
        finally:
            self._dials -= 1
            if self._dials == 0:
                # Every dial returned and claimed its call: what is left belongs to nobody.
                self._held.clear()

    def claim(self, handle: int) -> list[StackEvent]:
        """The events ``handle`` received before it was bound, oldest first; from now on
        its events go to its own ``Call`` only."""
        self._bound.add(handle)
        return self._held.pop(handle, [])

    def forget(self, handle: int) -> None:
        self._bound.discard(handle)
        self._held.pop(handle, None)
