"""Reading the simulated network's ``--call-log``: each call's claim, start and end.

Lines, in the engine's clock (epoch microseconds): ``start <reference> <claimed> <placed>`` as
a call is placed, ``end <reference> <ended>`` as it ends. The limits test and
bench/scale_out.py count from them the calls in flight at any instant and the calls claimed in
any one-second window.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SECOND = 1_000_000  # microseconds


@dataclass
class LoggedCall:
    reference: str  # "<destination id>:<attempt number>"
    source: str  # which log (worker) it came from
    claimed: int
    started: int
    ended: int | None  # None: its process died with it on the line

    @property
    def destination(self) -> int:
        return int(self.reference.split(":")[0])


def read_calls(path: Path, source: str, died_at: int | None = None) -> list[LoggedCall]:
    """The calls of one log; a call with no end ends at ``died_at`` (its process was killed:
    a simulated call goes with its process), and without one is an error."""
    calls: dict[str, LoggedCall] = {}
    text = path.read_text() if path.exists() else ""
    for line in text.splitlines():
        kind, reference, *stamps = line.split()
        if kind == "start":
            claimed, started = (int(v) for v in stamps)
            calls[reference] = LoggedCall(reference, source, claimed, started, None)
        else:
            calls[reference].ended = int(stamps[0])
    for call in calls.values():
        if call.ended is None:
            if died_at is None:
                raise ValueError(f"call {call.reference} in {path} never ended")
            call.ended = died_at
    return list(calls.values())


def most_at_once(calls: Iterable[LoggedCall]) -> int:
    """The most calls in flight at any instant; a call ending frees its line for one starting
    at the same instant."""
    moments = []
    for call in calls:
        moments += [(call.started, 1), (call.ended if call.ended is not None else call.started, -1)]
    moments.sort(key=lambda moment: (moment[0], moment[1]))
    most = now = 0
    for _, step in moments:
        now += step
        most = max(most, now)
    return most


def most_in_a_second(stamps: Iterable[int]) -> int:
    """The most stamps in any window [t, t + 1 s)."""
    ordered = sorted(stamps)
    most = first = 0
    for last, stamp in enumerate(ordered):
        while ordered[first] <= stamp - SECOND:
            first += 1
        most = max(most, last - first + 1)
    return most
