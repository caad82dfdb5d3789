"""Train the answer classifier (src/dialer/telephony/answer_model.py) on the TUNE half of the broad
corpus (bench/amd_corpus2.py), and write its weights as a generated module.

The model: gradient-boosted stumps (logistic loss, Newton steps, thresholds at feature
quantiles), written in numpy, over ``answer_features.Timeline``'s vector at the decision points
(every 250 ms from 0.5 s to ``answer_model.LAST_MS``). People are 0, machines 1; fax and dead
air are left to the rules (tones, INITIALSILENCE) and not trained on.

Its decision thresholds are chosen on out-of-fold scores: the tune half is cut into folds by
voice (fixed seed), each fold scored by a model trained on the others, and the thresholds that
miss the fewest machines while judging at most ``--false-machine`` of people machines (and
deciding people by ``--people-p95``) are kept. The held-out half is never read here.

    .venv/bin/python bench/amd_train.py [--corpus .cache/amd-corpus2] [--write]
"""

import argparse
import csv
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dialer.telephony.answer_features import NAMES, Timeline
from dialer.telephony.answer_model import FIRST_MS, LAST_MS, STEP_MS
from dialer.telephony.detection import AmdSettings
from dialer.telephony.ear import Ear
from dialer.telephony.pcm import read_wav_8k
from dialer.telephony.tones import FRAME_MS

SEED = 16
FOLDS = 5
ROUNDS = 200
RATE = 0.1
BINS = 32
MODULE = Path(__file__).parents[1] / "src/dialer/telephony/answer_weights.py"
Array = npt.NDArray[np.float64]
SPOKE = NAMES.index("longest_utterance_s")  # Timeline.spoke: a word's worth of voice


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    voice: str
    kind: str
    machine: bool
    vectors: Array  # one row per decision point


def points() -> list[int]:
    return list(range(FIRST_MS, LAST_MS + 1, STEP_MS))


def item_vectors(audio: bytes) -> Array:
    """The features at each decision point, as AnswerDetector computes them."""
    ear = Ear(AmdSettings())
    timeline = Timeline()
    wanted = points()
    rows: list[Array] = []
    chunk = 320
    fed = 0
    while len(rows) < len(wanted):
        piece = audio[fed : fed + chunk] if fed < len(audio) else bytes(chunk)
        fed += chunk
        for frame in ear.hear(piece):
            timeline.step(frame.voice, frame.level, frame.floor, frame.tone is not None)
            at = (frame.index + 1) * FRAME_MS
            if len(rows) < len(wanted) and at >= wanted[len(rows)]:
                rows.append(timeline.vector())
    return np.array(rows)


