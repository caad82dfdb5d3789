"""Tuning aid for the answer detector on the broad corpus (bench/amd_corpus2.py): per kind of
answer on the **tune** half, with ``AmdSettings`` overrides from the command line, so a change to
the detector or its defaults can be judged before bench/amd_accuracy.py reports both halves.

The held-out half is reported only as totals (``--held-out``), and never item by item: the issue
asks that its errors stay unseen while tuning.

    .venv/bin/python bench/amd_tune.py [--corpus .cache/amd-corpus2] [--set name=value ...]
        [--errors KIND] [--held-out]
"""

import argparse
import csv
import dataclasses
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from dialer.domain.amd_mode import AmdMode
from dialer.domain.call import AnsweredBy
from dialer.telephony.detection import AmdSettings, AnswerDetector
from dialer.telephony.pcm import read_wav_8k

CHUNK = 320  # 20 ms of s16le, one RTP packet
DEFAULT_CORPUS = Path(".cache/amd-corpus2")
PROMPT_SLACK_MS = 300  # the message must start within this after the greeting's end


@dataclass(frozen=True, slots=True)
class Run:
    file: str
    kind: str
    truth: str
    verdict: str
    reason: str
    after_ms: int
    end_reason: str
    end_ms: int | None  # when the greeting's end was reported, ms from the answer
    truth_end_ms: int | None
    duration_ms: int
    cpu_s: float
    fed_ms: int


def run(row: dict[str, str], audio: bytes, settings: AmdSettings) -> Run:
    detector = AnswerDetector(settings)
    cpu, fed, found = 0.0, 0, None
    started = time.process_time()
    while found is None and fed < len(audio):
        found = detector.feed(audio[fed : fed + CHUNK])
        fed += CHUNK
    end_reason, end_ms = "", None
    if found is not None and found.by is AnsweredBy.MACHINE and row["label"] == "machine":
        waiting = detector.greeting_end()
        while fed < len(audio):
            done = waiting.feed(audio[fed : fed + CHUNK])
            fed += CHUNK
            if done:
                break
        if waiting.result is not None:
            end_reason = waiting.result.reason
            end_ms = found.after_ms + waiting.result.after_ms
    cpu = time.process_time() - started
    truth_end = row["greeting_end_ms"]
    return Run(
        file=row["file"],
        kind=row["kind"],
        truth=row["label"],
        verdict=found.by.value if found else "none",
        reason=found.reason if found else "",
        after_ms=found.after_ms if found else fed // 16,
        end_reason=end_reason,
        end_ms=end_ms,
        truth_end_ms=int(truth_end) if truth_end else None,
        duration_ms=int(row["duration_ms"]),
        cpu_s=cpu,
        fed_ms=min(fed, len(audio)) // 16,
    )


def right(r: Run) -> bool:
    # Dead air is nobody: the detector's MACHINE (initial silence) is the useful answer there.
    return r.verdict == r.truth or (r.truth == "silence" and r.verdict == "machine")


def end_found(r: Run) -> bool:
    if r.end_ms is None or r.truth_end_ms is None or r.end_reason.startswith("MAXWAIT"):
        return False
    return r.truth_end_ms <= r.end_ms <= r.duration_ms


def end_prompt(r: Run) -> bool:
    return (
        end_found(r)
        and r.end_ms is not None
        and r.truth_end_ms is not None
        and (r.end_ms - r.truth_end_ms <= PROMPT_SLACK_MS)
    )


