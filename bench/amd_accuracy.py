"""Answering-machine and fax detection over a labelled corpus: accuracy, people judged machines,
machines missed, the greeting's end, time to decide and CPU per second of call, per half and per
kind of answer.

Two corpora: ``--corpus new`` (the default), the broad one of bench/amd_corpus2.py (every kind of
answer of issue 16, split by voice and text), and ``--corpus old``, bench/amd_corpus.py's; or a
directory holding either's labels.csv. Each is generated if missing (``--regenerate`` forces it).

Audio is fed as RTP would bring it, 20 ms at a time, from the answer until the verdict; items
judged machines then go on into ``AnswerDetector.message_start()`` to the end of the recording
(the message's last start is its start; with ``message_quiet`` 0, ``greeting_end()`` until it
fires). The expected
verdict is the label, except that dead air (label silence) is expected to be MACHINE, app_amd's
INITIALSILENCE: there is nobody to talk to. The greeting's end is *found* when it fires at or
after the true end (the end of the beep if there is one, else of the greeting) and no more than
300 ms after it: earlier cuts the message off on the recording, later leaves a gap. Machines
missed count as not found. CPU is this process's CPU time in ``feed`` over the seconds of audio
fed. "tune" was used to choose the defaults; "held-out" never is (``--errors`` lists the tune
half's mistakes only).

    .venv/bin/python bench/amd_accuracy.py [--corpus new|old|DIR] [--regenerate] [--errors]
"""

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import amd_corpus
import amd_corpus2
from dialer.domain.call import AnsweredBy
from dialer.telephony.detection import AmdSettings, AnswerDetector, GreetingEnd
from dialer.telephony.pcm import read_wav_8k

CHUNK = 320  # bytes: 20 ms of 8 kHz s16le, one RTP packet
CLASSES = ["human", "machine", "fax", "silence"]
VERDICTS = ["human", "machine", "fax", "none"]
EXPECTED = {"human": "human", "machine": "machine", "fax": "fax", "silence": "machine"}
CALLS = 200  # concurrent calls one process should be able to listen to
LATE_MS = 300  # the message must start within this of the greeting's true end
CORPORA: dict[str, tuple[Path, Callable[[Path], Path]]] = {
    "new": (amd_corpus2.DEFAULT_OUT, lambda out: amd_corpus2.generate(out)),
    "old": (amd_corpus.DEFAULT_OUT, lambda out: amd_corpus.generate(out)),
}
# Issue 16's targets, each half on its own.
TARGET_ACCURACY = 0.97
TARGET_FALSE_MACHINE = 0.015
TARGET_FALSE_MACHINE_PER_KIND = 0.04
TARGET_MISSED = 0.03
TARGET_HUMAN_P95_MS = 3500
TARGET_GREETING_FOUND = 0.95


@dataclass(frozen=True, slots=True)
class Outcome:
    file: str
    half: str
    kind: str
    truth: str
    verdict: str
    after_ms: int
    reason: str
    fed_ms: int
    cpu_s: float
    greeting_end: GreetingEnd | None
    greeting_truth_ms: int | None  # where the message must start: beep end, or end of speech
    beep_end_ms: int | None
    speech_end_ms: int | None
    duration_ms: int
    restarts: int = 0  # starts of the message before its last (settings.message_quiet)

    @property
    def right(self) -> bool:
        return self.verdict == EXPECTED[self.truth]


def feed_until(listen: Callable[[bytes], object], audio: bytes, fed: int) -> tuple[int, float]:
    """Feed ``audio`` from ``fed`` in 20 ms chunks until ``listen`` returns something true or
    the audio ends; how far it got, and the CPU seconds ``listen`` took."""
    cpu = 0.0
    while fed < len(audio):
        chunk = audio[fed : fed + CHUNK]
        started = time.process_time()
        done = listen(chunk)
        cpu += time.process_time() - started
        fed += len(chunk)
        if done:
            break
    return fed, cpu


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
    restarts = 0
    if detection is not None and detection.by is AnsweredBy.MACHINE and row["label"] == "machine":
        if settings.message_quiet > 0:
            # As leave_message does: the message's last start, after every stop (the whole
            # recording fed: a start can be undone until the beep).
            starter = detector.message_start()
            fed, spent = feed_until(lambda chunk: starter.feed(chunk) and starter.final, audio, fed)
            ending = starter.starts[-1] if starter.starts else None
            restarts = max(0, len(starter.starts) - 1)
        else:
            waiting = detector.greeting_end()
            fed, spent = feed_until(waiting.feed, audio, fed)
            ending = waiting.result
        cpu += spent
        if ending is not None:
            end = GreetingEnd(ending.reason, ending.after_ms + detection.after_ms)
    beep_end, speech_end = optional(row["beep_end_ms"]), optional(row["speech_end_ms"])
    truth_end = optional(row.get("greeting_end_ms", ""))
    if truth_end is None and row["label"] == "machine":  # the old corpus has no such column
        truth_end = beep_end if beep_end is not None else speech_end
    return Outcome(
        file=row["file"],
        half=row["half"],
        kind=row["kind"],
        truth=row["label"],
        verdict=verdict,
        after_ms=detection.after_ms if detection else fed // 16,
        reason=detection.reason if detection else "",
        fed_ms=fed // 16,
        cpu_s=cpu,
        greeting_end=end,
        greeting_truth_ms=truth_end,
        beep_end_ms=beep_end,
        speech_end_ms=speech_end,
        duration_ms=int(row["duration_ms"]),
        restarts=restarts,
    )


