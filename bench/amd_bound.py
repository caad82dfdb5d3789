"""What timing alone can reach (issue 16, h-bound): an upper bound for any detector that decides
from *when* the callee's voice is on or off (and when a beep starts), not from what is said.

For every person and machine of the broad corpus (bench/amd_corpus2.py), a 20 ms on/off timeline
of the callee's voice, from one of two ears:

- ``truth``: the labels' ``segments`` (the callee's or the greeting's speech; talk behind the
  callee, music and tones are not voice): a perfect voice detector;
- ``ear``: the detector's own ear (``dialer.telephony.ear.Ear``, the voice gate's per-frame
  verdicts) on the corpus audio, as the answer detector hears it.

At each decision point (every 100 ms to 5 s, and 8 s and 10 s) ``features_at`` reads the timeline
up to that point only (causal): voice so far, utterances, pauses, the current silence, the first
utterance and pause, the last seconds' voice. Gradient-boosted trees (bench/amd_train.py's, the
ones behind ``answer_model``) turn them into a margin (log-odds of a machine) at each point, and
a policy decides: MACHINE at the first point with margin >= ``hi``; HUMAN at the first point with
margin <= ``lo`` after ``wait`` ms of the callee's silence; at the policy's last point, MACHINE at
or above ``end`` and otherwise HUMAN ("not sure" taken as a person). A machine whose beep starts
before the decision is caught (the greeting-end finder hears it). The margins on tune are out of
fold (five folds by voice); the policy is chosen on them for each limit of false machines, with
people decided by 3.5 s at p95 and with no time limit; the held-out half (``--held-out``, run
once at the end) is scored by trees trained on the whole tune half with those policies.

Fax and dead air are left out (tones and INITIALSILENCE decide them); "accuracy" is over people
and machines.

    .venv/bin/python bench/amd_bound.py [--corpus .cache/amd-corpus2] [--held-out]
        [--ear truth|ear|both] [--set name=value ...]  (the ear's AmdSettings, e.g. the gate's)
"""

import argparse
import csv
import dataclasses
import hashlib
import itertools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
from amd_train import Trees, fit
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.answer_features import NAMES as DETECTOR_NAMES
from dialer.telephony.ear import Ear
from dialer.telephony.pcm import read_wav_8k

FRAME_MS = 20
PAUSE_MS = 300  # silence that ends an utterance (answer_features' _PAUSE_MS)
LONG_PAUSE_MS = 500
POINTS_MS = (*range(100, 5001, 100), 8000, 10000)
LAST_POINTS_MS = (2000, 2500, 3000, 3500, 4000, 5000, 8000, 10000)  # a policy's last point
P95_MS = 3500  # issue 16: people decided within 3.5 s at p95
FOLDS = 5
SEED = 16
Array = npt.NDArray[np.float64]
Voice = npt.NDArray[np.bool_]
FEATURES = (
    "time_s",
    "heard",
    "voice_s",
    "first_voice_s",
    "since_first_voice_s",
    "voice_share",
    "utterances",
    "runs",
    "first_utterance_s",
    "first_utterance_over",
    "first_pause_s",
    "second_utterance_s",
    "longest_utterance_s",
    "current_utterance_s",
    "current_silence_s",
    "longest_pause_s",
    "mean_pause_s",
    "long_pauses",
    "voice_last_1s",
    "voice_last_2s",
    "tone_s",
)
SILENCE = FEATURES.index("current_silence_s")
HEARD = FEATURES.index("heard")
# amd_train's trees read the first len(answer_features.NAMES) columns: ours must all fit.
assert len(FEATURES) <= len(DETECTOR_NAMES)


def frames_of(segments: str, length_ms: int) -> Voice:
    """The labels' ``start-end;...`` speech as 20 ms frames: a frame is voice if its middle is
    inside a segment."""
    middles = np.arange(0, length_ms, FRAME_MS) + FRAME_MS / 2
    voice = np.zeros(len(middles), dtype=np.bool_)
    for part in filter(None, segments.split(";")):
        start, end = (int(x) for x in part.split("-"))
        voice |= (middles >= start) & (middles < end)
    return voice


