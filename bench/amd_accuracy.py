"""Answering-machine and fax detection over the labelled corpus (bench/amd_corpus.py): accuracy,
time to decide, how the greeting's end is found on machines, and CPU per second of audio.

Audio is fed as RTP would bring it, 20 ms at a time, from the answer until the verdict; machine
items then go on into ``AnswerDetector.greeting_end()`` until it fires. The greeting's end is
*found* when it fires after the greeting (the beep's end if there is a beep, else the end of
speech) and before the file ends; *late* is by how much. CPU is this process's CPU time spent in
``feed`` over the seconds of audio fed. Each half of the corpus is reported alone ("tune" was
used to choose the defaults, "held-out" was not), then both.

    .venv/bin/python bench/amd_accuracy.py [--corpus .cache/amd-corpus] [--regenerate]
"""

import argparse
import csv
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from amd_corpus import DEFAULT_OUT, generate
from dialer.domain.call import AnsweredBy
from dialer.telephony.detection import AmdSettings, AnswerDetector, GreetingEnd
from dialer.telephony.pcm import read_wav_8k

CHUNK = 320  # bytes: 20 ms of 8 kHz s16le, one RTP packet
CLASSES = ["human", "machine", "fax"]
CALLS = 200  # concurrent calls one process should be able to listen to
TARGET_ACCURACY = 0.95
TARGET_FALSE_MACHINE = 0.02


@dataclass(frozen=True, slots=True)
class Outcome:
    file: str
    half: str
    truth: str
    verdict: str
    after_ms: int
    reason: str
    fed_ms: int
    cpu_s: float
    greeting_end: GreetingEnd | None
    greeting_truth_ms: int | None  # beep end, or end of speech
    beep_end_ms: int | None
    speech_end_ms: int | None
    duration_ms: int


def run_item(row: dict[str, str], audio: bytes, settings: AmdSettings) -> Outcome:
    detector = AnswerDetector(settings)
    cpu = 0.0
    fed = 0
    detection = None
    while detection is None and fed < len(audio):
        chunk = audio[fed : fed + CHUNK]
        started = time.process_time()
        detection = detector.feed(chunk)
        cpu += time.process_time() - started
        fed += len(chunk)
    verdict = detection.by.value if detection else "none"
    end = None
    if detection is not None and detection.by is AnsweredBy.MACHINE and row["label"] == "machine":
        waiting = detector.greeting_end()
        rest = fed
        while rest < len(audio):
            chunk = audio[rest : rest + CHUNK]
            started = time.process_time()
            done = waiting.feed(chunk)
            cpu += time.process_time() - started
            rest += len(chunk)
            if done:
                break
        fed = rest
        if waiting.result is not None:
            end = GreetingEnd(waiting.result.reason, waiting.result.after_ms + detection.after_ms)
    beep_end, speech_end = optional(row["beep_end_ms"]), optional(row["speech_end_ms"])
    return Outcome(
        file=row["file"],
        half=row["half"],
        truth=row["label"],
        verdict=verdict,
        after_ms=detection.after_ms if detection else fed // 16,
        reason=detection.reason if detection else "",
        fed_ms=fed // 16,
        cpu_s=cpu,
        greeting_end=end,
        greeting_truth_ms=beep_end if beep_end is not None else speech_end,
        beep_end_ms=beep_end,
        speech_end_ms=speech_end,
        duration_ms=int(row["duration_ms"]),
    )


def optional(value: str) -> int | None:
    return int(value) if value else None


def percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(title: str, outcomes: list[Outcome]) -> None:
    print(f"\n== {title}: {len(outcomes)} items")
    confusion = Counter((o.truth, o.verdict) for o in outcomes)
    print(f"{'truth/verdict':<16}" + "".join(f"{c:>9}" for c in [*CLASSES, "none"]))
    for truth in CLASSES:
        cells = "".join(f"{confusion[truth, v]:>9}" for v in [*CLASSES, "none"])
        print(f"{truth:<16}{cells}")
    right = sum(o.truth == o.verdict for o in outcomes)
    humans = [o for o in outcomes if o.truth == "human"]
    faxes = [o for o in outcomes if o.truth == "fax"]
    false_machine = sum(o.verdict == "machine" for o in humans) / max(len(humans), 1)
    print(f"accuracy {right / len(outcomes):.1%} ({right}/{len(outcomes)})")
    print(f"false machine {false_machine:.1%} of humans")
    print(f"fax accuracy {sum(o.verdict == 'fax' for o in faxes) / max(len(faxes), 1):.1%}")
    for truth in CLASSES:
        times = [o.after_ms for o in outcomes if o.truth == truth]
        print(
            f"time to decide, {truth}: p50 {percentile(times, 0.5)} ms,"
            f" p99 {percentile(times, 0.99)} ms"
        )
    machines = [o for o in outcomes if o.truth == "machine" and o.verdict == "machine"]
    found = [o for o in machines if greeting_found(o)]
    reasons = Counter(
        o.greeting_end.reason.split("-")[0] if o.greeting_end else "none" for o in machines
    )
    print(
        f"greeting end found {len(found)}/{len(machines)} machines"
        f" (by {', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))})"
    )
    for kind, beeped in (("beep", True), ("speech (no beep)", False)):
        late = [lateness(o) for o in found if (o.beep_end_ms is not None) == beeped]
        print(
            f"  after the {kind} ended: p50 {percentile(late, 0.5)} ms,"
            f" p99 {percentile(late, 0.99)} ms ({len(late)} items)"
        )
    cpu = sum(o.cpu_s for o in outcomes)
    audio_s = sum(o.fed_ms for o in outcomes) / 1000
    per_second = cpu / audio_s * 1e6
    print(
        f"CPU {per_second:.0f} us per second of audio ({audio_s:.0f} s fed in 20 ms chunks):"
        f" {per_second * CALLS / 1e4:.0f}% of one core for {CALLS} calls"
    )


def lateness(o: Outcome) -> int:
    assert o.greeting_end is not None
    assert o.greeting_truth_ms is not None
    return o.greeting_end.after_ms - o.greeting_truth_ms


def greeting_found(o: Outcome) -> bool:
    end = o.greeting_end
    if end is None or end.reason.startswith("MAXWAIT") or o.greeting_truth_ms is None:
        return False
    return o.greeting_truth_ms <= end.after_ms <= o.duration_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--errors", action="store_true", help="list the tune half's mistakes (not the held-out's)"
    )
    args = parser.parse_args()
    labels = args.corpus / "labels.csv"
    if args.regenerate or not labels.exists():
        print(f"generating the corpus in {args.corpus}", file=sys.stderr)
        generate(args.corpus)
    with labels.open(newline="") as f:
        rows = list(csv.DictReader(f))
    settings = AmdSettings()
    outcomes = [run_item(row, read_wav_8k(args.corpus / row["file"]), settings) for row in rows]
    for half in ("tune", "held-out"):
        report(f"{half} half", [o for o in outcomes if o.half == half])
    report("all", outcomes)
    if args.errors:
        print()
        for o in outcomes:
            if o.half == "tune" and (
                o.truth != o.verdict or (o.truth == "machine" and not greeting_found(o))
            ):
                end = o.greeting_end
                print(
                    f"{o.file}: {o.verdict} {o.reason} at {o.after_ms} ms; greeting end"
                    f" {end.reason + ' at ' + str(end.after_ms) if end else '-'}"
                    f" (truth {o.greeting_truth_ms}, speech end {o.speech_end_ms})"
                )
    print()
    ok = all(
        check(outcomes)
        for outcomes in ([o for o in outcomes if o.half == h] for h in ("tune", "held-out"))
    )
    print(f"targets (accuracy >= 95%, false machine < 2%, each half): {'met' if ok else 'MISSED'}")


def check(outcomes: list[Outcome]) -> bool:
    humans = [o for o in outcomes if o.truth == "human"]
    accuracy = sum(o.truth == o.verdict for o in outcomes) / len(outcomes)
    false_machine = sum(o.verdict == "machine" for o in humans) / max(len(humans), 1)
    return accuracy >= TARGET_ACCURACY and false_machine < TARGET_FALSE_MACHINE


if __name__ == "__main__":
    main()
