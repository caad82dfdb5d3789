"""How well the ear hears the callee (issue 16, h-ear): frame by frame, the detector's voice gate
(``dialer.telephony.ear.Ear``) against the labels of the broad corpus (bench/amd_corpus2.py).

For the tune half's people, machines and dead air, per kind of answer, per codec and per
background noise:

- ``recall``: the share of the callee's phrase frames (the labels' ``segments``) heard as voice;
- ``cut``: phrases with a silence of 300 ms or more inside them (between two of their frames
  heard as voice), which the detector takes for a pause between utterances; ``deaf``: phrases
  with no frame heard;
- ``false``: the share of frames outside the phrases heard as voice, split by what is there:
  music (a melody before a greeting), talk behind the callee or babble, other noise (fan,
  street, white, pink), quiet (the line alone); ``-far``: the same without the 300 ms after
  each phrase (where a voice that ends late is heard). A beep's or fax's frames (the labels' tones)
  are left out: the tone tracker, not the gate, decides those.

Why a phrase frame was not heard: too quiet for the level test, unvoiced past the hangover, too
far below the callee's level (talk behind), or part of a steady tone.

``--set field=value`` overrides a ``GateSettings`` field (vad.py), so a change to the gate is
judged before it goes end to end (bench/amd_tune.py --set). Tune half only: the held-out half
is for bench/amd_accuracy.py, once.

    .venv/bin/python bench/amd_ear.py [--corpus .cache/amd-corpus2] [--set name=value ...]
"""

import argparse
import csv
import dataclasses
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
from amd_bound import frames_of, truth_tones
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.ear import Ear
from dialer.telephony.pcm import read_wav_8k
from dialer.telephony.vad import GateSettings, SpeechGate

FRAME_MS = 20
CUT_MS = 300  # a silence this long ends an utterance (answer_features' _PAUSE_MS)
LIMIT_MS = 10000  # the detector decides well before this
CAUSES = ("quiet", "unvoiced", "behind", "tone")
Bools = npt.NDArray[np.bool_]


@dataclass(slots=True)
class Heard:
    """One file's frames: heard as voice, and why a frame was not (an index into CAUSES)."""

    voice: Bools
    cause: npt.NDArray[np.int8]