def optional(value: str | None) -> int | None:
    return int(value) if value else None


def percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part}/{whole})" if whole else "- (0/0)"


def lateness(o: Outcome) -> int | None:
    """How long after the greeting's true end the message would start (negative: too early)."""
    if o.greeting_end is None or o.greeting_truth_ms is None:
        return None
    return o.greeting_end.after_ms - o.greeting_truth_ms


def greeting_found(o: Outcome) -> bool:
    late = lateness(o)
    if late is None or o.greeting_end is None or o.greeting_end.reason.startswith("MAXWAIT"):
        return False
    return 0 <= late <= LATE_MS


def report(title: str, outcomes: list[Outcome]) -> None:
    print(f"\n== {title}: {len(outcomes)} items")
    confusion = Counter((o.truth, o.verdict) for o in outcomes)
    classes = [c for c in CLASSES if any(o.truth == c for o in outcomes)]
    print(f"{'truth/verdict':<16}" + "".join(f"{v:>9}" for v in VERDICTS))
    for truth in classes:
        print(f"{truth:<16}" + "".join(f"{confusion[truth, v]:>9}" for v in VERDICTS))
    humans = [o for o in outcomes if o.truth == "human"]
    machines = [o for o in outcomes if o.truth == "machine"]
    right = sum(o.right for o in outcomes)
    print(f"accuracy {share(right, len(outcomes))} (dead air expected: machine)")
    print(f"false machine {share(sum(o.verdict == 'machine' for o in humans), len(humans))}")
    print(f"machines missed {share(sum(o.verdict != 'machine' for o in machines), len(machines))}")
    faxes = [o for o in outcomes if o.truth == "fax"]
    print(f"fax accuracy {share(sum(o.verdict == 'fax' for o in faxes), len(faxes))}")
    for truth in classes:
        times = [o.after_ms for o in outcomes if o.truth == truth]
        print(
            f"time to decide, {truth}: p50 {percentile(times, 0.5)} ms,"
            f" p95 {percentile(times, 0.95)} ms, p99 {percentile(times, 0.99)} ms"
        )
    found = [o for o in machines if greeting_found(o)]
    reasons = Counter(
        o.greeting_end.reason.split("-")[0] if o.greeting_end else "none" for o in machines
    )
    print(
        f"greeting end found (0 to +{LATE_MS} ms) {share(len(found), len(machines))}"
        f" (by {', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))})"
    )
    for what, beeped in (("with a beep", True), ("without (a clear end)", False)):
        group = [o for o in machines if (o.beep_end_ms is not None) == beeped]
        late = [x for o in group if (x := lateness(o)) is not None]
        early = sum(x < 0 for x in late)
        print(
            f"  {what}: found {share(sum(greeting_found(o) for o in group), len(group))};"
            f" error p50 {percentile(late, 0.5)} ms, p95 {percentile(late, 0.95)} ms;"
            f" {early} too early"
        )
    started = [o for o in machines if o.greeting_end is not None]
    if any(o.restarts for o in started):
        print(
            f"  the message started and was stopped before its last start"
            f" {sum(o.restarts for o in started)} times, in"
            f" {share(sum(o.restarts > 0 for o in started), len(started))} of greetings"
        )
    cpu = sum(o.cpu_s for o in outcomes)
    audio_s = sum(o.fed_ms for o in outcomes) / 1000
    per_second = cpu / max(audio_s, 1e-9) * 1e6
    print(
        f"CPU {per_second:.0f} us per call-second ({audio_s:.0f} s fed in 20 ms chunks):"
        f" {per_second * CALLS / 1e4:.0f}% of one core for {CALLS} calls"
    )


