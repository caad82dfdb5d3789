"""What timing can reach at the greeting's end (issue 16, h-words): how many greetings a detector
that hears every beep perfectly, and when the greeting's voice stops, could start its message on
within 0-300 ms of the greeting's end.

With a beep, the end is the beep's end, found if nothing set the message off before the beep.
Without one, the only cue is silence: a rule that starts the message after ``silence`` ms of
quiet, once the call has run ``after`` ms (so it can keep still through a greeting's first
sentences), finds a beepless greeting's end only if ``silence`` <= 300 ms and it fires at no
pause before the end; and the same rule, not knowing whether a beep will come, starts the message
too early in a greeting with a beep if it fires at a pause inside it or in the quiet before the
beep. Every (``after``, ``silence``) on a grid, and no rule at all (wait for beeps only), is
scored from the labels' speech segments and beeps alone (no audio, no detector); the best on the
tune half is reported on both halves, beside the best that could be chosen on the held-out half
itself. Last, a design that could meet the target with timing: start after 300 ms of quiet, and
stop and start again whenever the greeting speaks again or beeps; it prints how often such a
message would start before the greeting's end.

    .venv/bin/python bench/amd_end_bound.py [--corpus .cache/amd-corpus2]
"""

import argparse
import csv
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

WITHIN_MS = 300  # the window: the message starts 0-300 ms after the greeting's end
AFTER_MS = range(0, 20_001, 250)
SILENCE_MS = range(20, WITHIN_MS + 1, 20)


@dataclass(frozen=True, slots=True)
class Greeting:
    pauses: tuple[tuple[int, float], ...]  # (start, length) of each quiet after speech, in order
    beep: bool  # the last pause ends in a beep; otherwise it is the end's silence (infinite)


def greeting(row: dict[str, str]) -> Greeting:
    spans = [tuple(int(x) for x in s.split("-")) for s in row["segments"].split(";") if s]
    pauses: list[tuple[int, float]] = [
        (a[1], float(b[0] - a[1])) for a, b in itertools.pairwise(spans)
    ]
    end = spans[-1][1]
    beep = bool(row["beep_kind"])
    pauses.append((end, float(int(row["beep_start_ms"]) - end) if beep else math.inf))
    return Greeting(tuple(pauses), beep)


def found(g: Greeting, after_ms: int, silence_ms: float) -> bool:
    """Does the rule (``silence_ms`` = inf: no rule) start the message in time, and not early?"""
    fires = next(
        (
            n
            for n, (start, length) in enumerate(g.pauses)
            if start + silence_ms >= after_ms and length >= silence_ms
        ),
        None,
    )
    if g.beep:
        return fires is None  # the beep, heard perfectly, starts the message
    return fires == len(g.pauses) - 1 and silence_ms <= WITHIN_MS


def false_starts(g: Greeting, silence_ms: float) -> int:
    """With restarts (stop when the greeting speaks again or beeps, start again after the next
    quiet), how often a ``silence_ms`` rule starts the message before the greeting's end: once at
    every pause that long before it. The last start is then in time for every beepless greeting
    (``silence_ms`` <= 300) and at every beep that is heard."""
    last = len(g.pauses) if g.beep else len(g.pauses) - 1
    return sum(1 for _, length in g.pauses[:last] if length >= silence_ms)


def share(greetings: Sequence[Greeting], after_ms: int, silence_ms: float) -> float:
    return sum(found(g, after_ms, silence_ms) for g in greetings) / len(greetings)


def rules() -> list[tuple[int, float]]:
    return [(0, math.inf), *((a, float(s)) for a in AFTER_MS for s in SILENCE_MS)]


def show(rule: tuple[int, float]) -> str:
    after, silence = rule
    if math.isinf(silence):
        return "no silence rule (beeps only)"
    return f"{silence:.0f} ms of quiet once the call has run {after} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    args = parser.parse_args()
    with (args.corpus / "labels.csv").open() as f:
        machines = [r for r in csv.DictReader(f) if r["label"] == "machine"]
    halves = {h: [greeting(r) for r in machines if r["half"] == h] for h in ("tune", "held-out")}
    for h, gs in halves.items():
        beeps = [g for g in gs if g.beep]
        waits = sum(1 for g in beeps if g.pauses[-1][1] >= WITHIN_MS)
        print(
            f"{h}: {len(gs)} greetings, {len(beeps)} with a beep, {waits} of them"
            f" ({waits / len(beeps):.0%}) with {WITHIN_MS} ms or more of quiet before it"
        )
    chosen = max(rules(), key=lambda r: share(halves["tune"], *r))
    print(f"best on tune: {show(chosen)}")
    for h, gs in halves.items():
        print(f"  {h}: found in time and not early {share(gs, *chosen):.1%}")
    timer = max(rules()[1:], key=lambda r: share(halves["tune"], *r))
    print(f"best silence rule on tune: {show(timer)}")
    for h, gs in halves.items():
        beeps = [g for g in gs if g.beep]
        quiet = [g for g in gs if not g.beep]
        print(
            f"  {h}: {share(gs, *timer):.1%} (with a beep {share(beeps, *timer):.1%},"
            f" without {share(quiet, *timer):.1%})"
        )
    for h, gs in halves.items():
        starts = [false_starts(g, WITHIN_MS) for g in gs]
        print(
            f"with restarts, {WITHIN_MS} ms of quiet, {h}: the last start in time for every"
            f" greeting whose beep is heard; false starts per greeting {sum(starts) / len(gs):.2f},"
            f" greetings with one or more {sum(1 for n in starts if n) / len(gs):.0%}"
        )
    best = max(rules(), key=lambda r: share(halves["held-out"], *r))
    print(f"best on held-out itself: {show(best)}: {share(halves['held-out'], *best):.1%}")


if __name__ == "__main__":
    main()
