"""How well the pitch movement at the end of the callee's first phrase tells people from machines
(issue 16, h-amd7): a person answers with a question ("Hello?", "Yes?"), whose pitch rises at its
end; a greeting's first clause ("Hello, this is Peter.") falls or stays level.

For the TUNE half's people and machines (and any ``--extra`` tune items), the ear's frames
(``dialer.telephony.ear.Ear``: voice, voicing and pitch per 20 ms) over the first 5 s, and from
them, as ``answer_features.Timeline`` computes it causally, the first utterance's pitch movement
at its end (``first_pitch_rise_st``, ``first_pitch_slope_st_s``). Printed: each one's AUC for
telling machines from people (0.5: no better than chance; under 0.5: machines lower, as a
question's rise predicts), over all and per kind of person against all machines, and the share
of items where it could be measured at all. The held-out half is never read.

    .venv/bin/python bench/amd_prosody.py [--corpus .cache/amd-corpus2] [--extra DIR ...]
"""

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.answer_features import NAMES, Timeline
from dialer.telephony.ear import Ear
from dialer.telephony.pcm import read_wav_8k

LIMIT_MS = 5000
FEATURES = ("first_pitch_rise_st", "first_pitch_slope_st_s")
Array = npt.NDArray[np.float64]


def measure(audio: bytes) -> tuple[float, ...]:
    """The features as the timeline has them at ``LIMIT_MS`` (the first phrase over by then),
    NaN where the first utterance had too few voiced frames to measure."""
    ear = Ear(AmdSettings())
    timeline = Timeline()
    fed = 0
    while timeline.frames * 20 < LIMIT_MS:
        piece = audio[fed : fed + 320] if fed < len(audio) else bytes(320)
        fed += 320
        for frame in ear.hear(piece):
            timeline.hear(frame)
    vector = timeline.vector()
    measured = timeline.first_pitch_measured
    return tuple(float(vector[NAMES.index(n)]) if measured else np.nan for n in FEATURES)


def auc(machine: Array, person: Array) -> float:
    """P(a machine's value > a person's), ties half."""
    if not len(machine) or not len(person):
        return np.nan
    both = np.concatenate([machine, person])
    ranks = both.argsort().argsort().astype(np.float64) + 1.0
    # average ranks for ties
    for value in np.unique(both):
        same = both == value
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    mine = ranks[: len(machine)].sum() - len(machine) * (len(machine) + 1) / 2
    return float(mine / (len(machine) * len(person)))


def rows_of(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "labels.csv").open() as f:
        return [
            r
            for r in csv.DictReader(f)
            if r["half"] == "tune" and r["label"] in ("human", "machine")
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--extra", type=Path, action="append", default=[])
    args = parser.parse_args()
    values: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    machines: list[tuple[float, ...]] = []
    for corpus in [args.corpus, *args.extra]:
        for row in rows_of(corpus):
            v = measure(read_wav_8k(corpus / row["file"]))
            values[row["kind"]].append(v)
            if row["label"] == "machine":
                machines.append(v)
    people = [v for kind, vs in values.items() if kind.startswith("h-") for v in vs]
    print(f"tune: {len(people)} people, {len(machines)} machines", file=sys.stderr)
    for n, name in enumerate(FEATURES):
        m = np.array([v[n] for v in machines])
        p = np.array([v[n] for v in people])
        mm, pm = m[~np.isnan(m)], p[~np.isnan(p)]
        print(
            f"{name}: AUC machines > people {auc(mm, pm):.3f}  measured: people "
            f"{len(pm)}/{len(p)}, machines {len(mm)}/{len(m)}; median people "
            f"{np.median(pm):+.2f}, machines {np.median(mm):+.2f}"
        )
        for kind in sorted(values):
            k = np.array([v[n] for v in values[kind]])
            k = k[~np.isnan(k)]
            if kind.startswith("h-"):
                line = f"AUC all machines > it {auc(mm, k):.3f}"
            else:
                line = f"AUC it > all people {auc(k, pm):.3f}"
            print(
                f"  {kind:<12} {line}  measured {len(k)}/{len(values[kind])}"
                f"  median {np.median(k) if len(k) else np.nan:+.2f}"
            )


if __name__ == "__main__":
    main()
