"""The greeting-end finder on its own: ``GreetingEndDetector`` started at the answer on every
machine of the broad corpus (bench/amd_corpus2.py), whatever the answer detector's verdict, so
its figures are not mixed with machines the verdict missed (bench/amd_accuracy.py keeps the
end-to-end figure, verdict and all).

It hears the line as it would from the answer: nothing said yet (``heard_speech=False``), 20 ms
at a time. The end is *found* when it fires at or after the true end (the end of the last tone
of the beep, or of the greeting when there is no beep) and no more than 300 ms after it:
earlier cuts the message off on the recording, later leaves a gap. A MAXWAIT end is not found.
Printed per half and per kind of machine: found, the timing error (fired minus true end)
p5/p50/p95, how many fired too early, and what ended each.

Only the corpus's machines are needed: if bench/amd_corpus2.py's full corpus is not there, its
machine items alone are generated (the same items, from the same seeds) into
``.cache/amd-corpus2-machines``.

With ``--restart-ms N`` it measures ``MessageStart`` instead (message_start.py: start after N ms
of quiet, stop when the greeting goes on, start again): the found end is the message's last
start, the whole recording is fed, and it prints how often a message started before its last.

    .venv/bin/python bench/amd_greeting_end.py [--corpus DIR] [--errors] [--half tune]
        [--restart-ms N]
"""

import argparse
import csv
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import amd_corpus2
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.greeting_end import GreetingEnd, GreetingEndDetector
from dialer.telephony.message_start import MessageStart
from dialer.telephony.pcm import read_wav_8k

CHUNK = 320  # bytes: 20 ms of 8 kHz s16le, one RTP packet
LATE_MS = 300
MACHINES_OUT = Path(".cache/amd-corpus2-machines")


@dataclass(frozen=True, slots=True)
class Ending:
    file: str
    half: str
    kind: str
    truth_ms: int
    beeped: bool
    reason: str  # "" if it never fired
    at_ms: int | None
    starts: int = 1  # with --restart-ms: how many times the message started (the last counts)

    @property
    def error_ms(self) -> int | None:
        return None if self.at_ms is None else self.at_ms - self.truth_ms

    @property
    def found(self) -> bool:
        error = self.error_ms
        if error is None or self.reason.startswith("MAXWAIT"):
            return False
        return 0 <= error <= LATE_MS


def make_machine(job: tuple[Path, str, int, str, int]) -> dict[str, object]:
    return amd_corpus2.make_one(job)


def generate_machines(out: Path, per_half: int = 500, seed: int = amd_corpus2.DEFAULT_SEED) -> Path:
    """The full corpus's machine items only: same half, index, kind and seed, so the same files."""
    out.mkdir(parents=True, exist_ok=True)
    work = [
        (out, half, i, kind, seed)
        for half in amd_corpus2.HALVES
        for i, kind in enumerate(amd_corpus2.plan(half, per_half, seed))
        if kind.startswith("m-")
    ]
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(make_machine, work, chunksize=2))
    labels = out / "labels.csv"
    with labels.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=amd_corpus2.COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return labels


def run_item(row: dict[str, str], audio: bytes, settings: AmdSettings) -> Ending:
    detector = GreetingEndDetector(settings, heard_speech=False)
    fed = 0
    while fed < len(audio) and not detector.feed(audio[fed : fed + CHUNK]):
        fed += CHUNK
    return ending(row, detector.result, 1)


def run_restarting(
    row: dict[str, str], audio: bytes, settings: AmdSettings, quiet_ms: int
) -> Ending:
    """The message's last start, stopping and starting again as ``MessageStart`` says, with the
    whole recording fed (the machines record 2.5-4 s after their end)."""
    starter = MessageStart(settings, quiet_ms=quiet_ms, heard_speech=False)
    for fed in range(0, len(audio), CHUNK):
        starter.feed(audio[fed : fed + CHUNK])
    return ending(row, starter.starts[-1] if starter.starts else None, len(starter.starts))