def hear(audio: bytes, gate: GateSettings) -> Heard:
    ear = Ear(AmdSettings())
    ear.gate = SpeechGate(gate)
    length = min(len(audio) // 320, LIMIT_MS // FRAME_MS)
    pcm = audio[: length * 320] + b"\0" * (320 * 5)  # the ear holds its first frames back
    voice = np.zeros(length, dtype=np.bool_)
    cause = np.full(length, -1, dtype=np.int8)
    for fed in range(0, len(pcm), 320):
        for frame in ear.hear(pcm[fed : fed + 320]):
            if frame.index >= length:
                continue
            voice[frame.index] = frame.voice
            if frame.voice:
                continue
            if frame.tone is not None:
                cause[frame.index] = 3
            elif frame.level <= max(gate.silence_threshold, frame.floor + gate.noise_margin):
                cause[frame.index] = 0
            elif frame.voicing < gate.periodicity:
                cause[frame.index] = 1
            else:
                cause[frame.index] = 2
    return Heard(voice, cause)


def phrases(segments: str) -> list[tuple[int, int]]:
    """The labels' phrases as frame ranges [first, end)."""
    out = []
    for part in filter(None, segments.split(";")):
        start, end = (int(x) for x in part.split("-"))
        first, last = (start + FRAME_MS // 2) // FRAME_MS, (end + FRAME_MS // 2) // FRAME_MS
        if last > first:
            out.append((first, last))
    return out


def longest_inner_gap(voice: Bools) -> int:
    """The longest run of unheard frames between two heard ones (0 if none)."""
    heard = np.flatnonzero(voice)
    if len(heard) < 2:
        return 0
    return int((np.diff(heard) - 1).max())


@dataclass(slots=True)
class Tally:
    phrase_frames: int = 0
    heard: int = 0
    phrases: int = 0
    cut: int = 0
    deaf: int = 0
    missed_by: list[int] = field(default_factory=lambda: [0] * len(CAUSES))
    outside: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, row: dict[str, str], heard: Heard) -> None:
        n = len(heard.voice)
        speech = frames_of(row["segments"], n * FRAME_MS) if row["segments"] else None
        tones = truth_tones(row)[:n] if row["tones"] or row["music_start_ms"] else None
        for first, end in phrases(row["segments"]):
            end = min(end, n)
            if end <= first:
                continue
            part = heard.voice[first:end]
            self.phrases += 1
            self.phrase_frames += end - first
            self.heard += int(part.sum())
            self.deaf += int(not part.any())
            self.cut += int(longest_inner_gap(part) * FRAME_MS >= CUT_MS)
            causes = heard.cause[first:end]
            for k in range(len(CAUSES)):
                self.missed_by[k] += int((causes == k).sum())
        outside = np.ones(n, dtype=np.bool_)
        if speech is not None:
            outside &= ~speech[:n]
        music = np.zeros(n, dtype=np.bool_)
        if row["music_start_ms"]:
            music = frames_of(f"{row['music_start_ms']}-{row['music_end_ms']}", n * FRAME_MS)
        if tones is not None:
            outside &= ~(tones & ~music)  # beeps are the tone tracker's; the melody is ours
        what = {"talk": "talk", "babble": "talk", "none": "quiet"}.get(row["noise"], "noise")
        # Frames just after a phrase are where a hold ends late: counted apart as well.
        tail = np.zeros(n, dtype=np.bool_)
        for _, end in phrases(row["segments"]):
            tail[end : end + CUT_MS // FRAME_MS] = True
        for name, mask in (
            ("music", outside & music),
            (what, outside & ~music),
            (f"{what}-far", outside & ~music & ~tail),
        ):
            self.outside[name][0] += int(mask.sum())
            self.outside[name][1] += int((mask & heard.voice).sum())

    def line(self) -> str:
        recall = self.heard / max(self.phrase_frames, 1)
        unheard = max(self.phrase_frames - self.heard, 1)
        why = " ".join(
            f"{c} {m / unheard:.0%}" for c, m in zip(CAUSES, self.missed_by, strict=True)
        )
        false = "  ".join(
            f"{name} {v / max(t, 1):5.1%}"
            for name, (t, v) in sorted(self.outside.items())
            if t >= 50
        )
        return (
            f"recall {recall:5.1%}  cut {self.cut:>3}/{self.phrases:<3}"
            f" ({self.cut / max(self.phrases, 1):5.1%}) deaf {self.deaf:>2}"
            f"  false: {false}  [unheard: {why}]"
        )


def codec_group(codec: str) -> str:
    return "amr-nb" if codec.startswith("amr") else codec


def report(items: Iterable[tuple[dict[str, str], Heard]]) -> None:
    groups: dict[str, dict[str, Tally]] = {
        "kind": defaultdict(Tally),
        "codec": defaultdict(Tally),
        "noise": defaultdict(Tally),
    }
    total = Tally()
    for row, heard in items:
        total.add(row, heard)
        if row["label"] in ("human", "machine"):
            groups["kind"][row["kind"]].add(row, heard)
            groups["codec"][codec_group(row["codec"])].add(row, heard)
            groups["noise"][row["noise"]].add(row, heard)
    for title, tallies in groups.items():
        print(f"-- per {title} (people and machines)")
        for name in sorted(tallies):
            print(f"  {name:<12} {tallies[name].line()}")
    print(f"  {'all':<12} {total.line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--set", action="append", default=[], help="GateSettings field=value")
    args = parser.parse_args()
    types = {f.name: f.type for f in dataclasses.fields(GateSettings)}
    overrides: dict[str, object] = {}
    for item in args.set:
        name, value = item.split("=", 1)
        kind = types[name]
        overrides[name] = (
            float(value)
            if kind in (float, "float")
            else value == "1"
            if kind in (bool, "bool")
            else int(value)
        )
    gate = dataclasses.replace(AmdSettings().gate(), **overrides)  # type: ignore[arg-type]
    print(f"gate: {gate}")
    with (args.corpus / "labels.csv").open(newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["half"] == "tune" and r["label"] in ("human", "machine", "silence")
        ]
    report((row, hear(read_wav_8k(args.corpus / row["file"]), gate)) for row in rows)


if __name__ == "__main__":
    main()