def load(corpus: Path) -> list[Item]:
    with (corpus / "labels.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["half"] == "tune"]
    items = []
    for row in rows:
        if row["label"] not in ("human", "machine"):
            continue
        audio = read_wav_8k(corpus / row["file"])
        items.append(
            Item(
                row["file"],
                row["voice"],
                row["kind"],
                row["label"] == "machine",
                item_vectors(audio),
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class Trees:
    """Depth-2 trees: a root split, then a split on each side with two leaf values each."""

    base: float
    root: npt.NDArray[np.int64]  # feature index
    root_at: Array  # x[root] <= root_at goes to the low side
    side: npt.NDArray[np.int64]  # (trees, 2): the feature each side splits on
    side_at: Array  # (trees, 2)
    leaf: Array  # (trees, 2, 2): [side][x[side] <= side_at ? 0 : 1]

    def margin(self, x: Array) -> Array:
        high = (x[:, self.root] > self.root_at).astype(np.int64)
        trees = np.arange(len(self.root))
        feature = self.side[trees, high]
        right = (np.take_along_axis(x, feature, axis=1) > self.side_at[trees, high]).astype(
            np.int64
        )
        return self.base + self.leaf[trees, high, right].sum(axis=1)


def _best(masks: Array, g: Array, h: Array) -> tuple[int, float, float, float]:
    """The split (its index) with the most gain, and its two Newton leaf values."""
    gl, hl = masks @ g, masks @ h
    gr, hr = g.sum() - gl, h.sum() - hl
    gain = gl * gl / (hl + 1.0) + gr * gr / (hr + 1.0)
    k = int(gain.argmax())
    return k, float(gain[k]), float(gl[k] / (hl[k] + 1.0)), float(gr[k] / (hr[k] + 1.0))


def fit(x: Array, y: Array) -> Trees:
    splits = [
        (j, float(t))
        for j in range(x.shape[1])
        for t in np.unique(np.quantile(x[:, j], np.linspace(0, 1, BINS + 1)[1:-1]))
    ]
    masks = np.array([x[:, j] <= t for j, t in splits], dtype=np.float64)
    prior = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
    base = float(np.log(prior / (1 - prior)))
    f = np.full(len(y), base)
    roots, root_at, sides, side_at, leaves = [], [], [], [], []
    for _ in range(ROUNDS):
        p = 1.0 / (1.0 + np.exp(-f))
        g = y - p  # the gradient of the log-likelihood
        h = np.maximum(p * (1 - p), 1e-6)
        k, _, _, _ = _best(masks, g, h)
        low = masks[k]
        tree_sides, tree_at, tree_leaf = [], [], []
        for part in (low, 1.0 - low):
            s, _, vl, vr = _best(masks, g * part, h * part)
            tree_sides.append(splits[s][0])
            tree_at.append(splits[s][1])
            tree_leaf.append([RATE * vl, RATE * vr])
            f += part * np.where(masks[s] > 0, RATE * vl, RATE * vr)
        roots.append(splits[k][0])
        root_at.append(splits[k][1])
        sides.append(tree_sides)
        side_at.append(tree_at)
        leaves.append(tree_leaf)
    return Trees(
        base,
        np.array(roots),
        np.array(root_at),
        np.array(sides),
        np.array(side_at),
        np.array(leaves),
    )


def stack(items: list[Item]) -> tuple[Array, Array]:
    x = np.concatenate([i.vectors for i in items])
    y = np.concatenate([np.full(len(i.vectors), float(i.machine)) for i in items])
    return x, y


def out_of_fold(items: list[Item]) -> list[Array]:
    voices = sorted({i.voice for i in items})
    rng = np.random.default_rng(SEED)
    fold_of = {v: n % FOLDS for n, v in enumerate(rng.permutation(voices))}
    scores: list[Array] = [np.zeros(0)] * len(items)
    for fold in range(FOLDS):
        train = [i for i in items if fold_of[i.voice] != fold]
        model = fit(*stack(train))
        for n, item in enumerate(items):
            if fold_of[item.voice] == fold:
                scores[n] = model.margin(item.vectors)
    return scores


@dataclass(frozen=True, slots=True)
class Policy:
    machine_at: float  # margin at or above which a point decides MACHINE
    human_at: float  # at or below which it decides HUMAN
    machine_last: float  # at the last point: MACHINE at or above, else "not sure"


def decide(margins: Array, heard: Array, policy: Policy) -> tuple[bool | None, int]:
    """(machine?, ms) for one item; None at the end: not sure."""
    at = points()
    for n, m in enumerate(margins):
        if not heard[n]:
            continue  # before any voice the rules decide (INITIALSILENCE, fax, beeps)
        if m >= policy.machine_at:
            return True, at[n]
        if m <= policy.human_at:
            return False, at[n]
    return (True if margins[-1] >= policy.machine_last else None), at[-1]


def judge(items: list[Item], scores: list[Array], policy: Policy) -> tuple[float, float, int]:
    """(false machine, machines missed, people p95 ms), not sure counted as a person."""
    people = [
        decide(s, i.vectors[:, SPOKE] >= 0.1, policy)
        for i, s in zip(items, scores, strict=True)
        if not i.machine
    ]
    machines = [
        decide(s, i.vectors[:, SPOKE] >= 0.1, policy)
        for i, s in zip(items, scores, strict=True)
        if i.machine
    ]
    false = sum(v is True for v, _ in people) / len(people)
    missed = sum(v is not True for v, _ in machines) / len(machines)
    times = sorted(t for _, t in people)
    return false, missed, times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def choose(items: list[Item], scores: list[Array], limit: float, p95: int) -> Policy:
    grid = np.arange(-4.0, 5.01, 0.5)
    best: tuple[tuple[float, float], Policy] | None = None
    for hi in grid:
        for lo in grid[grid < hi]:
            for last in grid[(grid <= hi) & (grid >= 0.0)]:  # the end: not sure below 0
                policy = Policy(float(hi), float(lo), float(last))
                false, missed, people_p95 = judge(items, scores, policy)
                if false > limit or people_p95 > p95:
                    continue
                key = (missed, false)
                if best is None or key < best[0]:
                    best = (key, policy)
    if best is None:
        raise SystemExit("no thresholds meet the limits on tune")
    return best[1]


def per_kind(items: list[Item], scores: list[Array], policy: Policy) -> None:
    kinds = sorted({i.kind for i in items})
    for kind in kinds:
        group = [(i, s) for i, s in zip(items, scores, strict=True) if i.kind == kind]
        verdicts = [decide(s, i.vectors[:, SPOKE] >= 0.1, policy) for i, s in group]
        wrong = sum(
            (v is True) != i.machine for (i, _), (v, _) in zip(group, verdicts, strict=True)
        )
        print(f"  {kind:<12} wrong {wrong}/{len(group)}")


def write(model: Trees, policy: Policy, corpus: Path, count: int) -> None:
    def flat(values: Array) -> str:
        numbers = ", ".join(f"{v:.6g}" for v in values.ravel()) + ","
        return (
            "\n"
            + textwrap.fill(numbers, 96, initial_indent="    ", subsequent_indent="    ")
            + "\n"
        )

    names = "\n" + "".join(f"    {name!r},\n" for name in NAMES)
    MODULE.write_text(
        f'''"""The answer classifier's weights: generated by ``bench/amd_train.py --write``
from the tune half of {corpus.name} ({count} people and machines, seed {SEED}). Do not edit.

{len(model.root)} depth-2 trees over FEATURES (answer_features.NAMES): ROOT and ROOT_AT the
root split, SIDE and SIDE_AT each side's split (low side first), LEAF the four leaves (side,
then low/high). MACHINE_AT, HUMAN_AT and MACHINE_LAST: the decision thresholds on the margin.
"""

# fmt: off
FEATURES = ({names})
BASE = {model.base:.6g}
ROOT = ({flat(model.root)})
ROOT_AT = ({flat(model.root_at)})
SIDE = ({flat(model.side)})
SIDE_AT = ({flat(model.side_at)})
LEAF = ({flat(model.leaf)})
MACHINE_AT = {policy.machine_at}
HUMAN_AT = {policy.human_at}
MACHINE_LAST = {policy.machine_last}
# fmt: on
'''
    )
    print(f"wrote {MODULE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--false-machine", type=float, default=0.05)
    parser.add_argument("--people-p95", type=int, default=3500)
    parser.add_argument("--write", action="store_true", help="write answer_weights.py")
    args = parser.parse_args()
    items = load(args.corpus)
    print(f"tune: {len(items)} items, {len(points())} decision points each", file=sys.stderr)
    scores = out_of_fold(items)
    for limit in (0.015, 0.03, 0.05, 0.08):
        alternative = choose(items, scores, limit, args.people_p95)
        false, missed, p95 = judge(items, scores, alternative)
        print(f"  at most {limit:.1%} false: missed {missed:.1%} (false {false:.1%}, p95 {p95} ms)")
    policy = choose(items, scores, args.false_machine, args.people_p95)
    false, missed, p95 = judge(items, scores, policy)
    print(f"out-of-fold on tune: {policy}")
    print(f"  false machine {false:.1%}, machines missed {missed:.1%}, people p95 {p95} ms")
    per_kind(items, scores, policy)
    model = fit(*stack(items))
    if args.write:
        write(model, policy, args.corpus, len(items))


if __name__ == "__main__":
    main()