def ending(row: dict[str, str], end: GreetingEnd | None, starts: int) -> Ending:
    return Ending(
        file=row["file"],
        half=row["half"],
        kind=row["kind"],
        truth_ms=int(row["greeting_end_ms"]),
        beeped=bool(row["beep_end_ms"]),
        reason=end.reason if end else "",
        at_ms=end.after_ms if end else None,
        starts=starts,
    )


def percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, group: list[Ending]) -> str:
    errors = [e for x in group if (e := x.error_ms) is not None]
    found = sum(x.found for x in group)
    early = sum(e < 0 for e in errors)
    reasons = Counter(x.reason.split("-")[0] or "none" for x in group)
    return (
        f"{name:<22}{len(group):>4}{found / max(len(group), 1):>8.1%}{early:>7}"
        f"{percentile(errors, 0.05):>8}{percentile(errors, 0.5):>8}{percentile(errors, 0.95):>8}"
        f"  {', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))}"
    )


def report(title: str, endings: list[Ending]) -> None:
    found = sum(x.found for x in endings)
    print(f"\n== {title}: greeting end found (0 to +{LATE_MS} ms) {found}/{len(endings)}")
    print(f"{'kind':<22}{'n':>4}{'found':>8}{'early':>7}{'p5 ms':>8}{'p50 ms':>8}{'p95 ms':>8}")
    for kind in sorted({x.kind for x in endings}):
        print(line(kind, [x for x in endings if x.kind == kind]))
    print(line("with a beep", [x for x in endings if x.beeped]))
    print(line("without (a clear end)", [x for x in endings if not x.beeped]))
    print(line("all", endings))
    if any(x.starts != 1 for x in endings):
        early = sum(max(0, x.starts - 1) for x in endings)
        stopped = sum(x.starts > 1 for x in endings)
        never = sum(not x.starts for x in endings)
        print(
            f"restarts: {early} starts before the last ({early / len(endings):.2f} a greeting),"
            f" in {stopped}/{len(endings)} greetings; never started {never}"
        )
    # Without a beep the end can only be told by the quiet after it, so it is heard
    # greeting_end_silence late at best: the 300 ms rule cannot be met; this is the figure that can.
    wait = AmdSettings().greeting_end_silence
    clear = [x for x in endings if not x.beeped]
    in_time = sum(
        x.error_ms is not None
        and not x.reason.startswith("MAXWAIT")
        and 0 <= x.error_ms <= wait + LATE_MS
        for x in clear
    )
    print(
        f"without a beep, found 0 to +{wait + LATE_MS} ms (greeting_end_silence {wait} ms"
        f" + {LATE_MS}): {in_time}/{len(clear)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--half", choices=amd_corpus2.HALVES, default=None, help="only this half")
    parser.add_argument("--errors", action="store_true", help="the tune half's misses")
    parser.add_argument(
        "--restart-ms",
        type=int,
        default=None,
        help="start after this much quiet, stop and start again (MessageStart)",
    )
    args = parser.parse_args()
    directory = args.corpus
    if directory is None:
        full = amd_corpus2.DEFAULT_OUT
        directory = full if (full / "labels.csv").exists() else MACHINES_OUT
    labels = directory / "labels.csv"
    if not labels.exists():
        print(f"generating the corpus's machines in {directory}", file=sys.stderr)
        generate_machines(directory)
    with labels.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] == "machine"]
    if args.half:
        rows = [r for r in rows if r["half"] == args.half]
    settings = AmdSettings()
    if args.restart_ms is None:
        endings = [run_item(r, read_wav_8k(directory / r["file"]), settings) for r in rows]
    else:
        endings = [
            run_restarting(r, read_wav_8k(directory / r["file"]), settings, args.restart_ms)
            for r in rows
        ]
    for half in amd_corpus2.HALVES:
        part = [x for x in endings if x.half == half]
        if part:
            report(f"{half} half", part)
    if args.errors:
        print()
        for x in endings:
            if x.half == "tune" and not x.found:
                print(f"{x.file}: {x.reason or '-'} at {x.at_ms} (truth {x.truth_ms})")


if __name__ == "__main__":
    main()