def pct(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0


def summary(runs: list[Run]) -> str:
    humans = [r for r in runs if r.truth == "human"]
    machines = [r for r in runs if r.truth == "machine"]
    judged = [r for r in machines if r.verdict == "machine"]
    fm = sum(r.verdict == "machine" for r in humans) / max(len(humans), 1)
    missed = sum(r.verdict != "machine" for r in machines) / max(len(machines), 1)
    acc = sum(right(r) for r in runs) / max(len(runs), 1)
    found = sum(end_found(r) for r in judged) / max(len(judged), 1)
    prompt = sum(end_prompt(r) for r in judged) / max(len(judged), 1)
    p95 = pct([r.after_ms for r in humans], 0.95)
    cpu = sum(r.cpu_s for r in runs) / max(sum(r.fed_ms for r in runs) / 1000, 1e-9) * 1e6
    return (
        f"acc {acc:6.1%}  false machine {fm:5.1%}  missed {missed:5.1%}  end found {found:6.1%}"
        f" (<=300 ms {prompt:6.1%})  human p95 {p95} ms  cpu {cpu:.0f} us/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--set", action="append", default=[], help="AmdSettings field=value")
    parser.add_argument("--errors", help="list the tune half's mistakes of this kind (or all)")
    parser.add_argument("--held-out", action="store_true", help="also the held-out totals")
    parser.add_argument(
        "--write-rates",
        type=Path,
        help="measure each mode's false-machine rate on the held-out half and write this module"
        " (src/dialer/domain/amd_measured.py)",
    )
    args = parser.parse_args()
    types = {f.name: f.type for f in dataclasses.fields(AmdSettings)}
    overrides: dict[str, object] = {}
    for item in args.set:
        name, value = item.split("=", 1)
        kind = types[name]
        if name == "mode":
            overrides[name] = AmdMode(value)
        else:
            overrides[name] = float(value) if kind in (float, "float") else int(value)
    settings = AmdSettings(**overrides)  # type: ignore[arg-type]
    with (args.corpus / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    if args.write_rates:
        write_rates(args.write_rates, args.corpus, rows, settings)
        return
    halves = ["tune", "held-out"] if args.held_out else ["tune"]
    runs: dict[str, list[Run]] = defaultdict(list)
    for row in rows:
        if row["half"] in halves:
            runs[row["half"]].append(run(row, read_wav_8k(args.corpus / row["file"]), settings))
    tune = runs["tune"]
    by_kind: dict[str, list[Run]] = defaultdict(list)
    for r in tune:
        by_kind[r.kind].append(r)
    for kind in sorted(by_kind):
        verdicts = Counter(r.verdict for r in by_kind[kind])
        print(f"{kind:<16} {len(by_kind[kind]):>3}  {dict(verdicts)}  {summary(by_kind[kind])}")
    print(f"tune all         {len(tune):>3}  {summary(tune)}")
    if args.held_out:
        print(f"held-out all     {len(runs['held-out']):>3}  {summary(runs['held-out'])}")
    if args.errors:
        for r in tune:
            wrong = not right(r) or (
                r.truth == "machine" and r.verdict == "machine" and not end_prompt(r)
            )
            if wrong and args.errors in (r.kind, "all"):
                print(
                    f"{r.file}: {r.verdict} {r.reason} at {r.after_ms}; end {r.end_reason}"
                    f" at {r.end_ms} (truth {r.truth_end_ms})",
                    file=sys.stderr,
                )


def write_rates(
    module: Path, corpus: Path, rows: list[dict[str, str]], settings: AmdSettings
) -> None:
    """Each mode's share of the held-out half's people judged machines, as a module."""
    people = [row for row in rows if row["half"] == "held-out" and row["label"] == "human"]
    audio = {row["file"]: read_wav_8k(corpus / row["file"]) for row in people}
    lines = []
    for mode in AmdMode:
        moded = dataclasses.replace(settings, mode=mode)
        machines = sum(run(row, audio[row["file"]], moded).verdict == "machine" for row in people)
        rate = machines / len(people)
        lines.append(f"    AmdMode.{mode.name}: {rate:.4f},  # {machines}/{len(people)}")
        print(f"{mode.value}: {machines}/{len(people)} people judged machines", file=sys.stderr)
    module.write_text(
        f'''"""The detector's measured false-machine rate per mode (people judged machines): what
the UK abandoned-call estimate uses unless a tenant sets its own (docs/compliance.md).

Generated by ``bench/amd_tune.py --write-rates`` from the held-out half of the broad corpus
(bench/amd_corpus2.py); do not edit by hand.
"""

from dialer.domain.amd_mode import AmdMode

SOURCE = "bench/amd_tune.py --write-rates: held-out half of {corpus.name}, {len(people)} people"
FALSE_MACHINE_RATE = {{
{chr(10).join(lines)}
}}
'''
    )


if __name__ == "__main__":
    main()
