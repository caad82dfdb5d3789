"""What timing alone can reach at the greeting's end (issue 16, h-words): how many greetings a
detector that hears only when the greeting's voice stops, and every beep perfectly, could start
its message on within 0-300 ms of the greeting's end.

With a beep, the end is the beep's end: assume it is always found. Without one, the only cue in
the timing is silence, and a detector that starts the message after ``s`` ms of silence starts
it at the end plus ``s`` (found only if ``s`` <= 300 ms) and too early in every greeting that has
a pause of ``s`` ms or more inside it (which the issue asks the corpus to have: pauses of up to
1.5 s). The best single ``s`` is printed with the share it finds, per half, from the labels'
speech segments alone (no audio, no detector):

    .venv/bin/python bench/amd_end_bound.py [--corpus .cache/amd-corpus2]
"""

import argparse
import csv
import itertools
from collections.abc import Sequence
from pathlib import Path

WITHIN_MS = 300  # the window: the message starts 0-300 ms after the greeting's end


def longest_pause_ms(segments: str) -> int:
    """The longest silence between two of the greeting's speech segments (0 for one segment)."""
    spans = [tuple(int(x) for x in s.split("-")) for s in segments.split(";") if s]
    return max((b[0] - a[1] for a, b in itertools.pairwise(spans)), default=0)


def found_by_silence(pauses_ms: Sequence[int], silence_ms: int) -> int:
    """Greetings without a beep whose end a ``silence_ms`` timer finds in time and not early."""
    if silence_ms > WITHIN_MS:
        return 0
    return sum(1 for p in pauses_ms if p < silence_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    args = parser.parse_args()
    with (args.corpus / "labels.csv").open() as f:
        machines = [r for r in csv.DictReader(f) if r["label"] == "machine"]
    for half in ("tune", "held-out"):
        rows = [r for r in machines if r["half"] == half]
        beeps = sum(1 for r in rows if r["beep_kind"])
        pauses = [longest_pause_ms(r["segments"]) for r in rows if not r["beep_kind"]]
        best = max(range(20, WITHIN_MS + 1, 20), key=lambda s: found_by_silence(pauses, s))
        found = found_by_silence(pauses, best)
        print(
            f"{half}: {len(rows)} greetings, {beeps} with a beep (all assumed found), "
            f"{len(pauses)} without; the best silence timer ({best} ms) finds {found} of those "
            f"in time and not early: at most {(beeps + found) / len(rows):.1%} of greetings"
        )


if __name__ == "__main__":
    main()