def report_kinds(outcomes: list[Outcome]) -> None:
    """One line per kind of answer: how often it was right, and what went wrong."""
    print(
        f"{'kind':<18}{'n':>4}{'right':>8}{'as mach':>8}{'missed':>8}{'greet':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}"
    )
    for kind in sorted({o.kind for o in outcomes}):
        group = [o for o in outcomes if o.kind == kind]
        n = len(group)
        truth = group[0].truth
        judged_machine = (
            sum(o.verdict == "machine" for o in group) / n if truth == "human" else None
        )
        missed = sum(o.verdict != "machine" for o in group) / n if truth == "machine" else None
        found = sum(greeting_found(o) for o in group) / n if truth == "machine" else None
        times = [o.after_ms for o in group]
        print(
            f"{kind:<18}{n:>4}{sum(o.right for o in group) / n:>8.1%}"
            + "".join(
                f"{'' if v is None else f'{v:.1%}':>8}" for v in (judged_machine, missed, found)
            )
            + f"{percentile(times, 0.5):>8}{percentile(times, 0.95):>8}"
        )


def check(outcomes: list[Outcome]) -> list[str]:
    """Issue 16's targets this half misses (empty: all met)."""
    humans = [o for o in outcomes if o.truth == "human"]
    machines = [o for o in outcomes if o.truth == "machine"]
    missed = []
    if sum(o.right for o in outcomes) / len(outcomes) < TARGET_ACCURACY:
        missed.append(f"accuracy < {TARGET_ACCURACY:.0%}")
    if humans and sum(o.verdict == "machine" for o in humans) / len(humans) > TARGET_FALSE_MACHINE:
        missed.append(f"false machine > {TARGET_FALSE_MACHINE:.1%}")
    for kind in sorted({o.kind for o in humans}):
        group = [o for o in humans if o.kind == kind]
        if sum(o.verdict == "machine" for o in group) / len(group) > TARGET_FALSE_MACHINE_PER_KIND:
            missed.append(f"{kind} false machine > {TARGET_FALSE_MACHINE_PER_KIND:.0%}")
    if machines and sum(o.verdict != "machine" for o in machines) / len(machines) > TARGET_MISSED:
        missed.append(f"machines missed > {TARGET_MISSED:.0%}")
    if percentile([o.after_ms for o in humans], 0.95) > TARGET_HUMAN_P95_MS:
        missed.append(f"people decided p95 > {TARGET_HUMAN_P95_MS} ms")
    if (
        machines
        and sum(greeting_found(o) for o in machines) / len(machines) < TARGET_GREETING_FOUND
    ):
        missed.append(f"greeting end found < {TARGET_GREETING_FOUND:.0%}")
    return missed


def corpus_dir(choice: str) -> tuple[Path, Callable[[Path], Path]]:
    if choice in CORPORA:
        return CORPORA[choice]
    directory = Path(choice)
    labels = directory / "labels.csv"
    header = labels.read_text().split("\n", 1)[0] if labels.exists() else "greeting_end_ms"
    return directory, CORPORA["new" if "greeting_end_ms" in header else "old"][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        default="new",
        help="new (bench/amd_corpus2.py), old (bench/amd_corpus.py) or a corpus directory",
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--errors", action="store_true", help="list the tune half's mistakes (not the held-out's)"
    )
    args = parser.parse_args()
    directory, make = corpus_dir(args.corpus)
    labels = directory / "labels.csv"
    if args.regenerate or not labels.exists():
        print(f"generating the corpus in {directory}", file=sys.stderr)
        make(directory)
    with labels.open(newline="") as f:
        rows = list(csv.DictReader(f))
    settings = AmdSettings()
    outcomes = [run_item(row, read_wav_8k(directory / row["file"]), settings) for row in rows]
    halves = ("tune", "held-out")
    for half in halves:
        part = [o for o in outcomes if o.half == half]
        report(f"{half} half", part)
        print(f"-- {half} half, per kind of answer")
        report_kinds(part)
    report("all", outcomes)
    if args.errors:
        print()
        for o in outcomes:
            if o.half == "tune" and (
                not o.right or (o.truth == "machine" and not greeting_found(o))
            ):
                end = o.greeting_end
                print(
                    f"{o.file}: {o.verdict} {o.reason} at {o.after_ms} ms; greeting end"
                    f" {end.reason + ' at ' + str(end.after_ms) if end else '-'}"
                    f" (truth {o.greeting_truth_ms}, speech end {o.speech_end_ms})"
                )
    print()
    for half in halves:
        missed = check([o for o in outcomes if o.half == half])
        print(
            f"targets of issue 16, {half} half: {'met' if not missed else 'MISSED: '}"
            + "; ".join(missed)
        )


if __name__ == "__main__":
    main()