def features_at(voice: Voice, n: int, tone: Voice | None = None) -> Array:
    """The features after the first ``n`` frames, read from ``voice[:n]`` (and ``tone[:n]``,
    the frames of steady tones or music) and nothing later."""
    v = voice[:n].astype(np.int8)
    s = FRAME_MS / 1000.0
    t = n * s
    tone_s = float(tone[:n].sum()) * s if tone is not None else 0.0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], v, [0]))))
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return np.array([t, 0.0, 0.0, t, *[0.0] * 10, t, *[0.0] * 5, tone_s])
    pause = PAUSE_MS // FRAME_MS
    new = starts[1:] - ends[:-1] >= pause  # a gap this long starts a new utterance
    u_starts = starts[np.concatenate(([True], new))]
    u_ends = ends[np.concatenate((new, [True]))]
    lengths = u_ends - u_starts
    pauses = u_starts[1:] - u_ends[:-1]
    silence = n - int(ends[-1])
    over = len(lengths) > 1 or silence >= pause  # the first utterance has ended
    gaps = pauses if silence < pause else np.append(pauses, silence)
    first = int(starts[0])
    since = n - first
    voiced = float(v.sum())
    return np.array(
        [
            t,
            1.0,
            voiced * s,
            first * s,
            since * s,
            voiced / since,
            float(len(lengths)),
            float(len(starts)),
            lengths[0] * s,
            float(over),
            (gaps[0] if len(gaps) else 0) * s,
            (lengths[1] if len(lengths) > 1 else 0) * s,
            lengths.max() * s,
            (lengths[-1] if silence < pause else 0) * s,
            silence * s,
            (gaps.max() if len(gaps) else 0) * s,
            (gaps.mean() if len(gaps) else 0.0) * s,
            float((gaps * FRAME_MS >= LONG_PAUSE_MS).sum()),
            float(v[max(0, n - 1000 // FRAME_MS) :].sum()) * s,
            float(v[max(0, n - 2000 // FRAME_MS) :].sum()) * s,
            tone_s,
        ]
    )


def _pad(frames: Voice) -> Voice:
    last = POINTS_MS[-1] // FRAME_MS
    return np.concatenate((frames[:last], np.zeros(max(0, last - len(frames)), dtype=np.bool_)))


def timeline_rows(voice: Voice, tone: Voice) -> Array:
    """The features at every decision point (the timeline padded with silence to the last)."""
    voice, tone = _pad(voice), _pad(tone)
    return np.array([features_at(voice, ms // FRAME_MS, tone) for ms in POINTS_MS])


def ear_frames(audio: bytes, settings: AmdSettings | None = None) -> npt.NDArray[np.bool_]:
    """The detector's ear's per-frame verdicts over the file: (2, frames), voice (a tone is
    not voice) and a steady tone or a melody's held note (the gate's ``melody_frames``)."""
    ear = Ear(settings or AmdSettings())
    length = POINTS_MS[-1] // FRAME_MS
    pcm = audio[: length * FRAME_MS * 16].ljust(length * FRAME_MS * 16 + 320 * 5, b"\0")
    heard = np.zeros((2, length), dtype=np.bool_)
    for fed in range(0, len(pcm), 320):
        for frame in ear.hear(pcm[fed : fed + 320]):
            if frame.index < length:
                heard[:, frame.index] = frame.voice, frame.tone is not None or frame.note
    return heard


def truth_tones(row: dict[str, str]) -> Voice:
    """The labels' beeps and melody as frames (the truth's counterpart of the ear's tones)."""
    spans = [t.split("@")[1] for t in filter(None, row["tones"].split(";"))]
    if row["music_start_ms"]:
        spans.append(f"{row['music_start_ms']}-{row['music_end_ms']}")
    return frames_of(";".join(spans), int(row["duration_ms"]))


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    half: str
    kind: str
    voice: str
    machine: bool
    beep_ms: float  # the first tone's start, inf if none
    rows: dict[str, Array]  # ear name: features at each point


def _fingerprint(settings: AmdSettings, corpus: Path) -> str:
    """The ear's code and settings, and the corpus's labels: a corpus made again with another
    seed into the same folder has the same file names and other audio."""
    here = Path(__file__).parents[1] / "src/dialer/telephony"
    code = b"".join(
        (here / name).read_bytes()
        for name in ("ear.py", "vad.py", "tones.py", "amd_settings.py", "pcm.py")
    )
    code += repr(settings).encode() + (corpus / "labels.csv").read_bytes()
    return hashlib.sha256(code + Path(__file__).read_bytes()).hexdigest()[:16]


def ear_cache(corpus: Path, settings: AmdSettings) -> Path:
    """Where ``load`` keeps the ear's per-file frames (voice, tone) for this corpus and ear."""
    return corpus / f"bound-ear-{_fingerprint(settings, corpus)}.npz"


def load(corpus: Path, settings: AmdSettings | None = None) -> list[Item]:
    """People and machines of both halves with both ears' rows (the ear's cached by code and
    settings)."""
    settings = settings or AmdSettings()
    with (corpus / "labels.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["label"] in ("human", "machine")]
    cache = ear_cache(corpus, settings)
    if cache.exists():
        stored = np.load(cache)
        heard = {r["file"]: stored[r["file"]] for r in rows}
    else:
        heard = {r["file"]: ear_frames(read_wav_8k(corpus / r["file"]), settings) for r in rows}
        np.savez_compressed(cache, **heard)
    return [
        Item(
            r["file"],
            r["half"],
            r["kind"],
            r["voice"],
            r["label"] == "machine",
            float(r["beep_start_ms"]) if r["beep_start_ms"] else np.inf,
            {
                "truth": timeline_rows(
                    frames_of(r["segments"], int(r["duration_ms"])), truth_tones(r)
                ),
                "ear": timeline_rows(*heard[r["file"]]),
            },
        )
        for r in rows
    ]


def _stack(items: Sequence[Item], ear: str) -> tuple[Array, Array]:
    """Training rows: every other decision point (half the cost; the trees still score all)."""
    x = np.concatenate([i.rows[ear][::2] for i in items])
    y = np.concatenate([np.full(len(i.rows[ear][::2]), float(i.machine)) for i in items])
    return x, y


def out_of_fold(items: Sequence[Item], ear: str) -> Array:
    """Each tune item's margins at every point from trees trained on the other voices."""
    voices = sorted({i.voice for i in items})
    fold_of = {v: n % FOLDS for n, v in enumerate(np.random.default_rng(SEED).permutation(voices))}
    margins = np.zeros((len(items), len(POINTS_MS)))
    for fold in range(FOLDS):
        model = fit(*_stack([i for i in items if fold_of[i.voice] != fold], ear))
        for n, item in enumerate(items):
            if fold_of[item.voice] == fold:
                margins[n] = model.margin(item.rows[ear])
    return margins


@dataclass(frozen=True, slots=True)
class Policy:
    hi: float  # MACHINE at a margin at or above this
    lo: float  # HUMAN at or below this ...
    wait_ms: int  # ... once the callee has been silent this long
    last_ms: int  # the last point: MACHINE at or above ``end``, else HUMAN
    end: float


@dataclass(frozen=True, slots=True)
class Scores:
    margins: Array  # (items, points)
    silence_ms: Array
    heard: npt.NDArray[np.bool_]
    beep_ms: Array
    machine: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, items: Sequence[Item], ear: str, margins: Array) -> "Scores":
        return cls(
            margins,
            np.array([i.rows[ear][:, SILENCE] * 1000.0 for i in items]),
            np.array([i.rows[ear][:, HEARD] > 0 for i in items]),
            np.array([i.beep_ms for i in items]),
            np.array([i.machine for i in items]),
        )

    def decide(self, policy: Policy) -> tuple[npt.NDArray[np.bool_], Array]:
        """Per item: judged a machine, and when (ms)."""
        at = np.array(POINTS_MS)
        last = int(np.searchsorted(at, policy.last_ms))
        m = self.margins[:, : last + 1]
        machine = (m >= policy.hi) | (at[: last + 1] >= self.beep_ms[:, None])
        human = (
            (m <= policy.lo)
            & (self.silence_ms[:, : last + 1] >= policy.wait_ms)
            & self.heard[:, : last + 1]
        )
        human[:, last] = ~machine[:, last]
        machine[:, last] |= m[:, last] >= policy.end
        human &= ~machine
        either = machine | human
        first = either.argmax(axis=1)  # the last point always decides
        rows = np.arange(len(first))
        return machine[rows, first], at[first].astype(np.float64)


@dataclass(frozen=True, slots=True)
class Figures:
    false_machine: float
    missed: float
    people_p95: int
    accuracy: float


def judge(scores: Scores, policy: Policy) -> Figures:
    machine, at = scores.decide(policy)
    people = ~scores.machine
    times = np.sort(at[people])
    return Figures(
        float(machine[people].mean()),
        float((~machine[scores.machine]).mean()),
        int(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]),
        float((machine == scores.machine).mean()),
    )


def policies(margins: Array) -> Iterable[Policy]:
    grid = np.arange(np.floor(margins.min()), np.ceil(margins.max()) + 0.01, 1.0)
    grid = grid[(grid >= -8.0) & (grid <= 8.0)]
    for hi, wait, last_ms in itertools.product(grid, (0, 300, 500, 800), LAST_POINTS_MS):
        for lo in grid[grid <= hi]:
            for end in grid[grid >= lo]:
                yield Policy(float(hi), float(lo), wait, last_ms, float(end))


def front(scores: Scores) -> list[tuple[Figures, Policy]]:
    """Every policy's figures on these scores (the Pareto choice is made from them)."""
    return [(judge(scores, p), p) for p in policies(scores.margins)]


def best(
    results: list[tuple[Figures, Policy]], limit: float, p95_ms: int | None
) -> tuple[Figures, Policy] | None:
    """The fewest machines missed with at most ``limit`` false machines (and people p95)."""
    fitting = [
        r
        for r in results
        if r[0].false_machine <= limit + 1e-9 and (p95_ms is None or r[0].people_p95 <= p95_ms)
    ]
    if not fitting:
        return None
    return min(
        fitting,
        key=lambda r: (r[0].missed, r[0].false_machine, r[0].people_p95, -r[1].lo),
    )


def separability(scores: Scores, limit: float) -> list[str]:
    """Deciding everyone at one fixed time t: machines missed with at most ``limit`` of people
    judged machines (a threshold on the margin at t, beeps started by t caught)."""
    out = []
    people = ~scores.machine
    for ms in (1000, 2000, 3000, 3500, 4000, 5000, 8000, 10000):
        k = POINTS_MS.index(ms)
        m = scores.margins[:, k]
        allowed = int(np.floor(limit * people.sum()))
        ordered = np.sort(m[people])[::-1]
        threshold = ordered[allowed] if allowed < len(ordered) else -np.inf
        caught = (m > threshold) | (scores.beep_ms <= ms)
        missed = float((~caught[scores.machine]).mean())
        false = float(caught[people].mean())
        out.append(f"{ms / 1000:g} s: missed {missed:.1%} (false {false:.1%})")
    return out


def per_kind(items: Sequence[Item], scores: Scores, policy: Policy) -> list[str]:
    machine, at = scores.decide(policy)
    lines = []
    for kind in sorted({i.kind for i in items}):
        mine = np.array([i.kind == kind for i in items])
        wrong = machine[mine] != scores.machine[mine]
        what = "missed" if scores.machine[mine][0] else "as machine"
        times = np.sort(at[mine])
        p95 = int(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))])
        lines.append(
            f"  {kind:<12} {what:<10} {wrong.mean():>6.1%} ({int(wrong.sum())}/{int(mine.sum())})"
            f"  p50 {int(np.median(at[mine]))} ms, p95 {p95} ms"
        )
    return lines


LIMITS = (0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.06, 0.08)


def show(f: Figures) -> str:
    return (
        f"false machine {f.false_machine:.1%}, missed {f.missed:.1%},"
        f" people p95 {f.people_p95} ms, accuracy {f.accuracy:.1%}"
    )


def run(tune: Sequence[Item], held: Sequence[Item], ear: str) -> None:
    print(f"\n== ear: {ear} ({len(tune)} tune people and machines)")
    tuned = Scores.of(tune, ear, out_of_fold(tune, ear))
    print("one fixed time for everyone, tune out of fold, at most 1.5% false machine:")
    for line in separability(tuned, 0.015):
        print(f"  {line}")
    results = front(tuned)
    model: Trees | None = None
    for p95_ms, title in ((P95_MS, "people p95 <= 3.5 s"), (None, "no time limit")):
        print(f"-- Pareto front, {title}: chosen on tune (out of fold) -> held-out")
        chosen: dict[float, Policy] = {}
        for limit in LIMITS:
            found = best(results, limit, p95_ms)
            if found is None:
                print(f"  <= {limit:.1%}: no policy")
                continue
            figures, policy = found
            chosen[limit] = policy
            line = f"  <= {limit:.1%}: tune {show(figures)}"
            if held:
                model = model or fit(*_stack(tune, ear))
                scores = Scores.of(held, ear, np.array([model.margin(i.rows[ear]) for i in held]))
                line += f"\n           held-out {show(judge(scores, policy))}"
            print(line)
        if 0.015 in chosen:
            policy = chosen[0.015]
            print(f"   at <= 1.5%: {policy}; per kind, tune (out of fold):")
            print("\n".join(per_kind(tune, tuned, policy)))
            if held:
                model = model or fit(*_stack(tune, ear))
                scores = Scores.of(held, ear, np.array([model.margin(i.rows[ear]) for i in held]))
                print("   per kind, held-out:")
                print("\n".join(per_kind(held, scores, policy)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--ear", choices=["truth", "ear", "both"], default="both")
    parser.add_argument(
        "--held-out", action="store_true", help="also score the held-out half (once, at the end)"
    )
    parser.add_argument(
        "--set", action="append", default=[], help="the ear's AmdSettings field=value (numbers)"
    )
    args = parser.parse_args()
    types = {f.name: f.type for f in dataclasses.fields(AmdSettings)}
    overrides: dict[str, float | int] = {}
    for item in args.set:
        name, value = item.split("=", 1)
        overrides[name] = float(value) if types[name] in (float, "float") else int(value)
    items = load(args.corpus, AmdSettings(**overrides))  # type: ignore[arg-type]
    tune = [i for i in items if i.half == "tune"]
    held = [i for i in items if i.half == "held-out"] if args.held_out else []
    for ear in ("truth", "ear") if args.ear == "both" else (args.ear,):
        run(tune, held, ear)


if __name__ == "__main__":
    main()
